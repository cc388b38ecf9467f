"""Builders of the FHIR R4 resources and CDS Hooks calls the CDS tests post.

Every resource is validated with ``fhir.resources.R4B`` (which reads R4 JSON) as it is built,
so the fixtures are real R4, not shapes we made up.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from interop.cdshooks.orders import ATTESTATION_URL, PROCEDURE_DETAILS_URL
from interop.fhir.codes import LEVEL_SYSTEM

CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
MEMBER_SYSTEM = "https://payer.example.org/member-id"
LUMBAR, CERVICAL, THORACIC = "122496007", "122494005", "122495006"
LEFT, RIGHT, BILATERAL = "7771000", "24028007", "51440002"


def _valid(model: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    model.model_validate(data)
    return data


def patient(member_id: str = "m-1001", patient_id: str = "pat-1") -> dict[str, Any]:
    return _valid(
        Patient,
        {
            "resourceType": "Patient",
            "id": patient_id,
            "identifier": [{"system": MEMBER_SYSTEM, "value": member_id}],
            "name": [{"family": "Rivera", "given": ["Ana"]}],
            "gender": "female",
            "birthDate": "1968-04-02",
        },
    )


def coverage(
    member_id: str | None = "m-1001",
    *,
    payer: str = "Organization/acme-health",
    plan: str | None = "ACME-PPO",
    status: str = "active",
    coverage_id: str = "cov-1",
    patient_id: str = "pat-1",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": coverage_id,
        "status": status,
        "beneficiary": {"reference": f"Patient/{patient_id}"},
        "payor": [{"reference": payer, "display": "Acme Health"}],
    }
    if member_id is not None:
        data["identifier"] = [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}
                    ]
                },
                "system": MEMBER_SYSTEM,
                "value": member_id,
            }
        ]
        data["subscriberId"] = member_id
    if plan is not None:
        data["class"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "plan",
                        }
                    ]
                },
                "value": plan,
            }
        ]
    return _valid(Coverage, data)


def service_request(
    sr_id: str = "sr-1",
    codes: Sequence[str] = ("64483",),
    *,
    on: str | None = "2025-03-12",
    period_start: str | None = None,
    sites: Sequence[str] = (LUMBAR,),
    levels: Sequence[str] = (),
    attested: dict[str, Any] | None = None,
    details: dict[str, str] | None = None,
    patient_id: str = "pat-1",
    code_system: str = CPT,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": sr_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "requester": {"reference": "Practitioner/dr-1"},
        "code": {
            "coding": [{"system": code_system, "code": c} for c in codes],
            "text": "Epidural injection",
        },
    }
    if on is not None:
        data["occurrenceDateTime"] = on
    if period_start is not None:
        data["occurrencePeriod"] = {"start": period_start}
    body = [{"coding": [{"system": SNOMED, "code": s}]} for s in sites]
    body += [{"coding": [{"system": LEVEL_SYSTEM, "code": lv}]} for lv in levels]
    if body:
        data["bodySite"] = body
    extensions = []
    if attested:
        extensions.append(
            {"url": ATTESTATION_URL, "extension": [_value(k, v) for k, v in attested.items()]}
        )
    if details:
        extensions.append(
            {"url": PROCEDURE_DETAILS_URL, "extension": [_value(k, v) for k, v in details.items()]}
        )
    if extensions:
        data["extension"] = extensions
    return _valid(ServiceRequest, data)


def _value(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"url": name, "valueBoolean": value}
    if isinstance(value, int):
        return {"url": name, "valueInteger": value}
    if isinstance(value, float):
        return {"url": name, "valueDecimal": value}
    return {"url": name, "valueCode": value}


def pain_score(value: int, on: str, obs_id: str = "obs-1") -> dict[str, Any]:
    return _valid(
        Observation,
        {
            "resourceType": "Observation",
            "id": obs_id,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
            "subject": {"reference": "Patient/pat-1"},
            "effectiveDateTime": on,
            "valueInteger": value,
        },
    )


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return _valid(
        Bundle,
        {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]},
    )


def hook_call(
    hook: str = "order-sign",
    orders: Sequence[dict[str, Any]] = (),
    *,
    prefetch: dict[str, Any] | None = None,
    selections: Sequence[str] | None = None,
    hook_instance: str | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "Practitioner/dr-1",
        "patientId": "pat-1",
        "draftOrders": bundle(*orders),
    }
    if hook == "order-select":
        context["selections"] = list(
            selections if selections is not None else [f"ServiceRequest/{o['id']}" for o in orders]
        )
    return {
        "hook": hook,
        "hookInstance": hook_instance or str(uuid.uuid4()),
        "context": context,
        "prefetch": prefetch
        if prefetch is not None
        else {"patient": patient(), "coverage": bundle(coverage(), kind="searchset")},
    }
