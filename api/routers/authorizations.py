"""``POST /v1/authorizations``: decide like ``/v1/eligibility``, then record the request and
its decision on the patient-region stream, once per ``authorization_id``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.errors import EventIdConflict, FieldError
from api.ledger import InjectionLedger, fingerprint
from api.routers.eligibility import decide_request
from api.schemas.eligibility import AuthorizationIn, AuthorizationOut
from domain.catalog import classify
from domain.events import BilledCode

router = APIRouter(prefix="/v1", tags=["authorizations"])


def _recorded(ledger: InjectionLedger, body: AuthorizationIn) -> dict[str, Any] | None:
    """The recorded answer for this ``authorization_id``, if any. The same id resent with
    different content is a 409, like an event id (nothing is decided or stored)."""
    found = ledger.find_authorization(body.patient_id, body.authorization_id)
    if found is None:
        return None
    if found.fingerprint != fingerprint(body.model_dump(mode="json")):
        raise EventIdConflict(
            [
                FieldError(
                    "authorization_id",
                    f"authorization_id {body.authorization_id!r} already names an "
                    "authorization of this patient with different content",
                )
            ]
        )
    return dict(found.response)


@router.post("/authorizations", response_model=AuthorizationOut)
def post_authorization(body: AuthorizationIn, request: Request) -> AuthorizationOut:
    """Decide and record. Resending an ``authorization_id`` already recorded for the patient
    with the same content returns the recorded decision unchanged, without deciding again;
    with different content it is a 409."""
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
