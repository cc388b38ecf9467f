"""Request and response models of ``POST /v1/eligibility``, ``POST /v1/authorizations`` and
``GET /v1/policies``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import PatientId, ProcedureFields, StrictModel
from domain.commands import Authorize, Clinical, DecideEligibility
from domain.vocabulary import DeviceReason
from policies.engine import Applied, Decision, Reason, StateSummary

PolicySetName = Annotated[str, Field(min_length=1, max_length=64)]
AuthorizationId = Annotated[str, Field(min_length=1, max_length=128)]


class ProposedProcedureIn(ProcedureFields):
    """The procedure to decide."""


class ClinicalIn(StrictModel):
    """What the requesting provider attests; every key optional (absent: not documented)."""

    pain_score: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    active_conservative_therapy: bool | None = None
    initial_criteria_met: bool | None = None
    special_circumstances: bool | None = None
    multi_region_medical_reason: bool | None = None
    synovial_cyst_confirmed: bool | None = None
    positive_provocative_exam: bool | None = None
    opioid_naive: bool | None = None
    device_reason: DeviceReason | None = None

    def to_clinical(self) -> Clinical:
        return Clinical(**dict(self))


class EligibilityIn(StrictModel):
    patient_id: PatientId
    policy_set: PolicySetName
    procedure: ProposedProcedureIn
    clinical: ClinicalIn = ClinicalIn()
    as_of: datetime | None = None

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
