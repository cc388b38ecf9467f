"""Field types shared by request models."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from domain.catalog import Region
from domain.commands import ProcedureSpec
from domain.events import BilledCode
from domain.vocabulary import Agent, Approach, Indication, Intent, Laterality

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

    date_of_service: date
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
