"""The state summary a decision carries: the region-family state the rules looked at, as
typed values (the API turns it into JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policies.model import Proposed
from projections.calendar import months
from projections.state import PatientState, Procedure


@dataclass(frozen=True, slots=True)
class OutcomeBrief:
    assessed_on: date
    pain_relief_percent: float
    functional_improvement: bool


@dataclass(frozen=True, slots=True)
class ProcedureBrief:
    """The previous procedure of the family in the region, as the rules saw it."""

    date_of_service: date
    codes: tuple[str, ...]
    intent: str
    laterality: str | None
    levels: tuple[str, ...]
    approach: str | None
    agent: str | None
    latest_outcome: OutcomeBrief | None
    outcomes: int  # outcomes counted on the date decided


@dataclass(frozen=True, slots=True)
class StateSummary:
    """Where the proposed procedure falls: its episode, position and recent counts."""

    region: str
    family: str
    episode: int
    episode_start: date
    new_episode: bool
    episode_reason: str
    position: int
    first_year: bool
    prior_in_episode: int
    prior_in_6_months: int
    prior_in_12_months: int
    previous: ProcedureBrief | None


def brief(proc: Procedure, on: date) -> ProcedureBrief:
    seen = proc.counted_outcomes(on)
    latest = seen[-1] if seen else None
    return ProcedureBrief(
        date_of_service=proc.date_of_service,
        codes=tuple(c for c, _ in proc.codes),
        intent=proc.intent,
        laterality=proc.laterality,
        levels=tuple(proc.levels),
        approach=proc.approach,
        agent=proc.agent,
        latest_outcome=None
        if latest is None
        else OutcomeBrief(
            latest.assessed_on, latest.pain_relief_percent, latest.functional_improvement
        ),
        outcomes=len(seen),
    )


def summarize(state: PatientState, proposed: Proposed) -> StateSummary:
    """The region-family state the rules looked at, on the proposed date."""
    fam = state.family(proposed.region, proposed.family)
    on = proposed.date_of_service
    place = fam.placement(on)
    return StateSummary(
        region=proposed.region,
        family=proposed.family,
        episode=place.episode_number,
        episode_start=place.episode_start,
        new_episode=place.new_episode,
        episode_reason=place.reason.value,
        position=place.position,
        first_year=place.first_year,
        prior_in_episode=len(place.prior_in_episode),
        prior_in_6_months=fam.count_in_window(on, months(6), before=on),
        prior_in_12_months=fam.count_in_window(on, months(12), before=on),
        previous=None if place.previous is None else brief(place.previous, on),
    )
