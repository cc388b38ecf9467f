"""``POST /v1/events`` and ``GET /v1/patients/{patient_id}/history``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import TrackerDep
from api.errors import error_responses
from api.schemas.common import IsoAwareDateTime, ModelResponse, PatientIdPath, as_of_query
from api.schemas.events import EventBatchIn, EventBatchOut, EventResult, HistoryItem, HistoryOut
from api.security import allow
from application.access import Role
from domain.catalog import Region

router = APIRouter(prefix="/v1", tags=["events"])


@router.post(
    "/events",
    response_model=EventBatchOut,
    dependencies=[allow(Role.SUBMITTER)],
    responses=error_responses(409),
)
def post_events(batch: EventBatchIn, tracker: TrackerDep) -> ModelResponse:
    """Record a batch of 1..1000 events, all or nothing. Resending an event with the same
    ``event_id`` and content is a ``duplicate``; different content is a 409."""
    results = tracker.record(batch.to_commands())
    return ModelResponse(
        EventBatchOut(results=[EventResult(event_id=r.event_id, status=r.status) for r in results])
    )


@router.get(
    "/patients/{patient_id}/history",
    response_model=HistoryOut,
    dependencies=[allow(Role.AUDITOR)],
)
def get_history(
    tracker: TrackerDep,
    patient_id: PatientIdPath,
    as_of: Annotated[IsoAwareDateTime | None, as_of_query()] = None,
    region: Region | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> HistoryOut:
    """The patient's events in recording order as known ``as_of`` (default: now)."""
    total, page = tracker.history_page(
        patient_id, as_of=as_of, region=region, offset=offset, limit=limit
    )
    next_offset = offset + limit if offset + limit < total else None
    return HistoryOut(
        patient_id=patient_id,
        as_of=as_of,
        region=region,
        total=total,
        offset=offset,
        limit=limit,
        next_offset=next_offset,
        events=[HistoryItem(**asdict(i)) for i in page],
    )
