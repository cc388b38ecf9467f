"""``GET /v1/patients/{patient_id}/state?on=DATE&as_of=INSTANT`` end to end through HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders import outcome, procedure, surgery, void
from tests.support import FakeClock


def post(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post("/v1/events", json={"events": list(events)})
    assert response.status_code == 200, response.text


def family(body: dict[str, Any], region: str, name: str) -> dict[str, Any]:
    [reg] = [r for r in body["regions"] if r["region"] == region]
    [fam] = [f for f in reg["families"] if f["family"] == name]
    return fam


def test_the_state_shows_episodes_positions_counts_and_the_last_relief(client: TestClient) -> None:
    post(
        client,
        procedure("p1", on="2022-06-01"),
        procedure("p2", on="2024-09-02"),
        surgery("s1", on="2024-10-01"),
        procedure("p3", on="2024-12-02"),
        outcome("o1", of="p3", on="2024-12-16", relief=60),
        outcome("o2", of="p3", on="2025-02-03", relief=40),
        procedure("c1", on="2025-01-06", region="cervical", codes=["64479"]),
    )
    body = client.get("/v1/patients/p-001/state", params={"on": "2025-03-01"}).json()
    assert body["on"] == "2025-03-01"
    assert [r["region"] for r in body["regions"]] == ["cervical", "lumbar"]
    esi = family(body, "lumbar", "esi")
    assert [(e["number"], e["start"], e["reason"], e["procedures"]) for e in esi["episodes"]] == [
        (1, "2022-06-01", "first_procedure", 1),
        (2, "2024-09-02", "two_year_gap", 1),
        (3, "2024-12-02", "surgery", 1),
    ]
    assert [(p["event_id"], p["episode_number"], p["position"]) for p in esi["procedures"]] == [
        ("p1", 1, 1),
        ("p2", 2, 1),
        ("p3", 3, 1),
    ]
    # 6 months ending 2025-03-01 hold dates after 2024-09-01: p2 and p3; 12 months the same.
    assert (esi["count_6m"], esi["count_12m"]) == (2, 2)
    last = esi["last_procedure"]
    assert last["event_id"] == "p3"
    relief = last["relief"]
    assert relief["outcomes_counted"] == 2
    assert relief["latest_outcome"]["event_id"] == "o2"
    assert relief["earliest_outcome"]["event_id"] == "o1"
    assert relief["meets"] == {"30": True, "50": False, "80": False}
    assert relief["earliest_meets"] == {"30": True, "50": True, "80": False}
    assert esi["next"] == {
        "episode_number": 3,
        "new_episode": False,
        "reason": "surgery",
        "position": 2,
        "first_year": True,
        "first_year_count": 1,
    }


def test_on_leaves_out_later_procedures_and_outcomes(client: TestClient) -> None:
    post(
        client,
        procedure("p1", on="2025-01-06"),
        procedure("p2", on="2025-02-10"),
        outcome("o1", of="p1", on="2025-01-20", relief=90),
    )
    body = client.get("/v1/patients/p-001/state", params={"on": "2025-01-19"}).json()
    esi = family(body, "lumbar", "esi")
    assert [p["event_id"] for p in esi["procedures"]] == ["p1"]
    assert esi["last_procedure"]["relief"]["meets"] == {"30": None, "50": None, "80": None}
    assert esi["last_procedure"]["relief"]["latest_outcome"] is None


def test_on_defaults_to_today_from_the_service_clock(client: TestClient, clock: FakeClock) -> None:
    post(client, procedure("p1", on="2025-03-03"))
    body = client.get("/v1/patients/p-001/state").json()
    assert body["on"] == clock.today().isoformat()
    assert family(body, "lumbar", "esi")["count_6m"] == 1


def test_as_of_shows_the_state_as_it_was_known_then(client: TestClient, clock: FakeClock) -> None:
    post(client, procedure("p1", on="2025-01-06"), procedure("p2", on="2025-02-10"))
    known = clock.now()
    clock.advance(hours=2)
    post(client, void("v1", of="p2"))
    now = client.get("/v1/patients/p-001/state", params={"on": "2025-03-01"}).json()
    assert [p["event_id"] for p in family(now, "lumbar", "esi")["procedures"]] == ["p1"]
    assert now["voided_events"] == 1
    then = client.get(
        "/v1/patients/p-001/state",
        params={"on": "2025-03-01", "as_of": (known + timedelta(minutes=1)).isoformat()},
    ).json()
    assert [p["event_id"] for p in family(then, "lumbar", "esi")["procedures"]] == ["p1", "p2"]
    assert then["voided_events"] == 0


def test_a_patient_without_events_has_an_empty_state(client: TestClient) -> None:
    response = client.get("/v1/patients/nobody/state", params={"on": "2025-03-01"})
    assert response.status_code == 200
    assert response.json()["regions"] == []


def test_a_malformed_date_is_refused(client: TestClient) -> None:
    assert client.get("/v1/patients/p-001/state", params={"on": "2025-02-30"}).status_code == 422
