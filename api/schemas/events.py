"""Request and response models of ``POST /v1/events`` and the history endpoint."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import EventId, Level, PatientId, ProcedureFields, StrictModel
from domain.catalog import Region
from domain.vocabulary import SurgeryKind


class _EventIn(StrictModel):
    event_id: EventId
    patient_id: PatientId


class ProcedurePerformedIn(_EventIn, ProcedureFields):
    type: Literal["procedure_performed"]
    authorization_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    provider_id: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        default=None, description="the rendering provider (NPI or the payer's provider id)"
    )


class OutcomeReportedIn(_EventIn):
    type: Literal["outcome_reported"]
    procedure_event_id: EventId
    assessed_on: date
    pain_relief_percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    functional_improvement: bool = False


class SurgeryPerformedIn(_EventIn):
    type: Literal["surgery_performed"]
    date: date
    region: Region
    levels: Annotated[list[Level], Field(max_length=12)] = []
    kind: SurgeryKind | None = None


class PathologyDiagnosedIn(_EventIn):
    type: Literal["pathology_diagnosed"]
    date: date
    region: Region
    icd10: Annotated[str, Field(min_length=1, max_length=16)] | None = None


class EventVoidedIn(_EventIn):
    type: Literal["event_voided"]
    voided_event_id: EventId
    reason: Annotated[str, Field(min_length=1, max_length=500)]


EventIn = Annotated[
    ProcedurePerformedIn
    | OutcomeReportedIn
    | SurgeryPerformedIn
    | PathologyDiagnosedIn
    | EventVoidedIn,
    Field(discriminator="type"),
]


class EventBatchIn(StrictModel):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=1000)]


class EventResult(BaseModel):
    event_id: str
    status: Literal["recorded", "duplicate"]


class EventBatchOut(BaseModel):
    results: list[EventResult]


class HistoryItem(BaseModel):
    type: str
    event_id: str
    region: str
    recorded_at: datetime
    voided_by: str | None = None
    fields: dict[str, Any]


class HistoryOut(BaseModel):
    patient_id: str
    as_of: datetime | None
    region: Region | None
    total: int
    offset: int
    limit: int
    next_offset: int | None
    events: list[HistoryItem]
