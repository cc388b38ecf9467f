"""Field types shared by request models."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.catalog import Region
from domain.commands import ProcedureSpec
from domain.events import BilledCode
from domain.vocabulary import Agent, Approach, Indication, Intent, Laterality

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$"
)


def _date_text(value: Any) -> Any:
    """Dates only as ``YYYY-MM-DD`` text: pydantic would read ``0`` as 1970-01-01."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _datetime_text(value: Any) -> Any:
    """Instants only as ISO 8601 text: pydantic would read ``0`` as 1970-01-01T00:00Z."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("must be an ISO 8601 date and time, e.g. 2025-03-10T14:30:00Z")
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_datetime_text)]

PatientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
PatientIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
EventId = Annotated[str, Field(min_length=1, max_length=128)]
Level = Annotated[
    str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z][0-9]{1,2}-[A-Za-z][0-9]{1,2}$")
]


class StrictModel(BaseModel):
    """Request models reject unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CodeIn(StrictModel):
    cpt: Annotated[str, Field(min_length=1, max_length=16)]
    units: Annotated[int, Field(ge=1, le=100)] = 1


class ProcedureFields(StrictModel):
    """What describes a procedure, performed or proposed: the same fields in
    ``procedure_performed`` events and in eligibility requests."""

    date_of_service: IsoDate
    region: Region
    codes: Annotated[list[CodeIn], Field(min_length=1, max_length=20)]
    laterality: Laterality | None = None
    levels: Annotated[list[Level], Field(max_length=12)] = []
    intent: Intent = Intent.THERAPEUTIC
    agent: Agent | None = None
    indication: Indication | None = None
    approach: Approach | None = None
    device_type: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    def to_spec(self) -> ProcedureSpec:
        return ProcedureSpec(
            date_of_service=self.date_of_service,
            region=self.region,
            codes=tuple(BilledCode(c.cpt, c.units) for c in self.codes),
            laterality=self.laterality,
            levels=tuple(self.levels),
            intent=self.intent,
            agent=self.agent,
            indication=self.indication,
            approach=self.approach,
            device_type=self.device_type,
        )
