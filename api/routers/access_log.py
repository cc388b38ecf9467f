"""``GET /v1/access-log``: the access trail, for auditors."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.schemas.access import AccessEntryOut, AccessLogOut
from api.schemas.common import IsoDateTime, PatientId
from api.security import allow
from application.access import Role

router = APIRouter(prefix="/v1", tags=["access"], dependencies=[allow(Role.AUDITOR)])


@router.get("/access-log", response_model=AccessLogOut)
def get_access_log(
    request: Request,
    patient_id: Annotated[PatientId | None, Query()] = None,
    start: Annotated[
        IsoDateTime | None,
        Query(alias="from", description="Entries at or after this instant (naive means UTC)"),
    ] = None,
    end: Annotated[
        IsoDateTime | None,
        Query(alias="to", description="Entries before this instant (naive means UTC)"),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessLogOut:
    """Who accessed which patient's data, through which route, with what outcome, in
    recording order. Every guarded request is recorded, denied ones included, one entry per
    patient it named (``patient_id`` null when it named none)."""
    start, end = _utc(start), _utc(end)
    total, entries = request.app.state.access.store.query(
        patient_id=patient_id, start=start, end=end, offset=offset, limit=limit
    )
    return AccessLogOut(
        patient_id=patient_id,
        start=start,
        end=end,
        total=total,
        offset=offset,
        limit=limit,
        next_offset=offset + limit if offset + limit < total else None,
        entries=[AccessEntryOut(**asdict(e)) for e in entries],
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
