"""Rule kinds about relief: the previous procedure's outcome, a prerequisite procedure with
a qualifying outcome, too many poor responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictStr, model_validator

from domain.catalog import CATALOG
from policies.context import Context, Verdict, failed, missing, passed, wait
from policies.kinds.base import (
    SCOPE_DOC,
    Count,
    Days,
    Kind,
    Names,
    OptionalNames,
    ReliefParams,
    desc,
    family_name,
    previous,
    prior_of,
    relief_test,
)
from policies.values import DurationOrRef, Scope
from projections.relief import ReliefTest, Sustained
from projections.state import Procedure


class PreviousReliefParams(ReliefParams):
    measure: Literal["latest", "earliest", "sustained"] = Field(
        default="latest", description='"latest" (default), "earliest" or "sustained"'
    )
    sustained: DurationOrRef | None = Field(
        default=None, description="for measure sustained: M in 'meets T sustained M'"
    )
    sustained_if_previous_intent: Names | None = Field(
        default=None,
        description="apply sustained only when the previous procedure's intent is one of these "
        "(else latest)",
    )
    and_latest: StrictBool = Field(
        default=False, description="with sustained: the latest outcome must also meet T"
    )
    change_allows: StrictBool = Field(
        default=False, description="a miss still passes when levels or approach differ"
    )
    scope: Scope = Field(default="region", description=SCOPE_DOC)

    @model_validator(mode="after")
    def _sustained_span(self) -> PreviousReliefParams:
        if self.measure == "sustained" and self.sustained is None:
            raise ValueError("measure sustained needs the 'sustained' span")
        return self


def previous_relief(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """The previous procedure's relief against T: "meets T" (latest counted outcome),
    "earliest outcome meets T", or "meets T sustained M" (the waiting part is a time
    failure, next eligible on previous DOS + M)."""
    prev = previous(ctx, params.get("scope", "region"))
    if prev is None:
        return None
    test = relief_test(ctx, params)
    measure = params.get("measure", "latest")
    only = params.get("sustained_if_previous_intent")
    if measure == "sustained" and only is not None and prev.intent not in only:
        measure = "latest"
    what = desc(prev)
    if measure == "sustained":
        span = ctx.span(params["sustained"])
        s = prev.sustained(test, span, ctx.on)
        need = f"{test.describe()} sustained {span} (through {s.due_on})"
        if s.status is Sustained.PASS:
            if params.get("and_latest") and prev.meets(test, ctx.on) is False:
                return failed(f"{what} had {need}, but its latest outcome no longer meets it")
            return passed(f"{what} had {need}")
        if s.status is Sustained.FAIL:
            return failed(f"{what} did not keep {need}: an outcome on {s.missed_on} missed it")
        if s.status is Sustained.TIME_FAIL:
            return wait(f"{what} needs {need}; {ctx.on} is before {s.due_on}", s.due_on)
        return missing(f"{what} needs {need}; no outcome documents relief through {s.due_on}")
    met = prev.earliest_meets(test, ctx.on) if measure == "earliest" else prev.meets(test, ctx.on)
    label = "earliest outcome" if measure == "earliest" else "latest outcome"
    if met is None:
        return missing(f"no outcome of {what} is documented (needs {test.describe()})")
    if met:
        return passed(f"the {label} of {what} meets {test.describe()}")
    if params.get("change_allows"):
        changes = _changes(ctx, prev)
        if changes:
            return passed(
                f"the {label} of {what} does not meet {test.describe()}, but the "
                f"{' and '.join(changes)} differ"
            )
        return failed(
            f"the {label} of {what} does not meet {test.describe()}, and the "
            "levels and approach are the same"
        )
    return failed(f"the {label} of {what} does not meet {test.describe()}")


def _approach_class(approach: str | None, codes: tuple[tuple[str, int], ...]) -> str | None:
    """The approach for comparison: the code's implied approach first (interlaminar and
    caudal are one class), else the stated one."""
    implied = CATALOG[codes[0][0]].approach if codes and codes[0][0] in CATALOG else None
    value = implied or approach
    return "interlaminar" if value == "caudal" else value


def _changes(ctx: Context, prev: Procedure) -> list[str]:
    changes = []
    if frozenset(ctx.proposed.levels) != frozenset(prev.levels):
        changes.append("levels")
    mine = _approach_class(ctx.proposed.approach, ctx.proposed.codes)
    theirs = _approach_class(prev.approach, prev.codes)
    if mine is not None and theirs is not None and mine != theirs:
        changes.append("approach")
    return changes


def _judge(
    proc: Procedure,
    test: ReliefTest,
    measure: str,
    on: date,
    after_days: int | None,
    require_functional: bool,
) -> bool | None:
    counted = proc.counted_outcomes(on)
    if not counted:
        return None
    # With ``after_days``, outcomes assessed sooner show no relief lasting that long: a
    # procedure whose every outcome is too early fails rather than misses.
    seen = [
        o
        for o in counted
        if after_days is None or o.assessed_on >= proc.date_of_service + timedelta(days=after_days)
    ]
    if not seen:
        return False
    o = seen[0] if measure == "earliest" else seen[-1]
    return test.met_by(o) and (not require_functional or o.functional_improvement)


class PriorProcedureParams(ReliefParams):
    family: StrictStr = Field(description="family of the prerequisite procedure")
    scope: Scope = Field(default="region", description=SCOPE_DOC)
    intent_in: Names | None = Field(default=None, description="intents the prerequisite may have")
    approach_in: OptionalNames | None = Field(
        default=None, description="approaches it may have (null allowed for absent)"
    )
    agent_in: OptionalNames | None = Field(
        None, description="agents it may have (null allowed for absent)"
    )
    same_device_type: StrictBool = Field(
        default=False, description="its device_type must equal the proposed one"
    )
    measure: Literal["latest", "earliest"] = Field(
        default="latest", description='"latest" (default) or "earliest" outcome'
    )
    min_count: Count = Field(default=1, description="how many qualifying procedures are needed")
    require_functional: StrictBool = Field(
        default=False, description="the outcome must also show functional improvement"
    )
    assessed_after_days: Days | None = Field(
        default=None,
        description="only outcomes assessed >= its DOS + N days count (only sooner ones: fails)",
    )
    label: StrictStr = Field(description="what the prerequisite is, for messages")


def _prior_procedure(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """A prerequisite: at least ``min_count`` prior procedures matching the filters whose
    outcome meets T. None matching -> fail; not enough yet but some without an outcome ->
    missing."""
    candidates = prior_of(ctx, params.get("scope", "region"), params["family"])
    intents = params.get("intent_in")
    approaches = params.get("approach_in")
    agents = params.get("agent_in")
    candidates = [
        q
        for q in candidates
        if (intents is None or q.intent in intents)
        and (approaches is None or q.approach in approaches)
        and (agents is None or q.agent in agents)
        and (not params.get("same_device_type") or q.device_type == ctx.proposed.device_type)
    ]
    need = int(params.get("min_count", 1))
    label = params["label"]
    test = relief_test(ctx, params)
    relief = test.describe() + (
        " with functional improvement" if params.get("require_functional") else ""
    )
    if not candidates:
        return failed(f"no prior {label} is recorded (needs {need} with {relief})")
    verdicts = [
        _judge(
            q,
            test,
            params.get("measure", "latest"),
            ctx.on,
            params.get("assessed_after_days"),
            bool(params.get("require_functional")),
        )
        for q in candidates
    ]
    met = sum(1 for v in verdicts if v is True)
    pending = sum(1 for v in verdicts if v is None)
    if met >= need:
        return passed(f"{met} prior {label} with {relief} (needs {need})")
    if met + pending >= need:
        return missing(
            f"{met} prior {label} with {relief} of {need} needed; "
            f"{pending} without a documented outcome"
        )
    return failed(f"only {met} prior {label} with {relief} (needs {need})")


class PriorPoorParams(ReliefParams):
    fail_at: Count = Field(
        description="fails when this many prior procedures of the episode miss T"
    )
    measure: Literal["latest", "earliest"] = Field(
        default="latest", description='"latest" (default) or "earliest" outcome'
    )


def _prior_poor(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Counts prior procedures of the episode whose outcome misses T; fails at ``fail_at``."""
    test = relief_test(ctx, params)
    poor = [
        q
        for q in ctx.placement.prior_in_episode
        if _judge(q, test, params.get("measure", "latest"), ctx.on, None, False) is False
    ]
    limit = int(params["fail_at"])
    name = family_name(ctx.proposed.family)
    if len(poor) >= limit:
        dates = ", ".join(str(q.date_of_service) for q in poor)
        return failed(
            f"{len(poor)} prior {name}(s) of the episode without {test.describe()} "
            f"({dates}); at most {limit - 1} allowed"
        )
    return passed(
        f"{len(poor)} prior {name}(s) of the episode without {test.describe()} (fails at {limit})"
    )


KINDS: tuple[Kind, ...] = (
    Kind.of("previous_relief", previous_relief, PreviousReliefParams, can_wait=True),
    Kind.of("prior_procedure", _prior_procedure, PriorProcedureParams),
    Kind.of("prior_poor_responses", _prior_poor, PriorPoorParams),
)
