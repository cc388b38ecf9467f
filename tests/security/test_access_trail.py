"""The access trail: every guarded request, allowed or denied, with key name, role, route
template, patient, outcome, instant (the service's clock) and request id; in a table of its
own, never in the patient streams; queried by auditors with ``GET /v1/access-log``."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.builders import outcome, procedure
from tests.security.conftest import keyed
from tests.support import FakeClock, on_backends, store_size


def test_reads_writes_and_refusals_are_recorded_with_who_what_whom_and_when(
    client: TestClient, clock: FakeClock, ledger
) -> None:
    ring = keyed(client)
    first = clock.now()
    r = client.post(
        "/v1/events",
        json={
            "events": [
                procedure(patient_id="p-a"),
                outcome(patient_id="p-a"),
                procedure("proc-b", patient_id="p-b"),
            ]
        },
        headers=ring.headers("submitter") | {"X-Request-ID": "batch-1"},
    )
    assert r.status_code == 200, r.text
    clock.advance(minutes=5)
    stored = store_size(ledger)
    assert (
        client.get("/v1/patients/p-a/history", headers=ring.headers("auditor")).status_code == 200
    )
    assert client.get("/v1/patients/p-a/state", headers=ring.headers("payer")).status_code == 403
    assert client.get("/v1/patients/p-a/state").status_code == 401
    assert store_size(ledger) == stored  # reads and their trail write nothing to the store

    log = client.get(
        "/v1/access-log", params={"patient_id": "p-a"}, headers=ring.headers("auditor")
    )
    assert log.status_code == 200, log.text
    entries = log.json()["entries"]
    assert [
        (e["key_name"], e["role"], e["method"], e["route"], e["status"], e["outcome"])
        for e in entries
    ] == [
        ("submitter-key", "submitter", "POST", "/v1/events", 200, "ok"),
        ("auditor-key", "auditor", "GET", "/v1/patients/{patient_id}/history", 200, "ok"),
        ("payer-key", "payer", "GET", "/v1/patients/{patient_id}/state", 403, "denied"),
        (None, None, "GET", "/v1/patients/{patient_id}/state", 401, "denied"),
    ]
    assert entries[0]["request_id"] == "batch-1"
    assert entries[0]["at"].startswith(first.strftime("%Y-%m-%dT%H:%M:%S"))
    assert all(e["patient_id"] == "p-a" for e in entries)

    # The batch named two patients: one entry for each.
    b = client.get("/v1/access-log", params={"patient_id": "p-b"}, headers=ring.headers("auditor"))
    assert [e["request_id"] for e in b.json()["entries"]] == ["batch-1"]

    # from (inclusive) and to (exclusive) are instants.
    later = (first + timedelta(minutes=1)).isoformat()
    window = client.get(
        "/v1/access-log",
        params={"patient_id": "p-a", "from": later},
        headers=ring.headers("auditor"),
    ).json()
    # ... the auditor's own reading of the trail about p-a is on it too.
    assert window["total"] == 4
    assert window["entries"][-1]["route"] == "/v1/access-log"
    before = client.get(
        "/v1/access-log", params={"patient_id": "p-a", "to": later}, headers=ring.headers("auditor")
    ).json()
    assert [e["route"] for e in before["entries"]] == ["/v1/events"]

    # Never in the patient's own streams.
    history = client.get("/v1/patients/p-a/history", headers=ring.headers("auditor")).json()
    assert {e["type"] for e in history["events"]} == {"procedure_performed", "outcome_reported"}


def test_the_access_log_pages_and_is_for_auditors(client: TestClient) -> None:
    ring = keyed(client)
    for _ in range(3):
        client.get("/v1/patients/p-x/history", headers=ring.headers("auditor"))
    page = client.get(
        "/v1/access-log", params={"patient_id": "p-x", "limit": 2}, headers=ring.headers("auditor")
    ).json()
    assert (page["total"], len(page["entries"]), page["next_offset"]) == (3, 2, 2)
    assert client.get("/v1/access-log", headers=ring.headers("compliance")).status_code == 403
    assert (
        client.get(
            "/v1/access-log", params={"limit": 0}, headers=ring.headers("auditor")
        ).status_code
        == 422
    )
    assert (
        client.get(
            "/v1/access-log", params={"from": "0"}, headers=ring.headers("auditor")
        ).status_code
        == 422
    )


@on_backends("sqlite", "postgres")
def test_with_encryption_on_the_trail_stores_no_patient_id_in_clear(make_settings, backend) -> None:
    from adapters.protect import generate_secrets
    from api.app import create_app

    secrets = generate_secrets()
    settings = make_settings(
        cipher_key=SecretStr(secrets["INJTRACK_CIPHER_KEY"]),
        stream_id_secret=SecretStr(secrets["INJTRACK_STREAM_ID_SECRET"]),
    )
    with TestClient(create_app(settings)) as client:
        ring = keyed(client)
        client.get("/v1/patients/p-hidden-42/history", headers=ring.headers("auditor"))
        log = client.get(
            "/v1/access-log", params={"patient_id": "p-hidden-42"}, headers=ring.headers("auditor")
        ).json()
        store = client.app.state.access.store  # type: ignore[attr-defined]
        with store._cursor(write=False) as cur:
            cur.execute(f"SELECT * FROM {store.table('injtrack_access_log')}")
            raw = repr(cur.fetchall())
    assert [e["patient_id"] for e in log["entries"]] == ["p-hidden-42"]
    assert "p-hidden-42" not in raw
