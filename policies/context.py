"""What a rule kind sees and says: the context of one rule on one date, and its verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any

from policies.model import Clinical, GuidelineVersion, Proposed
from policies.values import Ref
from projections.calendar import Span
from projections.state import FamilyState, PatientState, Placement, Procedure


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an evaluator says: ``timed`` marks a failure that waiting cures, with
    ``next_date`` the evaluator's own earliest passing date."""

    status: Status
    message: str
    timed: bool = False
    next_date: date | None = None


def passed(message: str) -> Verdict:
    return Verdict(Status.PASS, message)


def failed(message: str) -> Verdict:
    return Verdict(Status.FAIL, message)


def missing(message: str) -> Verdict:
    return Verdict(Status.MISSING, message)


def wait(message: str, until: date) -> Verdict:
    """A failure cured by waiting until ``until``."""
    return Verdict(Status.FAIL, message, timed=True, next_date=until)


class Context:
    """Everything an evaluator may consult for one rule on one date."""

    def __init__(
        self, state: PatientState, proposed: Proposed, clinical: Clinical, version: GuidelineVersion
    ) -> None:
        self.state = state
        self.proposed = proposed
        self.clinical = clinical
        self.version = version

    @property
    def on(self) -> date:
        return self.proposed.date_of_service

    @cached_property
    def family_state(self) -> FamilyState:
        return self.state.family(self.proposed.region, self.proposed.family)

    @cached_property
    def placement(self) -> Placement:
        return self.family_state.placement(self.on)

    @property
    def previous(self) -> Procedure | None:
        """The latest prior procedure of the family in the region (any episode)."""
        return self.placement.previous

    def param(self, value: Any) -> Any:
        """Resolve a ``Ref`` against the version in force."""
        if isinstance(value, Ref):
            try:
                return self.version.params[value.name]
            except KeyError:
                raise KeyError(
                    f"version {self.version.id} has no parameter {value.name!r}"
                ) from None
        return value

    def span(self, value: Span | Ref) -> Span:
        resolved = self.param(value)
        assert isinstance(resolved, Span)
        return resolved

    def fact(self, name: str) -> Any:
        return self.clinical.get(name)

    def opposite_side_of_previous(self, window: Span) -> bool:
        """The previous procedure was unilateral on the other side at the same (non-empty)
        levels, and the date decided is within ``window`` of it."""
        prev = self.previous
        p = self.proposed
        sides = {"left": "right", "right": "left"}
        return (
            prev is not None
            and p.laterality in sides
            and prev.laterality == sides[p.laterality]
            and bool(p.levels)
            and frozenset(prev.levels) == frozenset(p.levels)
            and self.on < window.after(prev.date_of_service)
        )
