"""End to end through HTTP on memory, SQLite and PostgreSQL: record, resend, conflict, void,
history, and history as it was known at an instant between two writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from tests.builders import outcome, procedure, void
from tests.support import Backend, FakeClock, store_size


def post(client: TestClient, *events: dict[str, Any]) -> Any:
    return client.post("/v1/events", json={"events": list(events)})


def history(client: TestClient, patient_id: str = "p-001", **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/patients/{patient_id}/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_record_resend_conflict_void_then_history(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    recorded = post(client, procedure("proc-1", on="2025-03-03"))
    assert recorded.status_code == 200
    assert recorded.json() == {"results": [{"event_id": "proc-1", "status": "recorded"}]}
    first_write = clock.now()
    size = store_size(ledger)

    clock.advance(hours=1)
    resent = post(client, procedure("proc-1", on="2025-03-03"))
    assert resent.status_code == 200
    assert resent.json() == {"results": [{"event_id": "proc-1", "status": "duplicate"}]}
    assert store_size(ledger) == size

    conflicting = post(client, outcome("out-1", of="proc-1"), procedure("proc-1", on="2025-03-04"))
    assert conflicting.status_code == 409
    assert conflicting.json()["detail"] == [
        {
            "index": 1,
            "field": "event_id",
            "event_id": "proc-1",
            "message": "event_id 'proc-1' already names an event of this patient with different "
            "content",
        }
    ]
    assert store_size(ledger) == size  # not even the valid outcome before it

    clock.advance(hours=1)
    voided = post(client, void("void-1", of="proc-1", reason="wrong patient"))
    assert voided.json() == {"results": [{"event_id": "void-1", "status": "recorded"}]}

    body = history(client)
    assert body["total"] == 2
    proc, void_ = body["events"]
    assert (proc["type"], proc["event_id"], proc["region"]) == (
        "procedure_performed",
        "proc-1",
        "lumbar",
    )
    assert proc["voided_by"] == "void-1"
    assert at(proc["recorded_at"]) == first_write
    assert proc["fields"]["date_of_service"] == "2025-03-03"
    assert proc["fields"]["family"] == "esi"
    assert proc["fields"]["approach"] == "transforaminal"
    assert proc["fields"]["codes"] == [{"cpt": "64483", "units": 1}]
    assert (void_["type"], void_["event_id"], void_["region"]) == (
        "event_voided",
        "void-1",
        "lumbar",
    )
    assert void_["fields"] == {"voided_event_id": "proc-1", "reason": "wrong patient"}
    assert void_["voided_by"] is None
    assert at(void_["recorded_at"]) == clock.now()


def test_history_as_of_an_instant_between_two_writes_sees_only_the_first(
    client: TestClient, clock: FakeClock
) -> None:
    post(client, procedure("proc-1", on="2025-03-03"))
    first = clock.now()
    clock.advance(days=2)
    between = clock.now()
    clock.advance(days=2)
    post(client, outcome("out-1", of="proc-1", on="2025-03-12"), void("void-1", of="proc-1"))
    second = clock.now()

    def ids(as_of: datetime | None) -> list[tuple[str, str | None]]:
        params = {"as_of": as_of.isoformat()} if as_of else {}
        return [(e["event_id"], e["voided_by"]) for e in history(client, **params)["events"]]

    assert ids(between) == [("proc-1", None)]
    assert ids(first) == [("proc-1", None)]  # recorded at or before the instant
    assert ids(second) == [("proc-1", "void-1"), ("out-1", None), ("void-1", None)]
    assert ids(None) == ids(second)
    before_anything = first.replace(year=2024)
    assert ids(before_anything) == []


def test_as_of_in_another_time_zone_means_the_same_instant(
    client: TestClient, clock: FakeClock
) -> None:
    post(client, procedure("proc-1"))  # recorded at 14:30Z
    clock.advance(hours=2)
    post(client, procedure("proc-2", on="2025-03-04"))  # recorded at 16:30Z
    body = history(client, as_of="2025-03-10T17:00:00+02:00")  # 15:00Z
    assert [e["event_id"] for e in body["events"]] == ["proc-1"]


def test_an_unknown_patient_has_an_empty_history(client: TestClient) -> None:
    body = history(client, "nobody")
    assert body["events"] == []
    assert body["total"] == 0


def test_history_rejects_a_bad_patient_id(client: TestClient) -> None:
    response = client.get("/v1/patients/p%20001/history")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "patient_id"


def test_healthz_names_the_store(client: TestClient, backend: Backend) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "persistence": backend.name}


def test_openapi_documents_both_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/events" in paths
    assert "/v1/patients/{patient_id}/history" in paths
    assert client.get("/docs").status_code == 200
