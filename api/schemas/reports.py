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
