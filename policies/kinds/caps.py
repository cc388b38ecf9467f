"""Rule kinds about counts: a rolling window, the opening stretch of an episode, units of a
code group on one date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import Field, StrictStr

from policies.conditions import window_exit
from policies.context import Context, Verdict, failed, passed, wait
from policies.kinds.base import (
    SCOPE_DOC,
    Count,
    Kind,
    Names,
    Params,
    family_name,
)
from policies.values import CountOrRef, DurationOrRef, Scope
from projections.calendar import Span, in_window


def _cap_usage(
    ctx: Context, on: date, length: Span, pairing: Span | None, scope: str
) -> tuple[int, int]:
    """(prior procedures counted in the window ending ``on``, what the proposed adds)."""
    p = ctx.proposed
    if scope == "patient":
        prior = sum(
            1
            for q in ctx.state.of_family(p.family)
            if q.date_of_service < on and in_window(q.date_of_service, on, length)
        )
        return prior, 1
    fam = ctx.family_state
    if pairing is None:
        return fam.count_in_window(on, length, before=on), 1
    prior = fam.counted_in_window(on, length, pairing, before=on)
    partner = fam.partner_for(on, p.laterality, p.levels, pairing)
    adds = (
        0
        if partner is not None
        and partner.date_of_service < on
        and in_window(partner.date_of_service, on, length)
        else 1
    )
    return prior, adds


class RollingCapParams(Params):
    length: DurationOrRef = Field(description="the rolling window, e.g. P12M")
    limit: CountOrRef = Field(
        description="at most this many in the window, the proposed one included"
    )
    scope: Scope = Field(default="region", description=SCOPE_DOC)
    pairing: DurationOrRef | None = Field(
        default=None,
        description="bilateral pairing window: opposite sides at the same levels within it "
        "count once",
    )
    lifted_by: StrictStr | None = Field(
        default=None, description="clinical fact that raises or lifts the cap"
    )
    lifted_limit: Count | None = Field(
        default=None, description="the cap with that fact (absent: no cap at all)"
    )


def _rolling_cap(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """At most ``limit`` in a rolling window (dates after end - length, before the DOS),
    the proposed included; next eligible on the first date the count fits. ``lifted_by`` is
    an exception: attested true it raises the cap to ``lifted_limit`` (or lifts it);
    absent or false the plain cap applies."""
    length = ctx.span(params["length"])
    limit = int(ctx.param(params["limit"]))
    scope = params.get("scope", "region")
    pairing = ctx.span(params["pairing"]) if params.get("pairing") is not None else None
    prior, adds = _cap_usage(ctx, ctx.on, length, pairing, scope)
    total = prior + adds
    pairs = " (bilateral pairs count once)" if pairing else ""
    name = family_name(ctx.proposed.family)
    where = "" if scope == "patient" else f" in {ctx.proposed.region}"
    counted = (
        f"{prior} {name}(s){where} in the {length} before {ctx.on}{pairs}, "
        f"{'and this one pairs with one of them' if adds == 0 else 'plus this one'}"
    )
    if total <= limit:
        return passed(f"{counted}: {total} of at most {limit}")
    fact = params.get("lifted_by")
    effective = limit
    note = ""
    if fact:
        lifted = params.get("lifted_limit")
        if ctx.fact(fact) is True:
            if lifted is None or total <= lifted:
                return passed(
                    f"{counted}: {total}, allowed with {fact}"
                    + (f" (at most {lifted})" if lifted is not None else "")
                )
            effective = lifted
            note = f" (raised by {fact})"
        else:
            # An exception, not a requirement: unless attested, the plain cap applies.
            note = f" ({fact} not attested)"
    due = _cap_fits_on(ctx, length, pairing, scope, effective)
    return wait(f"{counted}: {total} exceeds the cap of {effective}{note}; allowed from {due}", due)


def _cap_fits_on(ctx: Context, length: Span, pairing: Span | None, scope: str, limit: int) -> date:
    """The first date after the DOS on which the count fits under ``limit``: the count can
    only drop on a date some procedure leaves the window, so only those dates are tried."""
    p = ctx.proposed
    procs = ctx.state.of_family(p.family) if scope == "patient" else ctx.family_state.procedures
    exits = sorted(
        {
            window_exit(q.date_of_service, length)
            for q in procs
            if window_exit(q.date_of_service, length) > ctx.on
        }
    )
    for day in exits:
        prior, adds = _cap_usage(ctx, day, length, pairing, scope)
        if prior + adds <= limit:
            return day
    return exits[-1] if exits else ctx.on + timedelta(days=1)


class EpisodeCapParams(Params):
    span: DurationOrRef = Field(
        description="the opening stretch of the episode, e.g. P12M (first year)"
    )
    limit: CountOrRef = Field(description="at most this many in it, the proposed one included")
    label: StrictStr = Field(description="name of the stretch, e.g. 'first year of treatment'")


def _episode_cap(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """At most ``limit`` procedures in the first ``span`` of the episode (applies only while
    the DOS is inside it); next eligible when that stretch ends."""
    place = ctx.placement
    span = ctx.span(params["span"])
    end = span.after(place.episode_start)
    if ctx.on >= end:
        return None
    limit = int(ctx.param(params["limit"]))
    prior = sum(1 for q in place.prior_in_episode if q.date_of_service < end)
    name = family_name(ctx.proposed.family)
    label = params["label"]
    counted = (
        f"{prior} prior {name}(s) in the {label} of the episode started "
        f"{place.episode_start} (until {end})"
    )
    if prior + 1 <= limit:
        return passed(f"{counted}: this one makes {prior + 1} of at most {limit}")
    return wait(f"{counted}: the cap of {limit} is reached; allowed from {end}", end)


class UnitsPerDayParams(Params):
    code_groups: tuple[Names, ...] = Field(description="groups of codes whose units add up")
    limit: Count = Field(description="at most this many units of a group on one date")
    label: StrictStr = Field(description="what is counted, e.g. 'transforaminal levels'")


def _units_per_day(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """Units of a code group on one date, the proposed procedure and the patient's other
    procedures that date together, at most ``limit``."""
    limit = int(params["limit"])
    label = params["label"]
    for group in params["code_groups"]:
        own = ctx.proposed.units(*group)
        if own == 0:
            continue
        others = sum(q.units(*group) for q in ctx.state.on_date(ctx.on))
        total = own + others
        text = f"{total} {label} on {ctx.on} ({own} requested, {others} already recorded)"
        if total > limit:
            return failed(f"{text}: more than {limit}")
        return passed(f"{text}: at most {limit}")
    return None


KINDS: tuple[Kind, ...] = (
    Kind.of("rolling_cap", _rolling_cap, RollingCapParams, can_wait=True),
    Kind.of("episode_cap", _episode_cap, EpisodeCapParams, can_wait=True),
    Kind.of("units_per_day", _units_per_day, UnitsPerDayParams),
)
