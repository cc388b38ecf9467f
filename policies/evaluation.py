"""Evaluation: every applicable rule of every guideline on one date, as reasons merged by
rule id, and the verdict they add up to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from policies.context import Context, Status
from policies.kinds import KINDS
from policies.model import Citation, Clinical, Guideline, GuidelineVersion, Proposed
from projections.state import PatientState

_SEVERITY = {Status.PASS: 0, Status.MISSING: 1, Status.FAIL: 2}


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule's answer in a decision."""

    rule: str
    status: Status
    message: str
    citation: Citation | None
    guideline: str
    time_rule: bool = False  # a failure that waiting cures
    next_date: date | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """A guideline and the version of it used."""

    guideline: Guideline
    version: GuidelineVersion


def _merge(first: Reason, other: Reason) -> Reason:
    """Two checks of one rule id: the worst status wins; messages join."""
    worst = first if _SEVERITY[first.status] >= _SEVERITY[other.status] else other
    failing = [r for r in (first, other) if r.status is Status.FAIL]
    timed = bool(failing) and all(r.time_rule for r in failing)
    dates = [r.next_date for r in failing if r.next_date is not None]
    return Reason(
        rule=first.rule,
        status=worst.status,
        message=f"{first.message}; {other.message}",
        citation=first.citation,
        guideline=first.guideline,
        time_rule=timed,
        next_date=max(dates) if timed and dates else None,
    )


def evaluate(
    guidelines: Iterable[Guideline], state: PatientState, proposed: Proposed, clinical: Clinical
) -> tuple[list[Applied], list[Reason]]:
    """Every applicable rule of every guideline on the proposed date, merged by rule id."""
    applied: list[Applied] = []
    by_id: dict[str, Reason] = {}
    for guideline in guidelines:
        version = guideline.version_on(proposed.date_of_service)
        applied.append(Applied(guideline, version))
        ctx = Context(state, proposed, clinical, version)
        for rule in guideline.rules:
            if not rule.in_force(proposed.date_of_service) or not rule.when.holds(ctx):
                continue
            if rule.unless is not None and rule.unless.holds(ctx):
                continue
            verdict = KINDS[rule.kind].evaluate(ctx, rule.params)
            if verdict is None:
                continue
            reason = Reason(
                rule=rule.id,
                status=verdict.status,
                message=verdict.message,
                citation=rule.citation,
                guideline=guideline.id,
                time_rule=verdict.status is Status.FAIL and verdict.timed and rule.time_rule,
                next_date=verdict.next_date if rule.time_rule else None,
            )
            by_id[rule.id] = _merge(by_id[rule.id], reason) if rule.id in by_id else reason
    return applied, list(by_id.values())


def verdict_of(reasons: Iterable[Reason]) -> str:
    statuses = {r.status for r in reasons}
    if Status.FAIL in statuses:
        return "not_eligible"
    if Status.MISSING in statuses:
        return "pending_documentation"
    return "eligible"
