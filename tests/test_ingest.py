"""Bad input gets a clear 422 naming the event's index and field, and loses nothing.

Every case posts a batch whose first event is valid and whose second breaks one rule of the
contract, on top of a seeded patient, and asserts the status, the error (index, field,
message) and that the store did not change. The other side of each rule (what is accepted)
is tested next to it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from tests.builders import outcome, pathology, procedure, surgery, void
from tests.support import FakeClock, store_size

TODAY = date(2025, 3, 10)  # the clock fixture's today (UTC)
ok = procedure("proc-new", on="2025-03-07", patient_id="p-001")


@pytest.fixture
def seeded(client: TestClient, clock: FakeClock) -> TestClient:
    """p-001 has a lumbar procedure with an outcome, and a cervical procedure voided;
    p-002 has a lumbar procedure."""
    assert clock.today() == TODAY
    response = client.post(
        "/v1/events",
        json={
            "events": [
                procedure("proc-1", on="2025-03-03"),
                outcome("out-1", of="proc-1", on="2025-03-05"),
                procedure("proc-2", on="2025-03-01", region="cervical", codes=["64479"]),
                void("void-2", of="proc-2"),
                procedure("proc-9", on="2025-03-02", patient_id="p-002"),
            ]
        },
    )
    assert response.status_code == 200, response.text
    return client


def post(client: TestClient, *events: dict[str, Any]) -> Any:
    return client.post("/v1/events", json={"events": list(events)})


def history_ids(client: TestClient, patient_id: str) -> list[tuple[str, str | None]]:
    body = client.get(f"/v1/patients/{patient_id}/history", params={"limit": 1000}).json()
    assert body["total"] == len(body["events"])
    return [(e["event_id"], e["voided_by"]) for e in body["events"]]


def assert_refused_and_nothing_stored(
    client: TestClient,
    ledger: InjectionLedger,
    events: list[dict[str, Any]],
    index: int | None,
    field: str,
    message: str,
    status: int = 422,
) -> None:
    before = store_size(ledger)
    histories = {p: history_ids(client, p) for p in ("p-001", "p-002", "p-003")}
    response = post(client, *events)
    assert response.status_code == status, response.text
    body = response.json()
    matching = [e for e in body["detail"] if e.get("index") == index and e["field"] == field]
    assert matching, f"no error for index {index} field {field!r} in {body['detail']}"
    assert any(message in e["message"] for e in matching), body["detail"]
    where = f"events[{index}].{field}" if index is not None else field
    assert where in body["message"]
    assert store_size(ledger) == before
    assert {p: history_ids(client, p) for p in histories} == histories


INVALID: list[Any] = [
    pytest.param(
        {"type": "procedure_done", "event_id": "x", "patient_id": "p-001"},
        "type",
        "unknown event type 'procedure_done'",
        id="an unknown event type is refused",
    ),
    pytest.param(
        {"event_id": "x", "patient_id": "p-001", "region": "lumbar"},
        "type",
        "missing event type",
        id="an event without a type is refused",
    ),
    pytest.param(
        procedure("proc-x", colour="blue"),
        "colour",
        "unknown field",
        id="an extra field is refused",
    ),
    pytest.param(
        outcome("out-x", family="esi"),
        "family",
        "unknown field",
        id="a field of another event type is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=[{"cpt": "64483", "modifier": "50"}]),
        "codes.0.modifier",
        "unknown field",
        id="an unknown field inside a code is refused",
    ),
    pytest.param(
        procedure("proc-x", region=None),
        "region",
        "Field required",
        id="a procedure without a region is refused",
    ),
    pytest.param(
        procedure("proc-x", region="sacral"),
        "region",
        "'cervical', 'thoracic' or 'lumbar'",
        id="a region outside the vocabulary is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["99999"]),
        "codes",
        "unknown CPT code '99999'",
        id="an unknown CPT code is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=[]),
        "codes",
        "at least 1 item",
        id="a procedure without codes is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=[("64483", 0)]),
        "codes.0.units",
        "greater than or equal to 1",
        id="zero units are refused",
    ),
    pytest.param(
        procedure("proc-x", region="cervical", codes=["64483"]),
        "codes",
        "CPT 64483 is not allowed in region cervical (only lumbar)",
        id="a lumbar code in the cervical region is refused",
    ),
    pytest.param(
        procedure("proc-x", region="lumbar", codes=["64490"]),
        "codes",
        "CPT 64490 is not allowed in region lumbar (only cervical or thoracic)",
        id="a cervical-thoracic code in the lumbar region is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["64483", "64493"]),
        "codes",
        "exactly one primary code is required, got 2",
        id="two primary codes are refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["64484"]),
        "codes",
        "exactly one primary code is required, got 0",
        id="an add-on alone is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["64493", "64484"]),
        "codes",
        "add-on code 64484 needs its primary code 64483",
        id="an add-on without its own primary is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["62324"], region="cervical"),
        "indication",
        "CPT 62324 is accepted only with indication 'intrathecal_trial'",
        id="62324 without indication intrathecal_trial is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["62327"], indication="chronic_pain"),
        "indication",
        "CPT 62327 is accepted only with indication 'intrathecal_trial'",
        id="62327 with another indication is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["64999"]),
        "indication",
        "CPT 64999 is accepted only with indication 'facet_cyst_aspiration'",
        id="64999 without indication facet_cyst_aspiration is refused",
    ),
    pytest.param(
        procedure("proc-x", codes=["20930"], indication="synovial_cyst"),
        "indication",
        "CPT 20930 is accepted only with indication 'stem_cell'",
        id="20930 without indication stem_cell is refused",
    ),
    pytest.param(
        procedure("proc-x", on=TODAY + timedelta(days=2)),
        "date_of_service",
        "2025-03-12 is in the future (latest accepted is 2025-03-11",
        id="a procedure two days ahead is refused",
    ),
    pytest.param(
        outcome("out-x", of="proc-1", on=TODAY + timedelta(days=2)),
        "assessed_on",
        "is in the future",
        id="an outcome assessed two days ahead is refused",
    ),
    pytest.param(
        surgery("surg-x", on=TODAY + timedelta(days=2)),
        "date",
        "is in the future",
        id="a surgery two days ahead is refused",
    ),
    pytest.param(
        pathology("path-x", on=TODAY + timedelta(days=2)),
        "date",
        "is in the future",
        id="a pathology diagnosed two days ahead is refused",
    ),
    pytest.param(
        procedure("proc-x", on="2025-02-30"),
        "date_of_service",
        "valid date",
        id="an impossible date is refused",
    ),
    pytest.param(
        outcome("out-x", of="proc-1", relief=100.5),
        "pain_relief_percent",
        "less than or equal to 100",
        id="relief above 100 percent is refused",
    ),
    pytest.param(
        outcome("out-x", of="proc-1", relief=-1),
        "pain_relief_percent",
        "greater than or equal to 0",
        id="negative relief is refused",
    ),
    pytest.param(
        outcome("out-x", of="proc-1", on="2025-03-02"),
        "assessed_on",
        "assessed_on 2025-03-02 is before the procedure's date of service 2025-03-03",
        id="an outcome dated before its procedure is refused",
    ),
    pytest.param(
        outcome("out-x", of="proc-404"),
        "procedure_event_id",
        "'proc-404' names no event of this patient",
        id="an outcome of an unknown event is refused",
    ),
    pytest.param(
        outcome("out-x", of="proc-9"),
        "procedure_event_id",
        "'proc-9' names no event of this patient",
        id="an outcome of another patient's procedure is refused",
    ),
    pytest.param(
        outcome("out-x", of="out-1"),
        "procedure_event_id",
        "'out-1' names a outcome_reported event of this patient, not a recorded procedure",
        id="an outcome of an outcome is refused",
    ),
    pytest.param(
        void("void-x", of="proc-404"),
        "voided_event_id",
        "'proc-404' names no event of this patient",
        id="voiding an unknown event is refused",
    ),
    pytest.param(
        void("void-x", of="proc-9"),
        "voided_event_id",
        "'proc-9' names no event of this patient",
        id="voiding another patient's event is refused",
    ),
    pytest.param(
        void("void-x", of="void-2"),
        "voided_event_id",
        "a void cannot be voided",
        id="voiding a void is refused",
    ),
    pytest.param(
        void("void-x", of="proc-2"),
        "voided_event_id",
        "'proc-2' is already voided by 'void-2'",
        id="voiding an already voided event is refused",
    ),
    pytest.param(
        void("void-x", of="proc-1", reason=""),
        "reason",
        "at least 1 character",
        id="a void without a reason is refused",
    ),
    pytest.param(
        procedure("proc-x", patient_id="p 001"),
        "patient_id",
        "should match pattern",
        id="a patient_id with a space is refused",
    ),
    pytest.param(
        procedure("proc-x", patient_id="p/001"),
        "patient_id",
        "should match pattern",
        id="a patient_id with a slash is refused",
    ),
    pytest.param(
        procedure("proc-x", patient_id=""),
        "patient_id",
        "at least 1 character",
        id="an empty patient_id is refused",
    ),
    pytest.param(
        procedure("proc-x", patient_id="p" * 65),
        "patient_id",
        "at most 64 characters",
        id="a 65-character patient_id is refused",
    ),
    pytest.param(
        procedure(""), "event_id", "at least 1 character", id="an empty event_id is refused"
    ),
    pytest.param(
        procedure("e" * 129),
        "event_id",
        "at most 128 characters",
        id="a 129-character event_id is refused",
    ),
]


@pytest.mark.parametrize(("bad", "field", "message"), INVALID)
def test_a_bad_event_is_refused_naming_its_index_and_field_and_nothing_is_stored(
    seeded: TestClient, ledger: InjectionLedger, bad: dict[str, Any], field: str, message: str
) -> None:
    assert_refused_and_nothing_stored(seeded, ledger, [ok, bad], 1, field, message)


ACCEPTED: list[Any] = [
    pytest.param(
        procedure("proc-x", on=TODAY + timedelta(days=1)),
        id="a procedure dated tomorrow is accepted (one day of grace)",
    ),
    pytest.param(procedure("proc-x", on=TODAY), id="a procedure dated today is accepted"),
    pytest.param(
        outcome("out-x", of="proc-1", on=TODAY + timedelta(days=1)),
        id="an outcome assessed tomorrow is accepted",
    ),
    pytest.param(
        surgery("surg-x", on=TODAY + timedelta(days=1)), id="a surgery dated tomorrow is accepted"
    ),
    pytest.param(
        pathology("path-x", on=TODAY + timedelta(days=1)),
        id="a pathology dated tomorrow is accepted",
    ),
    pytest.param(outcome("out-x", of="proc-1", relief=100), id="100 percent relief is accepted"),
    pytest.param(outcome("out-x", of="proc-1", relief=0), id="0 percent relief is accepted"),
    pytest.param(
        outcome("out-x", of="proc-1", on="2025-03-03"),
        id="an outcome assessed on the day of its procedure is accepted",
    ),
    pytest.param(
        outcome("out-x", of="proc-2", on="2025-03-03"),
        id="an outcome of a voided procedure is accepted",
    ),
    pytest.param(void("void-x", of="out-1"), id="voiding an outcome is accepted"),
    pytest.param(
        procedure("proc-x", patient_id="A.b_c-9"),
        id="a patient_id of letters digits dot underscore and dash is accepted",
    ),
    pytest.param(
        procedure("proc-x", patient_id="p" * 64), id="a 64-character patient_id is accepted"
    ),
    pytest.param(procedure("e" * 128), id="a 128-character event_id is accepted"),
    pytest.param(
        procedure("proc-x", codes=["62320"], region="thoracic", indication="intrathecal_trial"),
        id="62320 with indication intrathecal_trial is accepted",
    ),
    pytest.param(
        procedure("proc-x", codes=["64999"], indication="facet_cyst_aspiration"),
        id="64999 with indication facet_cyst_aspiration is accepted",
    ),
    pytest.param(
        procedure("proc-x", codes=["20930"], indication="stem_cell"),
        id="20930 with indication stem_cell is accepted",
    ),
]


@pytest.mark.parametrize("good", ACCEPTED)
def test_the_other_side_of_each_rule_is_accepted(
    seeded: TestClient, ledger: InjectionLedger, good: dict[str, Any]
) -> None:
    before = store_size(ledger)
    response = post(seeded, ok, good)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["recorded", "recorded"]
    assert store_size(ledger) > before
    ids = [i for i, _ in history_ids(seeded, good["patient_id"])]
    assert good["event_id"] in ids


def test_the_future_is_judged_by_the_clock_in_utc(
    seeded: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    clock.advance(hours=9, minutes=29, seconds=59)  # 2025-03-10T23:59:59Z, still the 10th
    assert_refused_and_nothing_stored(
        seeded,
        ledger,
        [ok, procedure("proc-x", on="2025-03-12")],
        1,
        "date_of_service",
        "is in the future",
    )
    clock.advance(seconds=1)  # midnight UTC: the 11th, so the 12th is within the grace day
    assert post(seeded, procedure("proc-x", on="2025-03-12")).status_code == 200


def test_every_bad_event_of_a_batch_is_named(seeded: TestClient, ledger: InjectionLedger) -> None:
    before = store_size(ledger)
    response = post(
        seeded,
        ok,
        procedure("a", codes=["99999"]),
        outcome("b", of="nope"),
        {"type": "bogus", "event_id": "c", "patient_id": "p-001"},
    )
    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in response.json()["detail"]] == [
        (3, "type")
    ]  # schema errors are reported before the ledger's own checks run
    response = post(seeded, ok, procedure("a", codes=["99999"]), outcome("b", of="nope"))
    assert [(e["index"], e["field"]) for e in response.json()["detail"]] == [
        (1, "codes"),
        (2, "procedure_event_id"),
    ]
    assert store_size(ledger) == before


def test_an_empty_batch_is_refused(seeded: TestClient, ledger: InjectionLedger) -> None:
    assert_refused_and_nothing_stored(seeded, ledger, [], None, "events", "at least 1 item")


def test_a_batch_of_1001_events_is_refused(seeded: TestClient, ledger: InjectionLedger) -> None:
    events = [procedure(f"bulk-{i}") for i in range(1001)]
    assert_refused_and_nothing_stored(seeded, ledger, events, None, "events", "at most 1000 items")


def test_a_batch_of_1000_events_is_accepted(seeded: TestClient, ledger: InjectionLedger) -> None:
    events = [procedure(f"bulk-{i}", patient_id=f"bulk-{i % 7}") for i in range(1000)]
    response = post(seeded, *events)
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 1000
    total = sum(len(history_ids(seeded, f"bulk-{p}")) for p in range(7))
    assert total == 1000


def test_a_batch_without_an_events_list_is_refused(
    seeded: TestClient, ledger: InjectionLedger
) -> None:
    before = store_size(ledger)
    response = seeded.post("/v1/events", json={"event": [ok]})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["detail"]} == {"events", "event"}
    assert store_size(ledger) == before


def test_a_batch_over_several_patients_and_regions_with_one_bad_event_stores_nothing(
    seeded: TestClient, ledger: InjectionLedger
) -> None:
    events = [
        procedure("new-1", patient_id="p-003", region="cervical", codes=["64479"]),
        procedure("new-2", patient_id="p-003", region="lumbar"),
        outcome("new-3", of="proc-9", patient_id="p-002"),
        surgery("new-4", patient_id="p-001", region="thoracic"),
        void("new-5", of="proc-1", patient_id="p-001"),
        outcome("new-6", of="new-2", patient_id="p-003", on="2025-03-01"),  # before 03-03
    ]
    assert_refused_and_nothing_stored(
        seeded, ledger, events, 5, "assessed_on", "is before the procedure's date of service"
    )
    fixed = [*events[:5], outcome("new-6", of="new-2", patient_id="p-003")]
    assert post(seeded, *fixed).status_code == 200
    assert history_ids(seeded, "p-003") == [("new-1", None), ("new-2", None), ("new-6", None)]


def test_an_outcome_and_a_void_may_name_a_procedure_earlier_in_the_same_batch(
    seeded: TestClient,
) -> None:
    response = post(
        seeded,
        procedure("proc-3", on="2025-03-04"),
        outcome("out-3", of="proc-3", on="2025-03-06"),
        void("void-3", of="proc-3"),
        void("void-4", of="out-3"),
    )
    assert response.status_code == 200, response.text
    assert history_ids(seeded, "p-001")[-4:] == [
        ("proc-3", "void-3"),
        ("out-3", "void-4"),
        ("void-3", None),
        ("void-4", None),
    ]


@pytest.mark.parametrize(
    ("events", "index", "field", "message"),
    [
        pytest.param(
            [outcome("out-3", of="proc-3"), procedure("proc-3")],
            0,
            "procedure_event_id",
            "'proc-3' names no event of this patient",
            id="an outcome naming a procedure later in the batch is refused",
        ),
        pytest.param(
            [void("void-3", of="proc-3"), procedure("proc-3")],
            0,
            "voided_event_id",
            "'proc-3' names no event of this patient",
            id="a void naming an event later in the batch is refused",
        ),
        pytest.param(
            [procedure("proc-3"), void("void-3", of="proc-3"), void("void-4", of="proc-3")],
            2,
            "voided_event_id",
            "'proc-3' is already voided by 'void-3'",
            id="voiding twice in one batch is refused",
        ),
        pytest.param(
            [procedure("proc-3"), void("void-3", of="proc-3"), void("void-4", of="void-3")],
            2,
            "voided_event_id",
            "a void cannot be voided",
            id="voiding a void of the same batch is refused",
        ),
        pytest.param(
            [procedure("proc-3", on="2025-03-05"), outcome("out-3", of="proc-3", on="2025-03-04")],
            1,
            "assessed_on",
            "before the procedure's date of service 2025-03-05",
            id="an outcome before a procedure of the same batch is refused",
        ),
    ],
)
def test_references_within_a_batch_follow_the_same_rules(
    seeded: TestClient,
    ledger: InjectionLedger,
    events: list[dict[str, Any]],
    index: int,
    field: str,
    message: str,
) -> None:
    assert_refused_and_nothing_stored(seeded, ledger, events, index, field, message)


def test_the_same_event_twice_in_one_batch_is_recorded_once(
    seeded: TestClient, ledger: InjectionLedger
) -> None:
    response = post(seeded, procedure("proc-3"), procedure("proc-3"))
    assert response.json()["results"] == [
        {"event_id": "proc-3", "status": "recorded"},
        {"event_id": "proc-3", "status": "duplicate"},
    ]
    assert [i for i, _ in history_ids(seeded, "p-001")].count("proc-3") == 1


def test_one_event_id_with_two_contents_in_one_batch_is_a_conflict(
    seeded: TestClient, ledger: InjectionLedger
) -> None:
    assert_refused_and_nothing_stored(
        seeded,
        ledger,
        [procedure("proc-3"), procedure("proc-3", on="2025-03-04")],
        1,
        "event_id",
        "already names an event of this patient with different content",
        409,
    )


def test_an_event_id_is_unique_per_patient_across_regions(
    seeded: TestClient, ledger: InjectionLedger
) -> None:
    assert_refused_and_nothing_stored(
        seeded,
        ledger,
        [procedure("proc-1", region="cervical", codes=["64479"])],
        0,
        "event_id",
        "different content",
        409,
    )


def test_the_same_event_id_for_two_patients_names_two_events(seeded: TestClient) -> None:
    response = post(seeded, procedure("proc-1", patient_id="p-003"))
    assert response.json()["results"] == [{"event_id": "proc-1", "status": "recorded"}]


def test_a_resend_with_defaults_spelled_out_is_a_duplicate(
    seeded: TestClient, ledger: InjectionLedger
) -> None:
    before = store_size(ledger)
    spelled = procedure("proc-1", on="2025-03-03", codes=[("64483", 1)], intent="therapeutic")
    response = post(seeded, spelled)
    assert response.json()["results"] == [{"event_id": "proc-1", "status": "duplicate"}]
    assert store_size(ledger) == before
