"""``GET /v1/reports/compliance``: the compliance report of a policy set over a period of
dates of service (JSON, findings paginated in a stable order: date of service, patient,
event, kind)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime

from api.errors import FieldError, InvalidInput
from api.schemas.common import as_of_query, date_query
from api.schemas.reports import ComplianceReportOut, ImpactReportOut
from api.views import app_report_source
from application.compliance import Period, compliance_report
from application.impact import impact_report
from policies import registry

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def period_of(start: date, end: date) -> Period:
    if end < start:
        raise InvalidInput(
            [FieldError("to", f"the period ends ({end}) before it starts ({start})")]
        )
    return Period(start, end)


@router.get("/impact", response_model=ImpactReportOut, response_model_by_alias=True)
def get_impact(
    request: Request,
    policy_set: Annotated[str, Query(min_length=1, max_length=64, description="the set in force")],
    against: Annotated[str, Query(min_length=1, max_length=64, description="the candidate set")],
    start: Annotated[date, date_query("from", "first date of service")],
    end: Annotated[date, date_query("to", "last date of service (inclusive)")],
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ImpactReportOut:
    """The recorded procedures the candidate set ``against`` decides differently from
    ``policy_set`` (each with both decisions and the rules that differ), with counts by rule,
    family and change: a preview of a policy change before publishing it."""
    current, candidate = registry.get(policy_set), registry.get(against)
    period = period_of(start, end)
    with app_report_source(request.app.state) as source:
        report = impact_report(source, current, candidate, period)
    return ImpactReportOut.model_validate(report.as_json(offset, limit))


@router.get("/compliance", response_model=ComplianceReportOut, response_model_by_alias=True)
def get_compliance(
    request: Request,
    policy_set: Annotated[str, Query(min_length=1, max_length=64)],
    start: Annotated[date, date_query("from", "first date of service")],
    end: Annotated[date, date_query("to", "last date of service (inclusive)")],
    as_of: Annotated[AwareDatetime | None, as_of_query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ComplianceReportOut:
    """Violations of frequency and interval rules (each in the guideline's terms, with the
    date it would have been allowed), procedures no approved authorization covers, and
    approvals the rules deny with what is known now; ``summary`` counts them by kind, rule,
    family, region, month and provider, with violation rates and cap utilization."""
    policy = registry.get(policy_set)
    period = period_of(start, end)
    with app_report_source(request.app.state) as source:
        report = compliance_report(source, policy, period, as_of)
    return ComplianceReportOut.model_validate(report.as_json(offset, limit))
