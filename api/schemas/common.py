"""Field types shared by request models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PatientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
EventId = Annotated[str, Field(min_length=1, max_length=128)]
Level = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z][0-9]{1,2}-[A-Za-z][0-9]{1,2}$")]


class StrictModel(BaseModel):
    """Request models reject unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CodeIn(StrictModel):
    cpt: Annotated[str, Field(min_length=1, max_length=16)]
    units: Annotated[int, Field(ge=1, le=100)] = 1
