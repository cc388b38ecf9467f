"""Each CRD assertion is recorded as an authorization decision on the patient's stream, on
every store, once per hook instance and order."""

from __future__ import annotations

from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
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
