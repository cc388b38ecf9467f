"""History: the patient's events in recording order, filtered by region, paginated, and as
known at an instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import outcome, pathology, procedure, surgery, void
from tests.support import FakeClock


def post(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post("/v1/events", json={"events": list(events)})
    assert response.status_code == 200, response.text


def history(client: TestClient, patient_id: str = "p-001", **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/patients/{patient_id}/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [e["event_id"] for e in body["events"]]


@pytest.fixture
def three_regions(client: TestClient, clock: FakeClock) -> TestClient:
    """Five events over three regions in two batches an hour apart."""
    post(
        client,
        procedure("c-1", region="cervical", codes=["64479", "64480"], on="2025-02-01"),
        procedure("l-1", region="lumbar", on="2025-02-02"),
        pathology("l-path", region="lumbar", on="2025-01-15", icd10="M51.16"),
    )
    clock.advance(hours=1)
    post(
        client,
        surgery(
            "t-surg", region="thoracic", on="2025-02-10", kind="decompression", levels=["T7-T8"]
        ),
        outcome("c-out", of="c-1", on="2025-02-15", relief=80, functional_improvement=True),
    )
    return client


def test_history_lists_events_in_recording_order_across_regions(
    three_regions: TestClient,
) -> None:
    body = history(three_regions)
    assert ids(body) == ["c-1", "l-1", "l-path", "t-surg", "c-out"]
    assert [e["region"] for e in body["events"]] == [
        "cervical",
        "lumbar",
        "lumbar",
        "thoracic",
        "cervical",
    ]
    assert [e["type"] for e in body["events"]] == [
        "procedure_performed",
        "procedure_performed",
        "pathology_diagnosed",
        "surgery_performed",
        "outcome_reported",
    ]
    recorded = [datetime.fromisoformat(e["recorded_at"]) for e in body["events"]]
    assert recorded == sorted(recorded)
    assert recorded[2] < recorded[3]


def test_history_shows_each_event_type_with_its_clinical_fields(
    three_regions: TestClient,
) -> None:
    events = {e["event_id"]: e["fields"] for e in history(three_regions)["events"]}
    assert events["l-path"] == {"date": "2025-01-15", "icd10": "M51.16"}
    assert events["t-surg"] == {"date": "2025-02-10", "levels": ["T7-T8"], "kind": "decompression"}
    assert events["c-out"] == {
        "procedure_event_id": "c-1",
        "assessed_on": "2025-02-15",
        "pain_relief_percent": 80.0,
        "functional_improvement": True,
    }
    assert events["c-1"]["codes"] == [{"cpt": "64479", "units": 1}, {"cpt": "64480", "units": 1}]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        pytest.param(
            "cervical", ["c-1", "c-out"], id="the cervical history has its procedure and outcome"
        ),
        pytest.param(
            "lumbar", ["l-1", "l-path"], id="the lumbar history has its procedure and pathology"
        ),
        pytest.param("thoracic", ["t-surg"], id="the thoracic history has its surgery"),
    ],
)
def test_history_narrowed_to_a_region_shows_only_that_region(
    three_regions: TestClient, region: str, expected: list[str]
) -> None:
    body = history(three_regions, region=region)
    assert ids(body) == expected
    assert body["region"] == region
    assert body["total"] == len(expected)


def test_history_refuses_an_unknown_region(three_regions: TestClient) -> None:
    response = three_regions.get("/v1/patients/p-001/history", params={"region": "sacral"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "region"


@pytest.mark.parametrize(
    ("offset", "limit", "page", "next_offset"),
    [
        pytest.param(0, 2, ["c-1", "l-1"], 2, id="the first page links to the second"),
        pytest.param(2, 2, ["l-path", "t-surg"], 4, id="a middle page links to the next"),
        pytest.param(4, 2, ["c-out"], None, id="the last page has no next page"),
        pytest.param(
            0,
            5,
            ["c-1", "l-1", "l-path", "t-surg", "c-out"],
            None,
            id="a page exactly the size of the history has no next page",
        ),
        pytest.param(9, 2, [], None, id="a page past the end is empty"),
    ],
)
def test_history_is_paginated(
    three_regions: TestClient,
    offset: int,
    limit: int,
    page: list[str],
    next_offset: int | None,
) -> None:
    body = history(three_regions, offset=offset, limit=limit)
    assert ids(body) == page
    assert body["total"] == 5
    assert (body["offset"], body["limit"], body["next_offset"]) == (offset, limit, next_offset)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"offset": -1}],
    ids=["a zero limit is refused", "a limit over 1000 is refused", "a negative offset is refused"],
)
def test_history_refuses_bad_paging(three_regions: TestClient, params: dict[str, int]) -> None:
    assert three_regions.get("/v1/patients/p-001/history", params=params).status_code == 422


def test_a_void_shows_on_the_voided_event_only_from_when_it_was_recorded(
    three_regions: TestClient, clock: FakeClock
) -> None:
    before_void = clock.now()
    clock.advance(minutes=5)
    post(three_regions, void("void-1", of="l-1", reason="duplicate entry"))
    after_void = clock.now()

    def voided_by(as_of: datetime) -> dict[str, str | None]:
        body = history(three_regions, as_of=as_of.isoformat(), region="lumbar")
        return {e["event_id"]: e["voided_by"] for e in body["events"]}

    assert voided_by(before_void) == {"l-1": None, "l-path": None}
    assert voided_by(after_void) == {"l-1": "void-1", "l-path": None, "void-1": None}


def test_history_as_of_reports_the_instant_asked_for(three_regions: TestClient) -> None:
    body = history(three_regions, as_of="2025-03-10T14:45:00Z")
    assert ids(body) == ["c-1", "l-1", "l-path"]
    assert datetime.fromisoformat(body["as_of"]) == datetime.fromisoformat(
        "2025-03-10T14:45:00+00:00"
    )


@pytest.mark.parametrize(
    ("event", "family", "approach"),
    [
        pytest.param(
            procedure("x", codes=["62323"]),
            "esi",
            "interlaminar",
            id="an interlaminar esi gets its approach from the code",
        ),
        pytest.param(
            procedure("x", codes=["62323"], approach="caudal"),
            "esi",
            "caudal",
            id="an approach sent by the client is kept",
        ),
        pytest.param(
            procedure("x", codes=["62322"], indication="intrathecal_trial"),
            "intrathecal_trial",
            None,
            id="62322 for an intrathecal trial is a trial without an esi approach",
        ),
        pytest.param(
            procedure("x", codes=["64493", "64494"]),
            "facet",
            None,
            id="a facet injection has no derived approach",
        ),
    ],
)
def test_history_shows_the_derived_family_and_approach(
    client: TestClient, event: dict[str, Any], family: str, approach: str | None
) -> None:
    post(client, event)
    (item,) = history(client)["events"]
    assert (item["fields"]["family"], item["fields"]["approach"]) == (family, approach)


def test_histories_of_two_patients_are_separate(three_regions: TestClient) -> None:
    post(three_regions, procedure("c-1", patient_id="p-002", region="thoracic", codes=["64479"]))
    assert ids(history(three_regions, "p-002")) == ["c-1"]
    assert len(ids(history(three_regions, "p-001"))) == 5
