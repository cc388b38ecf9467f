"""``POST /v1/eligibility``: decide a proposed procedure under a policy set, recording
nothing (a dry run)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import TrackerDep
from api.schemas.common import ModelResponse
from api.schemas.eligibility import EligibilityIn, EligibilityOut
from api.security import allow
from application.access import Role

router = APIRouter(prefix="/v1", tags=["eligibility"], dependencies=[allow(Role.PAYER)])


@router.post("/eligibility", response_model=EligibilityOut)
def post_eligibility(body: EligibilityIn, tracker: TrackerDep) -> ModelResponse:
    """Is this procedure allowed for this patient, region and date under the policy set?
    Every rule checked, with its citation; the next eligible date when waiting cures it."""
    decision = tracker.decide(body.to_query())
    return ModelResponse(EligibilityOut.of(decision))
