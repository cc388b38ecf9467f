"""Calendar arithmetic of the counting semantics.

- Dates are calendar dates. "N days/weeks apart": allowed when DOS >= previous DOS + N days.
- Months are calendar months, end of month clamped (2025-01-31 + 1 month = 2025-02-28).
- A rolling window of N months ending on D holds dates strictly after D - N months and on or
  before D.
- "Within" a span of an earlier date means strictly before the earlier date plus the span
  (the complement of "N apart").

Month arithmetic uses pendulum, which clamps to the end of the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import pendulum


@lru_cache(maxsize=65536)
def add_months(day: date, months: int) -> date:
    """``day`` plus (or minus) calendar months, end of month clamped."""
    moved = pendulum.Date(day.year, day.month, day.day).add(months=months)
    return date(moved.year, moved.month, moved.day)


class Unit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


@dataclass(frozen=True, slots=True)
class Span:
    """A length of calendar time: ``Span(14, "days")``, ``Span(2, "months")``."""

    amount: int
    unit: Unit = Unit.DAYS

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", Unit(self.unit))
        if self.amount < 0:
            raise ValueError("a span is never negative")

    def after(self, day: date) -> date:
        """``day`` plus this span."""
        if self.unit is Unit.MONTHS:
            return add_months(day, self.amount)
        days = self.amount * 7 if self.unit is Unit.WEEKS else self.amount
        return day + timedelta(days=days)

    def before(self, day: date) -> date:
        """``day`` minus this span."""
        if self.unit is Unit.MONTHS:
            return add_months(day, -self.amount)
        days = self.amount * 7 if self.unit is Unit.WEEKS else self.amount
        return day - timedelta(days=days)

    def __str__(self) -> str:
        unit = self.unit.value if self.amount != 1 else self.unit.value[:-1]
        return f"{self.amount} {unit}"


def months(n: int) -> Span:
    return Span(n, Unit.MONTHS)


def days(n: int) -> Span:
    return Span(n, Unit.DAYS)


def weeks(n: int) -> Span:
    return Span(n, Unit.WEEKS)


def in_window(day: date, end: date, length: Span) -> bool:
    """Whether ``day`` lies in the rolling window of ``length`` ending on ``end``:
    strictly after ``end - length`` and on or before ``end``."""
    return length.before(end) < day <= end


def within(later: date, earlier: date, length: Span) -> bool:
    """Whether ``later`` is within ``length`` of ``earlier`` (on or after it, and strictly
    before ``earlier + length``)."""
    return earlier <= later < length.after(earlier)
