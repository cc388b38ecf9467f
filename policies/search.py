"""The next-eligible-date search: the earliest date on which no time rule fails."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from policies.context import Context, Status
from policies.evaluation import Reason, evaluate
from policies.model import Clinical, Guideline, Proposed
from projections.state import PatientState

MAX_SEARCH_STEPS = 128


def next_eligible_date(
    guidelines: Sequence[Guideline],
    state: PatientState,
    proposed: Proposed,
    clinical: Clinical,
    reasons: list[Reason],
) -> date | None:
    """The earliest date on or after the proposed one on which no time rule fails, or None
    when a failing rule is not a time rule (or nothing fails)."""
    failing = [r for r in reasons if r.status is Status.FAIL]
    if not failing or not all(r.time_rule for r in failing):
        return None
    candidate = proposed.date_of_service
    for _ in range(MAX_SEARCH_STEPS):
        timed = [r for r in reasons if r.status is Status.FAIL and r.time_rule]
        if not timed:
            return candidate
        jump = max((r.next_date for r in timed if r.next_date is not None), default=None)
        nxt = jump if jump is not None and jump > candidate else candidate + timedelta(days=1)
        turn = _conditions_turn(guidelines, state, proposed.on(candidate), clinical)
        candidate = min(nxt, turn) if turn is not None else nxt
        _, reasons = evaluate(guidelines, state, proposed.on(candidate), clinical)
    return None


def _conditions_turn(
    guidelines: Iterable[Guideline], state: PatientState, proposed: Proposed, clinical: Clinical
) -> date | None:
    """The first date after the proposed one on which a rule's ``when``/``unless``, its
    effective dates or the version in force may change: rules applying until then stay the
    same rules."""
    on = proposed.date_of_service
    turns: list[date] = []
    for guideline in guidelines:
        version = guideline.version_on(on)
        until = guideline.version_until(version)
        if until is not None and until > on:
            turns.append(until)
        ctx = Context(state, proposed, clinical, version)
        for rule in guideline.rules:
            turns.extend(
                d for d in (rule.effective_from, rule.effective_until) if d is not None and d > on
            )
            for when in (rule.when, rule.unless):
                if when is not None:
                    turns.extend(when.changes_after(ctx))
    return min(turns) if turns else None
