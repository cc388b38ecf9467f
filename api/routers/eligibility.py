"""``POST /v1/eligibility``: decide a proposed procedure under a policy set, recording
nothing (a dry run)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.ledger import InjectionLedger
from api.schemas.eligibility import EligibilityIn, EligibilityOut
from domain.catalog import classify
from policies import registry
from policies.engine import Decision, Proposed, decide, settle
from projections.state import fold

router = APIRouter(prefix="/v1", tags=["eligibility"])


def decide_request(ledger: InjectionLedger, body: EligibilityIn) -> Decision:
    """Fold the patient's history as known ``as_of`` and decide, purely. Raises the policy
    and catalog lookup errors the API maps to 422."""
    policy_set = registry.get(body.policy_set)
    proc = body.procedure
    indication = proc.indication.value if proc.indication else None
    kind = classify([c.cpt for c in proc.codes], proc.region, indication)
    proposed = Proposed(
        date_of_service=proc.date_of_service,
        region=proc.region.value,
        family=kind.family.value,
        codes=tuple((c.cpt, c.units) for c in proc.codes),
        intent=proc.intent.value if proc.intent else None,
        laterality=proc.laterality.value if proc.laterality else None,
        levels=tuple(proc.levels),
        agent=proc.agent.value if proc.agent else None,
        approach=proc.approach.value if proc.approach else kind.approach,
        indication=indication,
        device_type=proc.device_type,
    )
    # 422 before reading history: no guideline, no version in force, no device intent.
    policy_set.guidelines_for(proposed)
    settle(proposed)
    events = ledger.patient_events(body.patient_id, body.as_of)
    state = fold(events, body.as_of, body.patient_id)
    return decide(policy_set, state, proposed, body.clinical.model_dump(mode="json"))


@router.post("/eligibility", response_model=EligibilityOut)
def post_eligibility(body: EligibilityIn, request: Request) -> EligibilityOut:
    """Is this procedure allowed for this patient, region and date under the policy set?
    Every rule checked, with its citation; the next eligible date when waiting cures it."""
    decision = decide_request(request.app.state.ledger, body)
    return EligibilityOut.model_validate(decision.as_json())
