"""``POST /v1/authorizations``: decide like ``/v1/eligibility``, then record the request and
its decision on the patient-region stream, once per ``authorization_id``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.errors import error_responses
from api.ledger import InjectionLedger
from api.routers.eligibility import decide_request
from api.schemas.eligibility import AuthorizationIn, AuthorizationOut
from api.security import allow
from application.access import Role
from domain.catalog import classify
from domain.events import BilledCode

router = APIRouter(prefix="/v1", tags=["authorizations"], dependencies=[allow(Role.PAYER)])


def _recorded(ledger: InjectionLedger, body: AuthorizationIn) -> dict[str, Any] | None:
    found = ledger.find_authorization(body.patient_id, body.authorization_id)
    return dict(found.response) if found is not None else None


@router.post("/authorizations", response_model=AuthorizationOut, responses=error_responses(409))
def post_authorization(body: AuthorizationIn, request: Request) -> AuthorizationOut:
    """Decide and record. Resending an ``authorization_id`` already recorded for the patient
    returns the recorded decision unchanged, without deciding again."""
    ledger: InjectionLedger = request.app.state.ledger
    recorded = _recorded(ledger, body)
    if recorded is not None:
        return AuthorizationOut.model_validate(recorded)
    decision = decide_request(ledger, body)
    response = decision.as_json() | {"authorization_id": body.authorization_id}
    proc = body.procedure
    family = classify(
        [c.cpt for c in proc.codes], proc.region, proc.indication.value if proc.indication else None
    ).family.value
    requested = {
        "authorization_id": body.authorization_id,
        "policy_set": body.policy_set,
        "date_of_service": proc.date_of_service,
        "codes": [BilledCode(c.cpt, c.units) for c in proc.codes],
        "family": family,
        "request": body.model_dump(mode="json"),
    }
    decided = {
        "authorization_id": body.authorization_id,
        "decision": decision.decision,
        "policy": decision.policy_json(),
        "reasons": response["reasons"],
        "next_eligible_date": decision.next_eligible_date,
        "response": response,
    }
    if not ledger.record_authorization(body.patient_id, proc.region, requested, decided):
        # Another request recorded this id first: its decision is the answer.
        recorded = _recorded(ledger, body)
        assert recorded is not None
        return AuthorizationOut.model_validate(recorded)
    return AuthorizationOut.model_validate(response)
