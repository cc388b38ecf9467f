"""Rule kinds about time between procedures: after the previous one, across regions, on
the same day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import Field, StrictStr

from policies.context import Context, Status, Verdict, failed, passed, wait
from policies.kinds.base import (
    SCOPE_DOC,
    Count,
    Kind,
    Names,
    Params,
    desc,
    family_name,
    previous,
)
from policies.values import DurationOrRef, Scope


class MinIntervalParams(Params):
    span: DurationOrRef = Field(description="minimum time after the previous procedure")
    scope: Scope = Field(default="region", description=SCOPE_DOC)
    if_previous: dict[str, StrictStr] | None = Field(
        default=None,
        description="attributes of the previous procedure (intent, agent) that select "
        "span_if_previous instead",
    )
    span_if_previous: DurationOrRef | None = Field(
        default=None, description="the span used when if_previous matches"
    )


def _min_interval(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """DOS >= previous DOS + span ("no sooner than N apart"); next eligible on that date."""
    prev = previous(ctx, params.get("scope", "region"))
    if prev is None:
        return None
    span = ctx.span(params["span"])
    match = params.get("if_previous")
    why = ""
    if match and all(getattr(prev, k) == v for k, v in match.items()):
        span = ctx.span(params["span_if_previous"])
        why = " (" + ", ".join(f"{k} {v}" for k, v in match.items()) + ")"
    due = span.after(prev.date_of_service)
    if ctx.on >= due:
        return passed(f"{ctx.on} is at least {span} after {desc(prev)}{why}")
    return wait(f"{ctx.on} is less than {span} after {desc(prev)}{why}; allowed from {due}", due)


class CrossRegionParams(Params):
    days: Count = Field(description="minimum days between procedures in different regions")
    families: Names = Field(description="families of the other procedures considered")
    fact: StrictStr = Field(
        description="clinical fact that allows it (a documented medical reason)"
    )


def _cross_region(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Procedures in another region dated 0 < |days| < N from the DOS fail unless the fact
    (a medical reason) is attested true; next eligible N days after the latest of them."""
    n = int(params["days"])
    near = ctx.state.near(ctx.on, n, params["families"], exclude_region=ctx.proposed.region)
    if not near:
        return passed(f"no other-region procedure within {n} days of {ctx.on}")
    what = ", ".join(f"{family_name(q.family)} in {q.region} on {q.date_of_service}" for q in near)
    fact = params["fact"]
    value = ctx.fact(fact)
    if value is True:
        return passed(f"{what} is within {n} days, with a documented medical reason ({fact})")
    due = max(q.date_of_service for q in near) + timedelta(days=n)
    return wait(
        f"{what} is within {n} days and no medical reason is documented; allowed from {due}", due
    )


class SameDayParams(Params):
    families: Names = Field(description="families of the other procedures considered")
    other_region_fact: StrictStr | None = Field(
        default=None, description="fact allowing a procedure in another region that day"
    )
    same_region_pairs: frozenset[Names] = Field(
        default=frozenset(),
        description="pairs of families allowed together in the same region with same_region_fact",
    )
    same_region_fact: StrictStr | None = Field(
        default=None, description="fact allowing a same_region_pairs combination"
    )


def _same_day(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Other procedures of the patient on the same date: in another region they need the
    other-region fact; in the same region only the allowed pairs with their fact. The facts
    are exceptions: unless attested true, the procedure fails."""
    others = ctx.state.on_date(ctx.on, params["families"])
    if not others:
        return passed(f"no other procedure on {ctx.on}")
    worst: list[Verdict] = []
    for q in others:
        what = f"{family_name(q.family)} in {q.region} on {q.date_of_service}"
        if q.region != ctx.proposed.region:
            fact = params.get("other_region_fact")
        elif frozenset({ctx.proposed.family, q.family}) in params.get(
            "same_region_pairs", frozenset()
        ):
            fact = params.get("same_region_fact")
        else:
            worst.append(failed(f"{what}: not allowed in the same region on the same day"))
            continue
        if fact and ctx.fact(fact) is True:
            worst.append(passed(f"{what}: allowed with {fact}"))
        else:
            worst.append(failed(f"{what}: not allowed on the same day without {fact}"))
    for status in (Status.FAIL, Status.PASS):
        chosen = [v.message for v in worst if v.status is status]
        if chosen:
            return Verdict(status, "; ".join(chosen))
    raise AssertionError("unreachable")


KINDS: tuple[Kind, ...] = (
    Kind.of("min_interval", _min_interval, MinIntervalParams, can_wait=True),
    Kind.of("cross_region_interval", _cross_region, CrossRegionParams, can_wait=True),
    Kind.of("same_day_conflict", _same_day, SameDayParams),
)
