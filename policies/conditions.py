"""The condition language: when a rule applies (``when`` / ``unless``), and the dates on
which that may change (the next-eligible search never jumps past them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from policies.values import Ref
from projections.calendar import Span
from projections.state import EPISODE_GAP, FIRST_YEAR

if TYPE_CHECKING:
    from policies.context import Context


@dataclass(frozen=True, slots=True)
class OtherSince:
    """Condition helper: a procedure of ``families`` (in ``region``, or the proposed region
    when None) dated after the previous procedure of the proposed family and before the date
    decided."""

    families: frozenset[str]
    region: str | None = None


@dataclass(frozen=True, slots=True)
class When:
    """When a rule applies: every field given must hold (all ``None``: always).

    ``*_in`` sets may contain ``None`` to match an absent value. Positions are 1-based
    within the episode of the proposed procedure (computed from prior procedures)."""

    min_position: int | None = None
    max_position: int | None = None
    new_episode: bool | None = None
    first_year: bool | None = None
    has_previous: bool | None = None  # a prior procedure of the family in the region
    intent_in: frozenset[str | None] | None = None
    agent_in: frozenset[str | None] | None = None
    indication_in: frozenset[str | None] | None = None
    indication_not_in: frozenset[str | None] | None = None
    approach_in: frozenset[str | None] | None = None
    cpt_in: frozenset[str] | None = None  # the primary (first) code
    region_in: frozenset[str] | None = None
    laterality_in: frozenset[str | None] | None = None
    previous_intent_in: frozenset[str | None] | None = None
    previous_agent_in: frozenset[str | None] | None = None
    previous_within: Span | Ref | None = None  # DOS < previous DOS + span
    opposite_side_of_previous: Span | Ref | None = None  # previous: other side, same levels
    other_since_previous: OtherSince | None = None
    prior_in_window: tuple[Span | Ref, int, int | None] | None = None  # (length, min, max)

    def holds(self, ctx: Context) -> bool:
        p = ctx.proposed
        if self.min_position is not None or self.max_position is not None:
            pos = ctx.placement.position
            if self.min_position is not None and pos < self.min_position:
                return False
            if self.max_position is not None and pos > self.max_position:
                return False
        if self.new_episode is not None and ctx.placement.new_episode != self.new_episode:
            return False
        if self.first_year is not None and ctx.placement.first_year != self.first_year:
            return False
        if self.has_previous is not None and (ctx.previous is not None) != self.has_previous:
            return False
        for wanted, value in (
            (self.intent_in, p.intent),
            (self.agent_in, p.agent),
            (self.indication_in, p.indication),
            (self.approach_in, p.approach),
            (self.laterality_in, p.laterality),
            (self.region_in, p.region),
            (self.cpt_in, p.primary_cpt),
        ):
            if wanted is not None and value not in wanted:
                return False
        if self.indication_not_in is not None and p.indication in self.indication_not_in:
            return False
        prev = ctx.previous
        if self.previous_intent_in is not None and (
            prev is None or prev.intent not in self.previous_intent_in
        ):
            return False
        if self.previous_agent_in is not None and (
            prev is None or prev.agent not in self.previous_agent_in
        ):
            return False
        if self.previous_within is not None and (
            prev is None or ctx.on >= ctx.span(self.previous_within).after(prev.date_of_service)
        ):
            return False
        if self.opposite_side_of_previous is not None and not ctx.opposite_side_of_previous(
            ctx.span(self.opposite_side_of_previous)
        ):
            return False
        if self.other_since_previous is not None:
            wanted_f = self.other_since_previous
            region = wanted_f.region or p.region
            if prev is None or not any(
                q.family in wanted_f.families
                and q.region == region
                and prev.date_of_service < q.date_of_service < ctx.on
                for q in ctx.state.procedures
            ):
                return False
        if self.prior_in_window is not None:
            length, low, high = self.prior_in_window
            n = ctx.family_state.count_in_window(ctx.on, ctx.span(length), before=ctx.on)
            if n < low or (high is not None and n > high):
                return False
        return True

    def changes_after(self, ctx: Context) -> list[date]:
        """Dates after the one decided on which :meth:`holds` may turn (a prior procedure
        leaves a window, the previous one falls out of a span, the first year or the 2-year
        episode gap ends). The next-eligible search never jumps past them, since a failing
        rule may stop applying there before its own passing date."""
        found: list[date] = []
        prev = ctx.previous
        if prev is not None:
            for span in (self.previous_within, self.opposite_side_of_previous):
                if span is not None:
                    found.append(ctx.span(span).after(prev.date_of_service))
            if self.new_episode is not None:
                found.append(EPISODE_GAP.after(prev.date_of_service))
        if self.first_year is not None:
            found.append(FIRST_YEAR.after(ctx.placement.episode_start))
        if self.prior_in_window is not None:
            length = ctx.span(self.prior_in_window[0])
            found.extend(
                window_exit(q.date_of_service, length) for q in ctx.family_state.prior(ctx.on)
            )
        return [d for d in found if d > ctx.on]


def window_exit(day: date, length: Span) -> date:
    """The first end date whose rolling window of ``length`` no longer holds ``day``."""
    end = length.after(day)
    while length.before(end) < day:
        end += timedelta(days=1)
    return end


ALWAYS = When()
