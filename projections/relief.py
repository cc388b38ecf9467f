"""Relief of a procedure against a threshold, as of the date being decided.

- An outcome meets T when pain_relief_percent >= T or functional_improvement is true
  (:class:`ReliefTest` also expresses the stricter variants some payers use: "> T", or pain
  relief alone).
- Only outcomes assessed on or before the date being decided count.
- "Meets T": the latest counted outcome meets T. "Earliest outcome meets T": the first outcome
  of that procedure meets T. With no counted outcome either is missing (``None``).
- Sustained relief, "meets T sustained M months": the sustained end is the latest assessed_on
  such that every counted outcome assessed on or before it meets T. In order: (1) the
  sustained end is on or after DOS + M months -> pass; (2) some counted outcome misses T ->
  fail; (3) the date being decided is before DOS + M months -> fail as a time rule, next
  eligible on DOS + M months; (4) otherwise (no outcome, or none late enough) -> missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from projections.calendar import Span


class HasRelief(Protocol):
    @property
    def assessed_on(self) -> date: ...
    @property
    def pain_relief_percent(self) -> float: ...
    @property
    def functional_improvement(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ReliefTest:
    """What "meets T" means for one rule."""

    threshold: float
    strictly_above: bool = False  # pain relief must be > T rather than >= T
    functional_counts: bool = True  # functional improvement alone meets T

    def met_by(self, outcome: HasRelief) -> bool:
        relief = outcome.pain_relief_percent
        by_pain = relief > self.threshold if self.strictly_above else relief >= self.threshold
        return by_pain or (self.functional_counts and outcome.functional_improvement)

    def describe(self) -> str:
        cmp = ">" if self.strictly_above else ">="
        extra = " or functional improvement" if self.functional_counts else ""
        return f"pain relief {cmp} {self.threshold:g}%{extra}"


def counted(outcomes: Sequence[HasRelief], on: date) -> list[HasRelief]:
    """Outcomes assessed on or before ``on`` (outcomes are kept in assessment order)."""
    return [o for o in outcomes if o.assessed_on <= on]


def latest_meets(outcomes: Sequence[HasRelief], test: ReliefTest, on: date) -> bool | None:
    """ "Meets T": the latest counted outcome meets T; ``None`` when none is counted."""
    seen = counted(outcomes, on)
    return test.met_by(seen[-1]) if seen else None


def earliest_meets(outcomes: Sequence[HasRelief], test: ReliefTest, on: date) -> bool | None:
    """ "Earliest outcome meets T": the first counted outcome meets T; ``None`` when none."""
    seen = counted(outcomes, on)
    return test.met_by(seen[0]) if seen else None


class Sustained(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    TIME_FAIL = "time_fail"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class SustainedRelief:
    """The verdict of "meets T sustained M months" for one procedure on one date."""

    status: Sustained
    due_on: date  # DOS + M months
    sustained_end: date | None  # latest date through which every counted outcome met T
    next_eligible: date | None  # for TIME_FAIL: DOS + M months
    missed_on: date | None = None  # for FAIL: the first counted outcome that missed T


def sustained(
    date_of_service: date,
    outcomes: Sequence[HasRelief],
    test: ReliefTest,
    length: Span,
    on: date,
) -> SustainedRelief:
    """Apply the sustained-relief algorithm in its fixed order."""
    due_on = length.after(date_of_service)
    seen = counted(outcomes, on)
    sustained_end: date | None = None
    missed_on: date | None = None
    before_day: date | None = None  # sustained end up to the day before the current one
    for outcome in seen:
        if sustained_end != outcome.assessed_on:
            before_day = sustained_end
        if test.met_by(outcome):
            sustained_end = outcome.assessed_on
        else:
            # A miss on a day disqualifies that whole day, even if another outcome that
            # day met T.
            missed_on = outcome.assessed_on
            if sustained_end == outcome.assessed_on:
                sustained_end = before_day
            break
    if sustained_end is not None and sustained_end >= due_on:
        return SustainedRelief(Sustained.PASS, due_on, sustained_end, None)
    if missed_on is not None:
        return SustainedRelief(Sustained.FAIL, due_on, sustained_end, None, missed_on)
    if on < due_on:
        return SustainedRelief(Sustained.TIME_FAIL, due_on, sustained_end, due_on)
    return SustainedRelief(Sustained.MISSING, due_on, sustained_end, None)
