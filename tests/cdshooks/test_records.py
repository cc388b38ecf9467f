"""Each CRD assertion is recorded as an authorization decision on the patient's stream, on
every store, once per hook instance and order."""

from __future__ import annotations

from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from api.schemas.eligibility import decision_json
from application.audit import audit_patient
from tests.builders import outcome, parse, procedure
from tests.cdshooks import fhir
from tests.cdshooks.checks import check_answer
from tests.cdshooks.test_hooks import MEMBER, MET, SIGN, post
from tests.support import on_backends


@on_backends("memory", "sqlite", "postgres")
def test_each_assertion_is_recorded_as_an_authorization_decision_once(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    order = fhir.service_request(attested=MET)
    call = fhir.hook_call(orders=[order])
    first = check_answer(post(cds, SIGN, call), [order])["sr-1"]
    assertion_id = first["coverage-assertion-id"][0]
    found = ledger.find_authorization(MEMBER, assertion_id)
    assert found is not None
    assert found.decision == "eligible"
    assert found.response["cds_hooks"]["hook_instance"] == call["hookInstance"]
    assert found.response["cds_hooks"]["coverage_assertion_id"] == assertion_id
    size = ledger.recorder.max_notification_id()
    again = check_answer(post(cds, SIGN, call), [order])["sr-1"]  # the EHR retries
    assert again["coverage-assertion-id"] == [assertion_id]
    assert ledger.recorder.max_notification_id() == size


@on_backends("memory", "sqlite", "postgres")
def test_orders_in_two_regions_are_recorded_together_on_their_streams(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    orders = [
        fhir.service_request("sr-l", attested=MET),
        fhir.service_request("sr-c", ("64479",), sites=(fhir.CERVICAL,), attested=MET),
    ]
    before = ledger.recorder.max_notification_id() or 0
    infos = check_answer(post(cds, SIGN, fhir.hook_call(orders=orders)), orders)
    regions = {}
    for sr, info in infos.items():
        found = ledger.find_authorization(MEMBER, info["coverage-assertion-id"][0])
        assert found is not None, sr
        regions[sr] = found.response["cds_hooks"]["order"]
    assert regions == {"sr-l": "ServiceRequest/sr-l", "sr-c": "ServiceRequest/sr-c"}
    types = [e.event.__class__.__name__ for e in ledger.patient_events(MEMBER)]
    assert types.count("AuthorizationDecided") == 2
    assert {e.region for e in ledger.patient_events(MEMBER)} == {"lumbar", "cervical"}
    assert (ledger.recorder.max_notification_id() or 0) > before


@on_backends("memory")
def test_audit_replay_decides_each_recorded_assertion_again_and_matches(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=("64483",), levels=["L4-L5"], patient_id=MEMBER),
            outcome("o1", of="e1", on="2025-01-15", relief=60, patient_id=MEMBER),
        )
    )
    orders = [
        fhir.service_request("sr-1", on="2025-01-19", levels=["L4-L5"]),  # too early
        fhir.service_request("sr-2", ("64493",), on="2025-03-12"),  # documentation missing
        fhir.service_request(
            "sr-3", ("64479",), sites=(fhir.CERVICAL, fhir.LEFT), on="2025-03-12", attested=MET
        ),
    ]
    check_answer(post(cds, SIGN, fhir.hook_call(orders=orders)), orders)
    report = audit_patient(ledger, MEMBER, decision_json)
    assert report["summary"]["authorizations"] == 3
    assert report["mismatches"] == []
    decisions = sorted(a["stored"]["decision"] for a in report["authorizations"])
    assert decisions == ["eligible", "not_eligible", "pending_documentation"]
