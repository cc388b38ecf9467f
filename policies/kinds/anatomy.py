"""Rule kinds about the spine treated: how many and which levels, a conflicting surgery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, StrictBool, StrictStr

from policies.context import Context, Verdict, failed, missing, passed
from policies.kinds.base import (
    Count,
    Kind,
    Params,
)


class LevelsLimitParams(Params):
    max_levels: Count | None = Field(
        default=None, description="at most this many levels in one procedure"
    )
    allowed_levels: tuple[StrictStr, ...] | None = Field(
        default=None, description="the only levels allowed, in order"
    )


def _levels_limit(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """How many and which levels one procedure may treat (no levels given -> missing)."""
    levels = ctx.proposed.levels
    if not levels:
        return missing("the procedure's levels are not given")
    most = params.get("max_levels")
    allowed = params.get("allowed_levels")
    if most is not None and len(levels) > most:
        return failed(f"{len(levels)} levels requested; at most {most}")
    if allowed is not None:
        outside = [lv for lv in levels if lv not in allowed]
        if outside:
            return failed(f"levels {', '.join(outside)} are outside {allowed[0]}..{allowed[-1]}")
    return passed(f"levels {', '.join(levels)} are within the limits")


class SurgeryConflictParams(Params):
    surgery_kind: StrictStr | None = Field(
        default=None, description="the kind of surgery (null: any)"
    )
    overlapping_levels: StrictBool = Field(
        default=False, description="only a surgery at an overlapping level conflicts"
    )


def _surgery_conflict(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """A prior surgery of the kind in the region (at an overlapping level) fails."""
    wanted = params.get("surgery_kind")
    overlap = bool(params.get("overlapping_levels"))
    levels = set(ctx.proposed.levels)
    for s in ctx.state.surgeries(ctx.proposed.region):
        if s.date > ctx.on or (wanted is not None and s.surgery_kind != wanted):
            continue
        if not overlap:
            return failed(f"{wanted or 'surgery'} in {s.region} on {s.date}")
        if not levels:
            return missing(
                f"{wanted or 'surgery'} on {s.date}: the procedure's levels are "
                "needed to rule out an overlap"
            )
        common = levels & set(s.levels)
        if common:
            return failed(f"{wanted or 'surgery'} on {s.date} at {', '.join(sorted(common))}")
    return passed(f"no {wanted or 'surgery'} in {ctx.proposed.region} conflicts")


KINDS: tuple[Kind, ...] = (
    Kind.of("levels_limit", _levels_limit, LevelsLimitParams),
    Kind.of("surgery_conflict", _surgery_conflict, SurgeryConflictParams),
)
