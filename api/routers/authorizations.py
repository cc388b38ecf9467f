"""``POST /v1/authorizations``: decide like ``/v1/eligibility``, then record the request and
its decision on the patient-region stream, once per ``authorization_id``."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import TrackerDep
from api.schemas.eligibility import AuthorizationIn, AuthorizationOut, decision_json

router = APIRouter(prefix="/v1", tags=["authorizations"])


@router.post("/authorizations", response_model=AuthorizationOut)
def post_authorization(body: AuthorizationIn, tracker: TrackerDep) -> AuthorizationOut:
    """Decide and record. Resending an ``authorization_id`` already recorded for the patient
    returns the recorded decision unchanged, without deciding again."""
    return AuthorizationOut.model_validate(tracker.authorize(body.to_command(), decision_json))
