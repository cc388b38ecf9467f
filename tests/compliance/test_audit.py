"""Audit replay of one patient: the timeline in clinical-date order with recorded instants,
voids and late arrivals, and every authorization decision replayed from what was known when
it was made, flagged loudly when it does not replay."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from api.cli import main
from policies import registry
from projections.calendar import days
from tests.builders import outcome, parse, procedure, void
from tests.support import FakeClock, amended_set, on_backends

ESI = "64483"
SIDE: dict[str, Any] = {"codes": (ESI,), "laterality": "left", "levels": ["L4-L5"]}


def authorize(client: TestClient, authorization_id: str, on: str) -> dict[str, Any]:
    response = client.post(
        "/v1/authorizations",
        json={
            "authorization_id": authorization_id,
            "patient_id": "p-001",
            "policy_set": "nia",
            "procedure": {
                "date_of_service": on,
                "region": "lumbar",
                "codes": [{"cpt": ESI}],
                "laterality": "left",
                "levels": ["L4-L5"],
            },
            "clinical": {"pain_score": 7, "active_conservative_therapy": True},
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def audit(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/patients/p-001/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def history_with_an_approval(client: TestClient, ledger: InjectionLedger, clock: FakeClock) -> None:
    """An esi on 2025-01-06 with 60 % relief, then an approval for 2025-01-20 (14 days
    later: just allowed by the two-week interval), performed that day."""
    ledger.record_batch(
        parse(procedure("e1", on="2025-01-06", **SIDE), outcome("o1", of="e1", on="2025-01-15"))
    )
    clock.advance(hours=1)
    assert authorize(client, "A-1", "2025-01-20")["decision"] == "eligible"
    clock.advance(hours=1)
    ledger.record_batch(parse(procedure("e2", on="2025-01-20", authorization_id="A-1", **SIDE)))


@on_backends("sqlite", "postgres")
def test_every_recorded_decision_replays_to_the_decision_stored(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    history_with_an_approval(client, ledger, clock)
    body = audit(client)
    [auth] = body["authorizations"]
    assert auth["authorization_id"] == "A-1"
    assert auth["matches"] is True, auth["differences"]
    assert auth["stored"]["decision"] == auth["replayed"]["decision"] == "eligible"
    assert auth["stored"]["reasons"] == auth["replayed"]["reasons"]
    assert auth["recorded_at"].startswith("2025-03-10T15:30")
    assert auth["now"]["decision"] == "eligible"
    assert auth["now"]["changed"] is False
    assert body["summary"]["mismatches"] == 0
    assert body["mismatches"] == []


def test_a_rule_changed_after_the_decision_shows_as_a_mismatch(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    history_with_an_approval(client, ledger, clock)
    # The policy team lengthens the initial-phase interval from 14 to 21 days afterwards.
    amended = amended_set(registry.get("nia"), "nia.esi.initial_interval", span=days(21))
    monkeypatch.setattr(registry, "_sets", MappingProxyType({**registry.sets(), "nia": amended}))
    body = audit(client)
    [auth] = body["authorizations"]
    assert auth["matches"] is False
    assert auth["replayed"]["decision"] == "not_eligible"
    assert auth["flag"].startswith("MISMATCH: the stored decision (eligible) does not replay")
    fields = [d["field"] for d in auth["differences"]]
    assert "decision" in fields
    assert "reasons[nia.esi.initial_interval].status" in fields
    assert body["summary"]["mismatches"] == 1
    assert body["mismatches"] == ["A-1"]


def test_the_timeline_is_in_clinical_order_with_voids_and_late_arrivals(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    history_with_an_approval(client, ledger, clock)
    clock.advance(hours=1)
    # A claim for 2025-01-13 arrives after the approval for 2025-01-20 was decided.
    ledger.record_batch(parse(procedure("late", on="2025-01-13", **SIDE)))
    clock.advance(hours=1)
    ledger.record_batch(parse(void("v1", of="e1", reason="wrong patient")))
    body = audit(client)
    lines = body["timeline"]
    dates = [i["clinical_date"] for i in lines]
    assert dates == sorted(dates)
    by_id = {i["event_id"]: i for i in lines}
    assert by_id["v1"]["voids"] == {
        "event_id": "e1",
        "type": "procedure_performed",
        "clinical_date": "2025-01-06",
    }
    assert by_id["e1"]["voided_by"]["event_id"] == "v1"
    assert by_id["late"]["late"] is True
    assert by_id["late"]["late_for"] == ["A-1"]
    assert by_id["e1"]["late"] is False
    assert by_id["e2"]["late"] is False  # performed under A-1 on its date: not late for it
    assert all(i["recorded_at"] for i in lines)
    # What is known now denies the approval: the late esi is 7 days before it.
    [auth] = body["authorizations"]
    assert auth["matches"] is True
    assert auth["now"]["decision"] == "not_eligible"
    assert auth["now"]["changed"] is True
    assert [e["event_id"] for e in auth["now"]["recorded_since"]] == ["e2", "late", "v1"]
    assert body["summary"]["changed_now"] == 1
    assert body["summary"]["late_arrivals"] >= 1
    assert body["summary"]["voids"] == 1


def test_the_audit_as_of_an_instant_sees_only_what_was_recorded_by_then(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    history_with_an_approval(client, ledger, clock)
    then = clock.now()
    clock.advance(hours=1)
    ledger.record_batch(parse(procedure("late", on="2025-01-13", **SIDE)))
    body = audit(client, as_of=then.isoformat())
    assert "late" not in {i["event_id"] for i in body["timeline"]}
    assert body["authorizations"][0]["now"]["changed"] is False


def test_injtrack_audit_prints_the_json_and_warns_on_a_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.app import build_ledger, create_app
    from api.settings import Settings

    for name in ("INJTRACK_DATABASE_URL", "INJTRACK_PERSISTENCE", "INJTRACK_POSTGRES_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INJTRACK_DB", str(tmp_path / "store.sqlite"))
    settings = Settings()
    clock = FakeClock()
    ledger = build_ledger(settings, clock)
    try:
        with TestClient(create_app(settings, clock, ledger)) as client:
            history_with_an_approval(client, ledger, clock)
    finally:
        ledger.close()
    assert main(["audit", "p-001"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["authorizations"][0]["matches"] is True
    nia = registry.get("nia")
    monkeypatch.setattr(
        registry,
        "_sets",
        MappingProxyType({**registry.sets(), "nia": replace(nia, guidelines=nia.guidelines[1:])}),
    )
    assert main(["audit", "p-001", "--out", str(tmp_path / "audit.json")]) == 3
    assert "MISMATCH" in capsys.readouterr().err
    assert json.loads((tmp_path / "audit.json").read_text())["summary"]["mismatches"] == 1


def test_the_openapi_document_declares_the_audit_response_with_each_authorizations_fields(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/v1/patients/{patient_id}/audit"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AuditOut"}
    schemas = spec["components"]["schemas"]
    assert {"timeline", "authorizations"} <= set(schemas["AuditOut"]["required"])
    authorization = schemas["AuditAuthorizationOut"]
    assert {"authorization_id", "recorded_at", "stored", "replayed", "matches", "now"} <= set(
        authorization["required"]
    )
    assert authorization["properties"]["matches"]["type"] == "boolean"


def test_a_denial_whose_next_eligible_date_falls_under_a_later_version_replays_to_that_date(
    client: TestClient, ledger: InjectionLedger, clock: FakeClock
) -> None:
    """A cervical esi asked for 12 days after the previous one is denied in December 2021;
    the search for its next eligible date runs into 2022, where a later version of the
    guideline is in force. The replay searches the same versions (it pins a guideline to
    the stored version only when the set has since put another one in force on the date of
    service), so it finds the same date."""
    cervical: dict[str, Any] = {"region": "cervical", "levels": ["C6-C7"], "laterality": "left"}
    ledger.record_batch(
        parse(
            procedure("c1", on="2020-05-23", codes=("64479",), **cervical),
            outcome("c1o", of="c1", on="2020-06-24", relief=69.2),
            procedure("c2", on="2020-06-25", codes=("64479",), **cervical),
            outcome("c2o", of="c2", on="2020-07-20", relief=56.9),
            outcome("c2f", of="c2", on="2020-08-29", relief=60.9),
            procedure("c3", on="2020-09-10", codes=("64479",), **cervical),
            procedure("c4", on="2021-12-09", codes=("62321",), region="cervical", levels=["C7-T1"]),
        )
    )
    clock.advance(hours=1)
    response = client.post(
        "/v1/authorizations",
        json={
            "authorization_id": "A-9",
            "patient_id": "p-001",
            "policy_set": "nia",
            "procedure": {
                "date_of_service": "2021-12-21",
                "region": "cervical",
                "codes": [{"cpt": "62321"}],
                "levels": ["C7-T1"],
            },
            "clinical": {
                "pain_score": 8,
                "active_conservative_therapy": True,
                "initial_criteria_met": True,
            },
        },
    )
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["decision"] == "not_eligible"
    [auth] = audit(client)["authorizations"]
    assert auth["stored"]["next_eligible_date"] == stored["next_eligible_date"]
    assert auth["matches"] is True, auth.get("differences")
    assert auth["replayed"]["next_eligible_date"] == stored["next_eligible_date"]
