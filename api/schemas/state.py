"""Response models of ``GET /v1/patients/{patient_id}/state``."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class OutcomeOut(BaseModel):
    event_id: str
    assessed_on: date
    pain_relief_percent: float
    functional_improvement: bool


class ReliefSummaryOut(BaseModel):
    """Relief of a procedure as of the state's date: only outcomes assessed on or before it
    count. ``meets`` / ``earliest_meets`` map a threshold ("30", "50", "80") to whether the
    latest / first counted outcome reaches it (pain relief >= T or functional improvement);
    ``null`` when no outcome is counted."""

    outcomes_counted: int
    latest_outcome: OutcomeOut | None
    earliest_outcome: OutcomeOut | None
    meets: dict[str, bool | None]
    earliest_meets: dict[str, bool | None]


class ProcedureOut(BaseModel):
    event_id: str
    date_of_service: date
    primary_cpt: str
    laterality: str | None
    levels: list[str]
    episode_number: int
    position: int = Field(description="1-based position of the procedure in its episode")
    first_year: bool = Field(description="dated before its episode start + 12 months")


class LastProcedureOut(ProcedureOut):
    relief: ReliefSummaryOut


class EpisodeOut(BaseModel):
    number: int
    start: date
    reason: str = Field(description="first_procedure | two_year_gap | surgery | pathology")
    procedures: int = Field(description="procedures of the episode dated on or before `on`")
    first_year_end: date = Field(description="first year of treatment: DOS before this date")


class NextPlacementOut(BaseModel):
    """Where another procedure of this family dated `on` would fall."""

    episode_number: int
    new_episode: bool
    reason: str
    position: int
    first_year: bool
    first_year_count: int = Field(
        description="procedures of that episode dated before `on` and in its first year"
    )


class FamilyStateOut(BaseModel):
    family: str
    count_6m: int = Field(description="procedures in the rolling 6 months ending on `on`")
    count_12m: int = Field(description="procedures in the rolling 12 months ending on `on`")
    counted_6m: int = Field(
        description="as count_6m, bilateral pairs (facet, rfa; 1-month window) counted once"
    )
    counted_12m: int = Field(
        description="as count_12m, bilateral pairs (facet, rfa; 1-month window) counted once"
    )
    episodes: list[EpisodeOut]
    procedures: list[ProcedureOut]
    last_procedure: LastProcedureOut | None
    next: NextPlacementOut


class RegionStateOut(BaseModel):
    region: str
    families: list[FamilyStateOut]


class PatientStateOut(BaseModel):
    patient_id: str
    on: date = Field(description="the date the state is computed for")
    as_of: datetime | None = Field(description="knowledge instant (null: everything recorded)")
    voided_events: int
    regions: list[RegionStateOut]
