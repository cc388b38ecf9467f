"""Request and response models of ``POST /v1/eligibility``, ``POST /v1/authorizations`` and
``GET /v1/policies``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import AsOf, Identifier, PatientId, ProcedureFields, StrictModel
from domain.commands import Authorize, Clinical, DecideEligibility
from domain.vocabulary import DeviceReason, Intent
from policies.engine import Applied, Decision, Reason, StateSummary
from policies.facts import fact_description

PolicySetName = Annotated[str, Field(min_length=1, max_length=64)]
AuthorizationId = Identifier


class ProposedProcedureIn(ProcedureFields):
    """The procedure to decide."""

    intent: Intent | None = Field(  # type: ignore[assignment]
        None,
        description="What the procedure is for. Absent: therapeutic, except that stimulator "
        "and pump placement codes (trial, implant, revision, replacement, removal) must say "
        "which of those they are (a 422 naming procedure.intent otherwise); pump refills and "
        "analyses need none.",
    )


def _fact(name: str, **constraints: Any) -> Any:
    """A clinical fact's field: optional, described by its meaning and the rules reading it."""
    return Field(None, description=fact_description(name), **constraints)


Score = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
Count = Annotated[float, Field(ge=0, le=1200, allow_inf_nan=False)]


class ClinicalIn(StrictModel):
    """What the requesting provider attests; every key optional (absent: not documented).
    Each field's description gives its meaning and the rules that read it; the README lists
    them all."""

    pain_score: Score | None = _fact("pain_score")
    functional_disability: bool | None = _fact("functional_disability")
    pain_duration_weeks: Count | None = _fact("pain_duration_weeks")
    radicular_pain: bool | None = _fact("radicular_pain")
    patient_age: Annotated[float, Field(ge=0, le=130, allow_inf_nan=False)] | None = _fact(
        "patient_age"
    )
    active_conservative_therapy: bool | None = _fact("active_conservative_therapy")
    conservative_therapy_weeks: Count | None = _fact("conservative_therapy_weeks")
    conservative_therapy_failed: bool | None = _fact("conservative_therapy_failed")
    conservative_therapy_exception: bool | None = _fact("conservative_therapy_exception")
    opioid_medication_weeks: Count | None = _fact("opioid_medication_weeks")
    systemic_opioids_failed: bool | None = _fact("systemic_opioids_failed")
    oral_antispasmodics_failed: bool | None = _fact("oral_antispasmodics_failed")
    opioid_naive: bool | None = _fact("opioid_naive")
    initial_criteria_met: bool | None = _fact("initial_criteria_met")
    psychological_assessment_completed: bool | None = _fact("psychological_assessment_completed")
    trial_side_effects_tolerable: bool | None = _fact("trial_side_effects_tolerable")
    life_expectancy_months: Count | None = _fact("life_expectancy_months")
    surgical_plan_documented: bool | None = _fact("surgical_plan_documented")
    imaging_confirms_target: bool | None = _fact("imaging_confirms_target")
    positive_provocative_exam: bool | None = _fact("positive_provocative_exam")
    pain_generator_in_question: bool | None = _fact("pain_generator_in_question")
    ischemic_limb_pain: bool | None = _fact("ischemic_limb_pain")
    special_circumstances: bool | None = _fact("special_circumstances")
    multi_region_medical_reason: bool | None = _fact("multi_region_medical_reason")
    synovial_cyst_confirmed: bool | None = _fact("synovial_cyst_confirmed")
    active_infection: bool | None = _fact("active_infection")
    needle_site_infection: bool | None = _fact("needle_site_infection")
    severe_stenosis_obstruction: bool | None = _fact("severe_stenosis_obstruction")
    insufficient_body_habitus: bool | None = _fact("insufficient_body_habitus")
    no_percutaneous_access: bool | None = _fact("no_percutaneous_access")
    coagulopathy_or_anticoagulation: bool | None = _fact("coagulopathy_or_anticoagulation")
    steroid_hypersensitivity: bool | None = _fact("steroid_hypersensitivity")
    uncontrolled_diabetes: bool | None = _fact("uncontrolled_diabetes")
    local_anesthetic_allergy: bool | None = _fact("local_anesthetic_allergy")
    drug_allergy: bool | None = _fact("drug_allergy")
    other_programmable_device: bool | None = _fact("other_programmable_device")
    device_reason: DeviceReason | None = _fact("device_reason")

    def to_clinical(self) -> Clinical:
        return Clinical(**dict(self))


class EligibilityIn(StrictModel):
    patient_id: PatientId
    policy_set: PolicySetName
    procedure: ProposedProcedureIn
    clinical: ClinicalIn = ClinicalIn()
    as_of: AsOf | None = None

    def to_query(self) -> DecideEligibility:
        return DecideEligibility(
            patient_id=self.patient_id,
            policy_set=self.policy_set,
            procedure=self.procedure.to_spec(),
            clinical=self.clinical.to_clinical(),
            as_of=self.as_of,
        )


class AuthorizationIn(EligibilityIn):
    authorization_id: AuthorizationId

    def to_command(self) -> Authorize:
        return Authorize.of(self.to_query(), self.authorization_id)


class ReasonOut(BaseModel):
    rule: str
    status: Literal["pass", "fail", "missing"]
    message: str
    citation: str
    source: str | None = None
    section: str | None = None


class AppliedGuidelineOut(BaseModel):
    guideline: str
    version: str
    source: str
    title: str


class PolicyOut(BaseModel):
    set: str
    guideline: str
    version: str
    source: str
    title: str
    also: list[AppliedGuidelineOut] | None = None


class EligibilityOut(BaseModel):
    decision: Literal["eligible", "not_eligible", "pending_documentation"]
    policy: PolicyOut
    reasons: list[ReasonOut]
    next_eligible_date: date | None
    state: dict[str, Any]

    @classmethod
    def of(cls, decision: Decision) -> EligibilityOut:
        return cls.model_validate(decision_json(decision))


# ----------------------------------------------------------------------------- decisions
# The engine returns typed values; these are their JSON forms (the response bodies, and what
# an authorization records as its answer).


def reason_out(r: Reason) -> ReasonOut:
    c = r.citation
    return ReasonOut(
        rule=r.rule,
        status=r.status.value,
        message=r.message,
        citation=c.quote if c else "",
        source=c.source if c else None,
        section=c.section if c else None,
    )


def _applied(a: Applied) -> AppliedGuidelineOut:
    g = a.guideline
    return AppliedGuidelineOut(guideline=g.id, version=a.version.id, source=g.source, title=g.title)


def policy_json(decision: Decision) -> dict[str, Any]:
    """The guideline (and version) named as the decision's policy; ``also`` lists the other
    guidelines applied, only when there are any."""
    first = _applied(decision.applied[0])
    also = [_applied(a) for a in decision.applied[1:]]
    policy = PolicyOut(set=decision.policy_set, **first.model_dump(), also=also or None)
    return policy.model_dump(mode="json", exclude_none=True)


def state_json(s: StateSummary) -> dict[str, Any]:
    return _jsonable(asdict(s))


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def decision_json(decision: Decision) -> dict[str, Any]:
    """The JSON body of a decision (``POST /v1/eligibility``)."""
    nxt = decision.next_eligible_date
    return {
        "decision": decision.decision,
        "policy": policy_json(decision),
        "reasons": [reason_out(r).model_dump(mode="json") for r in decision.reasons],
        "next_eligible_date": nxt.isoformat() if nxt else None,
        "state": state_json(decision.state),
    }


class AuthorizationOut(EligibilityOut):
    authorization_id: str


class CitationOut(BaseModel):
    quote: str
    source: str
    section: str


class RuleOut(BaseModel):
    id: str
    kind: str
    description: str
    time_rule: bool
    params: dict[str, Any]
    when: dict[str, Any]
    unless: dict[str, Any] | None = None
    effective_from: date | None = None
    effective_until: date | None = None
    citation: CitationOut | None
    facts: list[str] = Field(
        default_factory=list,
        description="the clinical facts (request field clinical.<fact>) the rule reads",
    )


class VersionOut(BaseModel):
    id: str
    effective_from: date | None
    effective_until: date | None
    params: dict[str, Any]
    note: str


class GuidelineOut(BaseModel):
    id: str
    title: str
    source: str
    families: list[str]
    codes: list[str] | None
    regions: list[str] | None
    versions: list[VersionOut]
    rules: list[RuleOut]


class AuthorizationWindowOut(BaseModel):
    """How far from its planned date an authorization may be used (ISO 8601 durations)."""

    before: str
    after: str


class PolicySetOut(BaseModel):
    name: str
    title: str
    guidelines: list[GuidelineOut]
    extends: str | None = None
    authorization_window: AuthorizationWindowOut | None = None


class PoliciesOut(BaseModel):
    sets: list[PolicySetOut]
