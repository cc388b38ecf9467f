"""Response models of the compliance, impact and audit reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class CitationOut(BaseModel):
    rule: str
    quote: str
    source: str | None = None
    section: str | None = None
    guideline: str | None = None


class FindingOut(BaseModel):
    kind: Literal["violation", "unauthorized", "approval_now_denied"]
    patient_id: str
    event_id: str = Field(description="the procedure (the authorization for approval_now_denied)")
    region: str
    family: str
    date_of_service: date
    rules: list[str]
    message: str
    citations: list[CitationOut]
    allowed_from: date | None = Field(
        default=None, description="violations: the date on which it would have been allowed"
    )
    provider_id: str | None = None
    authorization_id: str | None = None
    details: dict[str, Any] = {}


class ComplianceReportOut(BaseModel):
    policy_set: str
    from_: date = Field(alias="from")
    to: date
    as_of: datetime | None
    summary: dict[str, Any]
    total: int
    offset: int
    limit: int | None
    next_offset: int | None
    findings: list[FindingOut]

    model_config = {"populate_by_name": True}


class ImpactItemOut(BaseModel):
    patient_id: str
    event_id: str
    region: str
    family: str
    date_of_service: date
    decision: str
    against: str
    rules: list[str] = Field(description="the rules whose status differs between the sets")
    reasons: dict[str, Any]
    against_reasons: dict[str, Any]


class ImpactReportOut(BaseModel):
    policy_set: str
    against: str
    from_: date = Field(alias="from")
    to: date
    summary: dict[str, Any]
    total: int
    offset: int
    limit: int | None
    next_offset: int | None
    items: list[ImpactItemOut]

    model_config = {"populate_by_name": True}


# ------------------------------------------------------------------------------ audit


class AuditVoidsOut(BaseModel):
    event_id: str
    type: str | None = Field(description="the voided event's type; null when it is unknown")
    clinical_date: date | None


class AuditVoidedByOut(BaseModel):
    event_id: str
    recorded_at: datetime
    reason: str | None = None


class AuditTimelineItemOut(BaseModel):
    """One recorded event, in clinical-date order."""

    type: str
    event_id: str
    region: str
    clinical_date: date | None = Field(
        description="date of service, surgery or diagnosis; a void sits on its target's date"
    )
    recorded_at: datetime = Field(description="when the store recorded it")
    fields: dict[str, Any] = Field(description="the event's clinical fields, summarised")
    voids: AuditVoidsOut | None = Field(default=None, description="a void: what it voided")
    voided_by: AuditVoidedByOut | None = Field(
        default=None, description="the void recorded against this event, if any"
    )
    late: bool | None = Field(
        default=None,
        description="a clinical event recorded after an event or decision of a later clinical date",
    )
    recorded_after_later_dated: list[str] | None = None
    late_for: list[str] | None = Field(
        default=None, description="the authorizations decided before it arrived"
    )


class AuditDecisionOut(BaseModel):
    """A decision in the compared form: what is compared field by field."""

    decision: str | None
    next_eligible_date: date | None
    policy: dict[str, Any] | None
    reasons: list[dict[str, Any]] | None


class AuditReplayedOut(AuditDecisionOut):
    known: int = Field(description="the events known at the decision's recorded instant")
    as_of: datetime | None = Field(description="the as_of the original request asked, if any")


class AuditRecordedSinceOut(BaseModel):
    event_id: str
    type: str
    recorded_at: datetime


class AuditNowOut(AuditDecisionOut):
    changed: bool = Field(description="the decision now differs from the stored one")
    recorded_since: list[AuditRecordedSinceOut]


class AuditDifferenceOut(BaseModel):
    field: str
    stored: Any = None
    replayed: Any = None


class AuditAuthorizationOut(BaseModel):
    authorization_id: str
    policy_set: str
    date_of_service: date
    region: str | None
    family: str | None
    recorded_at: datetime
    stored: AuditDecisionOut
    replayed: AuditReplayedOut | None = Field(
        description="re-derived from exactly what was known at recorded_at, under the "
        "policy version the stored decision used; null when it cannot be replayed"
    )
    matches: bool
    differences: list[AuditDifferenceOut]
    flag: str | None = Field(default=None, description="MISMATCH: ... when it does not match")
    now: AuditNowOut | None = Field(description="the decision with what is known now")


class AuditSummaryOut(BaseModel):
    events: int
    authorizations: int
    mismatches: int
    changed_now: int
    late_arrivals: int
    voids: int


class AuditOut(BaseModel):
    patient_id: str
    as_of: datetime | None
    summary: AuditSummaryOut
    mismatches: list[str] = Field(description="authorization ids whose decision does not replay")
    timeline: list[AuditTimelineItemOut]
    authorizations: list[AuditAuthorizationOut]
