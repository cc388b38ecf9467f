"""CDS Hooks 2.0 / Da Vinci CRD through HTTP: discovery, order-sign and order-select calls for
eligible, refused and conditional orders, several orders at once, what the service says
nothing about, and the errors the specification names."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from api.settings import CdsPayer
from interop.cdshooks.crd import CARD_TYPE_SYSTEM_22, TEMP_SYSTEM, CrdVersion
from tests.builders import outcome, parse, procedure
from tests.cdshooks import fhir
from tests.cdshooks.checks import check_answer
from tests.support import on_backends

SIGN = "/cds-services/injtrack-crd-order-sign"
SELECT = "/cds-services/injtrack-crd-order-select"
MEMBER = "m-1001"
pytestmark = on_backends("memory")  # the recording itself is tested on every store
MET = {"initial_criteria_met": True}
REPEAT = {"pain_score": 7, "active_conservative_therapy": True}


def history_of_one_esi(ledger: InjectionLedger, relief: float = 60) -> None:
    """One lumbar transforaminal ESI at L4-L5 on 2025-01-06, relief reported on 01-15."""
    ledger.record_batch(
        parse(
            procedure("e1", on="2025-01-06", codes=("64483",), levels=["L4-L5"], patient_id=MEMBER),
            outcome("o1", of="e1", on="2025-01-15", relief=relief, patient_id=MEMBER),
        )
    )


def post(client: TestClient, path: str, call: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=call)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------------------- discovery


def test_discovery_lists_order_select_and_order_sign_with_their_prefetch(cds: TestClient) -> None:
    body = cds.get("/cds-services").json()
    hooks = {s["hook"]: s for s in body["services"]}
    assert set(hooks) == {"order-select", "order-sign"}
    for service in hooks.values():
        assert service["description"] and service["id"]
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["coverage"] == "Coverage?patient={{context.patientId}}&status=active"
        assert prefetch["serviceRequests"].startswith(
            "ServiceRequest?_id={{context.draftOrders.ServiceRequest.id}}"
        )


# ------------------------------------------------------------------------ the decisions


def test_an_eligible_order_is_covered_and_needs_prior_authorization(cds: TestClient) -> None:
    order = fhir.service_request(attested=MET)
    body = post(cds, SIGN, fhir.hook_call(orders=[order]))
    info = check_answer(body, [order])["sr-1"]
    assert info["covered"] == ["covered"]
    assert info["pa-needed"] == ["auth-needed"]
    assert info["coverage"] == [{"reference": "Coverage/cov-1"}]
    assert info["billingCode"] == [{"system": fhir.CPT, "code": "64483"}]
    assert info["date"] == ["2025-03-10"]
    assert "reason" not in info and "info-needed" not in info
    assert body["cards"] == []  # nothing to add to the extension


def test_a_too_early_order_is_not_covered_with_the_rule_and_next_eligible_date(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    history_of_one_esi(ledger)
    order = fhir.service_request(on="2025-01-19", levels=["L4-L5"])
    body = post(cds, SIGN, fhir.hook_call(orders=[order]))
    info = check_answer(body, [order])["sr-1"]
    assert info["covered"] == ["not-covered"]
    assert "pa-needed" not in info
    (reason,) = info["reason"]
    assert "nia.esi.initial_interval" in reason["text"]
    assert "next eligible 2025-01-20" in reason["text"]
    (card,) = body["cards"]
    assert card["indicator"] == "warning"
    assert card["source"]["label"] == "injection-tracker"
    assert card["source"]["topic"] == {"system": TEMP_SYSTEM, "code": "limits", "display": "Limits"}
    assert "2025-01-20" in card["summary"]
    assert '"' in card["detail"]  # the guideline's sentence, quoted


def test_the_next_day_the_same_order_is_covered(cds: TestClient, ledger: InjectionLedger) -> None:
    history_of_one_esi(ledger)
    order = fhir.service_request(on="2025-01-20", levels=["L4-L5"], attested=REPEAT)
    info = check_answer(post(cds, SIGN, fhir.hook_call(orders=[order])), [order])["sr-1"]
    assert info["covered"] == ["covered"]


def test_an_order_missing_documentation_is_conditional_with_what_is_needed(
    cds: TestClient,
) -> None:
    order = fhir.service_request()  # initial criteria not attested
    body = post(cds, SIGN, fhir.hook_call(orders=[order]))
    info = check_answer(body, [order])["sr-1"]
    assert info["covered"] == ["conditional"]
    assert info["info-needed"] == ["OTH"]
    assert info["doc-needed"] == ["clinical"]
    assert info["doc-purpose"] == ["withpa"]
    assert info["pa-needed"] == ["auth-needed"]
    assert "nia.common.initial_criteria" in info["reason"][0]["text"]
    (card,) = body["cards"]
    assert card["indicator"] == "info" and card["source"]["topic"]["code"] == "guideline"


def test_the_date_comes_from_the_period_start_when_no_date_time(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    history_of_one_esi(ledger)
    order = fhir.service_request(on=None, period_start="2025-01-19T09:00:00Z", levels=["L4-L5"])
    info = check_answer(post(cds, SIGN, fhir.hook_call(orders=[order])), [order])["sr-1"]
    assert info["covered"] == ["not-covered"]


def test_a_pain_score_observation_and_attestations_are_read(cds: TestClient) -> None:
    facet = fhir.service_request("sr-f", ("64493",), attested={"active_conservative_therapy": True})
    call = fhir.hook_call(orders=[facet])
    call["prefetch"]["painScores"] = fhir.bundle(fhir.pain_score(7, "2025-03-01"), kind="searchset")
    without = fhir.hook_call(orders=[facet])
    with_score = check_answer(post(cds, SIGN, call), [facet])["sr-f"]
    no_score = check_answer(post(cds, SIGN, without), [facet])["sr-f"]
    assert "pain_score" not in " ".join(r["text"] for r in with_score.get("reason", []))
    assert "pain_score" in " ".join(r["text"] for r in no_score.get("reason", []))


def test_several_orders_in_one_bundle_each_get_their_own_answer(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    history_of_one_esi(ledger)
    orders = [
        fhir.service_request("sr-a", on="2025-01-19", levels=["L4-L5"]),
        fhir.service_request("sr-b", ("64493",), on="2025-03-12", attested=MET),
        fhir.service_request("sr-c", ("64490",), sites=(fhir.CERVICAL,), on="2025-03-12"),
        fhir.service_request("sr-d", ("99213",)),  # an office visit: nothing to say
        fhir.service_request("sr-e", ("64483",), attested=MET, on="2025-03-12", levels=["L4-L5"]),
    ]
    body = post(cds, SIGN, fhir.hook_call(orders=orders))
    infos = check_answer(body, orders)
    assert set(infos) == {"sr-a", "sr-b", "sr-c", "sr-e"}
    assert infos["sr-a"]["covered"] == ["not-covered"]
    ids = {i["coverage-assertion-id"][0] for i in infos.values()}
    assert len(ids) == 4


def test_an_order_without_a_catalog_code_gets_no_action(cds: TestClient) -> None:
    orders = [
        fhir.service_request("sr-x", ("99999",)),
        fhir.service_request("sr-y", ("64483",), code_system="http://example.org/local"),
    ]
    body = post(cds, SIGN, fhir.hook_call(orders=orders))
    assert body == {"cards": []}


def test_a_cervical_code_without_a_body_site_is_conditional_on_the_region(cds: TestClient) -> None:
    order = fhir.service_request("sr-c", ("64490",), sites=())
    info = check_answer(post(cds, SIGN, fhir.hook_call(orders=[order])), [order])["sr-c"]
    assert info["covered"] == ["conditional"] and info["info-needed"] == ["OTH"]
    assert "no spinal body site" in info["reason"][0]["text"]


def test_an_unknown_member_is_conditional_and_nothing_is_recorded(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    order = fhir.service_request(attested=MET)
    call = fhir.hook_call(
        orders=[order],
        prefetch={"coverage": fhir.bundle(fhir.coverage(member_id=None), kind="searchset")},
    )
    info = check_answer(post(cds, SIGN, call), [order])["sr-1"]
    assert info["covered"] == ["conditional"]
    assert "member not found" in info["reason"][0]["text"]
    assert (ledger.recorder.max_notification_id() or 0) == 0


def test_no_active_coverage_says_so_in_a_card(cds: TestClient) -> None:
    order = fhir.service_request(attested=MET)
    call = fhir.hook_call(orders=[order], prefetch={"coverage": None})
    body = post(cds, SIGN, call)
    assert "systemActions" not in body
    (card,) = body["cards"]
    assert card["source"]["topic"]["code"] == "insurance"


def test_order_select_answers_only_the_selected_orders(cds: TestClient) -> None:
    orders = [fhir.service_request("sr-1", attested=MET), fhir.service_request("sr-2")]
    call = fhir.hook_call("order-select", orders, selections=["ServiceRequest/sr-2"])
    infos = check_answer(post(cds, SELECT, call), orders)
    assert set(infos) == {"sr-2"}


def test_the_payers_plan_picks_the_policy_set_label_and_prior_authorization(
    make_cds_client: Any, ledger: InjectionLedger
) -> None:
    client = make_cds_client(
        cds_payers=[
            CdsPayer(payer="Organization/acme-health", policy_set="nia", label="Acme Health"),
            CdsPayer(
                payer="Organization/acme-health",
                plan="ACME-PPO",
                policy_set="cohere",
                label="Acme Health PPO",
                prior_authorization=False,
            ),
        ]
    )
    order = fhir.service_request(codes=("64479",), sites=(fhir.CERVICAL,), on="2025-03-12")
    body = post(client, SIGN, fhir.hook_call(orders=[order]))
    info = check_answer(body, [order])["sr-1"]
    assert info["pa-needed"] == ["no-auth"]
    found = ledger.find_authorization(MEMBER, info["coverage-assertion-id"][0])
    assert found is not None and found.policy["set"] == "cohere"
    for card in body["cards"]:
        assert card["source"]["label"] == "Acme Health PPO"


# ------------------------------------------------------------------------------- errors


def test_a_call_without_the_coverage_prefetch_is_412(cds: TestClient) -> None:
    call = fhir.hook_call(orders=[fhir.service_request()], prefetch={"patient": fhir.patient()})
    response = cds.post(SIGN, json=call)
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_unknown_service_is_404(cds: TestClient) -> None:
    response = cds.post("/cds-services/nope", json=fhir.hook_call(orders=[]))
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_malformed_calls_are_400_with_an_operation_outcome(cds: TestClient) -> None:
    good = fhir.hook_call(orders=[fhir.service_request()])
    bad_sr = fhir.hook_call(orders=[fhir.service_request()])
    bad_sr["context"]["draftOrders"]["entry"][0]["resource"]["occurrenceDateTime"] = "next week"
    cases = {
        "not json": b"{",
        "no hookInstance": {k: v for k, v in good.items() if k != "hookInstance"},
        "wrong hook": good | {"hook": "order-select"},
        "no draftOrders": good | {"context": {"userId": "u", "patientId": "p"}},
        "invalid ServiceRequest": bad_sr,
        "pain score out of range": fhir.hook_call(
            orders=[fhir.service_request(attested={"pain_score": 42})]
        ),
        "unknown attested fact": fhir.hook_call(
            orders=[fhir.service_request(attested={"feels_better": True})]
        ),
        "attested fact of the wrong type": fhir.hook_call(
            orders=[fhir.service_request(attested={"initial_criteria_met": "perhaps"})]
        ),
        "unknown procedure detail": fhir.hook_call(
            orders=[fhir.service_request(details={"intent": "curiosity"})]
        ),
    }
    for name, call in cases.items():
        response = (
            cds.post(SIGN, content=call, headers={"content-type": "application/json"})
            if isinstance(call, bytes)
            else cds.post(SIGN, json=call)
        )
        assert response.status_code == 400, name
        body = response.json()
        assert body["resourceType"] == "OperationOutcome", name
        assert body["issue"][0]["severity"] == "error", name


def test_crd_2_2_links_the_policy_in_a_detail_and_says_indeterminate_for_no_member(
    make_cds_client: Any, ledger: InjectionLedger
) -> None:
    client = make_cds_client(
        cds_crd_version=CrdVersion.V2_2,
        cds_policy_links={"NIA_CG_300": "https://payer.example/policies/NIA_CG_300"},
    )
    history_of_one_esi(ledger)
    order = fhir.service_request(on="2025-01-19", levels=["L4-L5"])
    body = post(client, SIGN, fhir.hook_call(orders=[order]))
    info = check_answer(body, [order], CrdVersion.V2_2)["sr-1"]
    (detail,) = info["detail"]
    assert {"url": "value", "valueUrl": "https://payer.example/policies/NIA_CG_300"} in detail
    (card,) = body["cards"]
    assert card["source"]["topic"]["system"] == CARD_TYPE_SYSTEM_22
    assert "links" not in card  # the link travels in the extension

    unknown = fhir.hook_call(
        orders=[order],
        prefetch={"coverage": fhir.bundle(fhir.coverage(member_id=None), kind="searchset")},
    )
    info = check_answer(post(client, SIGN, unknown), [order], CrdVersion.V2_2)["sr-1"]
    assert info["covered"] == ["indeterminate"]
    assert info["reason"][0]["coding"][0]["code"] == "no-member-found"


def test_crd_2_0_1_puts_the_policy_link_on_the_card(
    make_cds_client: Any, ledger: InjectionLedger
) -> None:
    client = make_cds_client(
        cds_policy_links={"NIA_CG_300": "https://payer.example/policies/NIA_CG_300"}
    )
    history_of_one_esi(ledger)
    order = fhir.service_request(on="2025-01-19", levels=["L4-L5"])
    body = post(client, SIGN, fhir.hook_call(orders=[order]))
    assert "detail" not in check_answer(body, [order])["sr-1"]
    (card,) = body["cards"]
    assert card["links"][0]["url"] == "https://payer.example/policies/NIA_CG_300"


def test_without_a_member_system_the_patient_is_the_beneficiarys_logical_id(
    make_cds_client: Any, ledger: InjectionLedger
) -> None:
    client = make_cds_client(fhir_member_identifier_system=None)
    order = fhir.service_request(attested=MET)
    info = check_answer(post(client, SIGN, fhir.hook_call(orders=[order])), [order])["sr-1"]
    assert ledger.find_authorization("pat-1", info["coverage-assertion-id"][0]) is not None
    assert ledger.find_authorization(MEMBER, info["coverage-assertion-id"][0]) is None


def test_an_order_already_carrying_the_same_answer_gets_no_update(
    cds: TestClient, ledger: InjectionLedger
) -> None:
    order = fhir.service_request(attested=MET)
    first = post(cds, SIGN, fhir.hook_call(orders=[order]))
    (action,) = first["systemActions"]
    annotated = action["resource"]  # the EHR stored our extension on the order
    size = ledger.recorder.max_notification_id()
    again = post(cds, SIGN, fhir.hook_call(orders=[annotated]))  # a new hook instance
    assert again == {"cards": []}
    assert ledger.recorder.max_notification_id() == size
    later = dict(annotated, occurrenceDateTime="2025-03-13")  # same answer: still nothing new
    assert post(cds, SIGN, fhir.hook_call(orders=[later])) == {"cards": []}
    unattested = dict(
        annotated, extension=[e for e in annotated["extension"] if "attested" not in e["url"]]
    )
    body = post(cds, SIGN, fhir.hook_call(orders=[unattested]))
    info = check_answer(body, [unattested])["sr-1"]  # replaces our earlier extension
    assert info["covered"] == ["conditional"]


def test_the_openapi_document_describes_the_call_and_its_errors(cds: TestClient) -> None:
    spec = cds.get("/openapi.json").json()
    post_ = spec["paths"]["/cds-services/{service_id}"]["post"]
    body = post_["requestBody"]["content"]["application/json"]["schema"]
    assert {"hook", "hookInstance", "context"} <= set(body["required"])
    assert {"200", "400", "401", "404", "412"} <= set(post_["responses"])
    text = json.dumps(spec)
    refs = set(re.findall(r'"\$ref": "#/([^"]+)"', text))
    for ref in refs:  # every reference resolves inside the document
        node: Any = spec
        for part in ref.split("/"):
            node = node[part]
