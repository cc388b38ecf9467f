"""Request and response models of ``POST /v1/events`` and the history endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import (
    PRINTABLE,
    ClinicalDate,
    EventId,
    FreeText,
    Identifier,
    Level,
    PatientId,
    ProcedureFields,
    StrictModel,
)
from domain.catalog import Region
from domain.commands import (
    EventCommand,
    RecordPathology,
    RecordProcedure,
    RecordSurgery,
    ReportOutcome,
    VoidEvent,
)
from domain.vocabulary import SurgeryKind


class _EventIn(StrictModel):
    event_id: EventId
    patient_id: PatientId


class ProcedurePerformedIn(_EventIn, ProcedureFields):
    type: Literal["procedure_performed"]
    authorization_id: Identifier | None = None
    provider_id: Identifier | None = Field(
        default=None, description="the rendering provider (NPI or the payer's provider id)"
    )

    def to_command(self) -> RecordProcedure:
        return RecordProcedure(
            self.event_id,
            self.patient_id,
            self.to_spec(),
            authorization_id=self.authorization_id,
            provider_id=self.provider_id,
        )


class OutcomeReportedIn(_EventIn):
    type: Literal["outcome_reported"]
    procedure_event_id: EventId
    assessed_on: ClinicalDate
    pain_relief_percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    functional_improvement: bool = False

    def to_command(self) -> ReportOutcome:
        return ReportOutcome(
            self.event_id,
            self.patient_id,
            procedure_event_id=self.procedure_event_id,
            assessed_on=self.assessed_on,
            pain_relief_percent=float(self.pain_relief_percent),
            functional_improvement=self.functional_improvement,
        )


class SurgeryPerformedIn(_EventIn):
    type: Literal["surgery_performed"]
    date: ClinicalDate
    region: Region
    levels: Annotated[list[Level], Field(max_length=12)] = []
    kind: SurgeryKind | None = None

    def to_command(self) -> RecordSurgery:
        return RecordSurgery(
            self.event_id,
            self.patient_id,
            date=self.date,
            region=self.region,
            levels=tuple(self.levels),
            kind=self.kind,
        )


class PathologyDiagnosedIn(_EventIn):
    type: Literal["pathology_diagnosed"]
    date: ClinicalDate
    region: Region
    icd10: Annotated[str, Field(min_length=1, max_length=16, pattern=PRINTABLE)] | None = None

    def to_command(self) -> RecordPathology:
        return RecordPathology(
            self.event_id, self.patient_id, date=self.date, region=self.region, icd10=self.icd10
        )


class EventVoidedIn(_EventIn):
    type: Literal["event_voided"]
    voided_event_id: EventId
    reason: FreeText

    def to_command(self) -> VoidEvent:
        return VoidEvent(
            self.event_id,
            self.patient_id,
            voided_event_id=self.voided_event_id,
            reason=self.reason,
        )


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

    def to_commands(self) -> list[EventCommand]:
        return [event.to_command() for event in self.events]


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
