"""The compliance report over hand-built histories: violations in the guideline's terms,
unauthorized procedures, approvals now denied, the summary and the HTTP contract."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from tests.builders import outcome, parse, procedure, void
from tests.support import FakeClock, on_backends

ESI = "64483"


def report(client: TestClient, **params: Any) -> dict[str, Any]:
    query = {"policy_set": "nia", "from": "2024-01-01", "to": "2025-12-31"} | params
    response = client.get("/v1/reports/compliance", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def authorize(
    client: TestClient, authorization_id: str, on: str, patient_id: str = "p-001", **clinical: Any
) -> dict[str, Any]:
    facts = {
        "pain_score": 7,
        "active_conservative_therapy": True,
        "initial_criteria_met": True,
    } | clinical
    response = client.post(
        "/v1/authorizations",
        json={
            "authorization_id": authorization_id,
            "patient_id": patient_id,
            "policy_set": "nia",
            "procedure": {
                "date_of_service": on,
                "region": "lumbar",
                "codes": [{"cpt": ESI}],
                "laterality": "left",
                "levels": ["L4-L5"],
            },
            "clinical": facts,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def of_kind(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in body["findings"] if f["kind"] == kind]


@on_backends("sqlite", "postgres")
def test_an_esi_twelve_days_after_the_previous_one_breaks_the_two_week_interval(
    client: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=(ESI,)),
            procedure("e2", on="2025-01-18", codes=(ESI,)),
        )
    )
    body = report(client)
    violations = of_kind(body, "violation")
    assert [v["event_id"] for v in violations] == ["e2"]
    v = violations[0]
    assert v["rules"] == ["nia.esi.initial_interval"]
    assert v["message"].startswith(
        "12 days after the previous esi (2025-01-06); at least 14 days"
    ), v["message"]
    assert v["allowed_from"] == "2025-01-20"
    assert "would have been allowed from 2025-01-20" in v["message"]
    assert v["citations"][0]["quote"]
    assert v["citations"][0]["source"]
    assert body["summary"]["by_rule"]["nia.esi.initial_interval"] == 1


def test_an_esi_fourteen_days_after_the_previous_one_is_no_violation(
    client: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=(ESI,)),
            procedure("e2", on="2025-01-20", codes=(ESI,)),
        )
    )
    assert of_kind(report(client), "violation") == []


def annual_history(extra_on: str) -> list[dict[str, Any]]:
    """Three esi in the first year of the episode (2023), then four after it, two months
    apart, and one more on ``extra_on``."""
    dates = ["2023-01-02", "2023-03-01", "2023-06-01"]
    dates += ["2024-02-01", "2024-04-01", "2024-06-01", "2024-08-01", extra_on]
    return [procedure(f"e{i}", on=d, codes=(ESI,)) for i, d in enumerate(dates, 1)]


def test_a_fifth_esi_in_the_rolling_twelve_months_after_the_first_year_breaks_the_cap_of_4(
    client: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(parse(*annual_history("2024-10-01")))
    violations = of_kind(report(client), "violation")
    assert [v["event_id"] for v in violations] == ["e8"]
    v = violations[0]
    assert v["rules"] == ["nia.esi.annual_cap"]
    assert v["message"].startswith(
        "5th lumbar esi in the rolling 12 months ending 2024-10-01; limit 4"
    ), v["message"]
    # It fits once the 2024-02-01 injection leaves the window.
    assert v["allowed_from"] == "2025-02-01"


def test_the_same_esi_once_the_first_one_has_left_the_window_is_no_violation(
    client: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(parse(*annual_history("2025-02-01")))
    assert of_kind(report(client), "violation") == []


def test_a_voided_procedure_counts_for_nothing(client: TestClient, ledger: InjectionLedger) -> None:
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=(ESI,)),
            procedure("e2", on="2025-01-18", codes=(ESI,)),
        )
    )
    ledger.record_batch(parse(void("v1", of="e1")))
    body = report(client)
    assert of_kind(body, "violation") == []
    assert [f["event_id"] for f in of_kind(body, "unauthorized")] == ["e2"]


def test_a_procedure_without_a_covering_approved_authorization_is_unauthorized(
    client: TestClient, ledger: InjectionLedger
) -> None:
    assert authorize(client, "A-1", "2025-01-10")["decision"] == "eligible"
    ledger.record_batch(
        parse(
            procedure("inside", on="2025-03-09", codes=(ESI,), authorization_id="A-1"),
            procedure("early", on="2024-12-01", codes=(ESI,)),
            procedure("cervical", on="2025-02-01", region="cervical", codes=("64479",)),
        )
    )
    body = report(client)
    unauthorized = {f["event_id"]: f for f in of_kind(body, "unauthorized")}
    assert set(unauthorized) == {"early", "cervical"}
    assert unauthorized["early"]["rules"] == ["authorization.required"]
    assert "no approved nia authorization" in unauthorized["early"]["message"]


def test_the_authorization_window_runs_from_7_days_before_to_60_days_after(
    client: TestClient, ledger: InjectionLedger
) -> None:
    authorize(client, "A-1", "2025-01-10")
    ledger.record_batch(
        parse(
            procedure("d-7", on="2025-01-03", codes=(ESI,), patient_id="p-001"),
            procedure("d+60", on="2025-03-11", codes=(ESI,), patient_id="p-001")
            | {"date_of_service": "2025-03-11"},
        )
    )
    # 2025-03-11 is today + 1 on the fake clock: accepted. 2025-01-02 is 8 days before.
    ledger.record_batch(parse(procedure("d-8", on="2025-01-02", codes=(ESI,))))
    unauthorized = [f["event_id"] for f in of_kind(report(client), "unauthorized")]
    assert unauthorized == ["d-8"]


def test_an_approval_that_late_claims_turn_into_a_denial_is_reported_with_those_claims(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=(ESI,), laterality="left", levels=["L4-L5"]),
            outcome("o1", of="e1", on="2025-01-20", relief=60),
        )
    )
    clock.advance(hours=1)
    decided = authorize(client, "A-2", "2025-02-03")
    assert decided["decision"] == "eligible", decided
    clock.advance(hours=1)
    # A claim for an esi on 2025-01-27, a week before the authorized date, arrives late.
    ledger.record_batch(parse(procedure("late", on="2025-01-27", codes=(ESI,))))
    body = report(client)
    denied = of_kind(body, "approval_now_denied")
    assert [d["event_id"] for d in denied] == ["A-2"]
    assert "nia.esi.initial_interval" in denied[0]["rules"]
    changes = denied[0]["details"]["recorded_after_decision"]
    assert [c["event_id"] for c in changes] == ["late"]
    assert body["summary"]["by_kind"]["approval_now_denied"] == 1


def test_as_of_judges_with_only_what_was_recorded_by_then(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    ledger.record_batch(parse(procedure("e1", on="2025-01-06", codes=(ESI,))))
    before = clock.now()
    clock.advance(hours=1)
    ledger.record_batch(parse(procedure("e2", on="2025-01-18", codes=(ESI,))))
    assert [v["event_id"] for v in of_kind(report(client), "violation")] == ["e2"]
    then = report(client, as_of=before.isoformat())
    assert of_kind(then, "violation") == []
    assert [f["event_id"] for f in of_kind(then, "unauthorized")] == ["e1"]


def test_the_summary_counts_by_family_region_month_and_provider_with_rates(
    client: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=(ESI,), provider_id="npi-1"),
            procedure("e2", on="2025-01-18", codes=(ESI,), provider_id="npi-2"),
            procedure("e3", on="2025-02-20", codes=(ESI,), provider_id="npi-2"),
        )
    )
    s = report(client)["summary"]
    assert s["procedures"] == 3
    assert s["by_kind"] == {"violation": 1, "unauthorized": 3, "approval_now_denied": 0}
    assert s["by_family"]["esi"] == {"unauthorized": 3, "violation": 1}
    assert s["by_region"]["lumbar"]["violation"] == 1
    assert s["by_month"]["2025-01"] == {"unauthorized": 2, "violation": 1}
    assert s["by_provider"]["npi-2"] == {"unauthorized": 2, "violation": 1}
    rate = s["violation_rate"]["by_family"]["esi"]
    assert rate == {"procedures": 3, "with_violation": 1, "rate": round(1 / 3, 4)}
    assert s["violation_rate"]["reference"]["exceeding"] == 80_419
    assert s["worst_patients"][0] == {"patient_id": "p-001", "findings": 4}


def test_findings_are_paginated_in_a_stable_order(
    client: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(
        parse(*[procedure(f"e{i}", on=f"2025-01-{i + 10:02d}", codes=(ESI,)) for i in range(5)])
    )
    whole = report(client, limit=1000)["findings"]
    pages: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = report(client, offset=offset, limit=3)
        pages.extend(page["findings"])
        offset = page["next_offset"]
    assert pages == whole
    keys = [(f["date_of_service"], f["patient_id"], f["event_id"], f["kind"]) for f in whole]
    assert keys == sorted(keys)


def test_an_unknown_policy_set_or_a_backwards_period_is_a_422(client: TestClient) -> None:
    r = client.get(
        "/v1/reports/compliance",
        params={"policy_set": "nope", "from": "2025-01-01", "to": "2025-02-01"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "policy_set"
    r = client.get(
        "/v1/reports/compliance",
        params={"policy_set": "nia", "from": "2025-02-01", "to": "2025-01-01"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "to"
