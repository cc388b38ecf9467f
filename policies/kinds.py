"""The reusable rule kinds: one evaluator per kind, registered in :data:`engine.KINDS`.

Each evaluator reads its (already data-declared) parameters, the projected patient state and
the request, and returns a :class:`~policies.engine.Verdict` (or None when the rule does not
apply to this request). "Prior"/"previous" are procedures of the proposed family in the
proposed region dated strictly before the date decided, unless a kind's ``scope`` parameter
says ``"patient"`` (any region). Span parameters accept a ``Ref`` to the guideline version's
parameters. Clinical facts: absent -> missing; present and unsatisfying -> fail. Facts that are exceptions to a failing rule (a medical
reason for two regions, special circumstances above a cap) apply only when attested true.

Kinds (parameters in each ``@kind`` declaration):

- ``facts``: required clinical facts (``tests``: tuple of :class:`FactTest`).
- ``not_covered``: always fails with the payer's words (``message``).
- ``phase_position``: reports the position of the procedure in its phase; always passes.
- ``min_interval``: DOS >= previous DOS + span (time rule).
- ``previous_relief``: the previous procedure's relief (latest / earliest / sustained).
- ``rolling_cap``: at most ``limit`` in a rolling window, optional bilateral pairing and a
  clinical fact that lifts the cap (time rule).
- ``episode_cap``: at most ``limit`` in the first ``span`` of the episode (time rule).
- ``same_day_conflict``: other procedures of the patient on the same date.
- ``cross_region_interval``: procedures in other regions fewer than N days apart (time rule).
- ``prior_procedure``: a prerequisite prior procedure with a qualifying outcome.
- ``units_per_day``: units of code groups on one date across the patient's procedures.
- ``levels_limit``: how many / which levels one procedure may treat.
- ``surgery_conflict``: a prior surgery of a kind in the region (at overlapping levels).
- ``prior_poor_responses``: too many prior procedures of the episode without relief.
- ``procedure_attribute``: an attribute of the proposed procedure must be stated (and one of
  the allowed values).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from domain.catalog import CATALOG
from policies.engine import (
    Context,
    Params,
    Status,
    Verdict,
    failed,
    kind,
    missing,
    passed,
    wait,
)
from policies.values import CountOrRef, DurationOrRef, Percent, Scope
from projections.calendar import Span, in_window
from projections.relief import ReliefTest, Sustained
from projections.state import Procedure

SCOPE_DOC = '"region" (same family and region, default) or "patient" (same family, any region)'
Count = Annotated[int, Field(ge=1, strict=True)]
Days = Annotated[int, Field(ge=0, strict=True)]
Names = frozenset[StrictStr]
OptionalNames = frozenset[StrictStr | None]
_FAMILY_NAMES = {
    "esi": "epidural steroid injection",
    "facet": "facet injection/medial branch block",
    "rfa": "radiofrequency denervation",
    "sij": "sacroiliac joint injection",
    "sympathetic": "sympathetic nerve block",
    "scs": "spinal cord stimulator procedure",
    "pump": "infusion pump procedure",
    "intrathecal_trial": "intrathecal trial",
    "cyst_aspiration": "facet cyst aspiration",
}


def family_name(family: str) -> str:
    return _FAMILY_NAMES.get(family, family)


def _relief_test(ctx: Context, params: Mapping[str, Any]) -> ReliefTest:
    return ReliefTest(
        float(ctx.param(params["threshold"])),
        strictly_above=bool(params.get("strictly_above", False)),
        functional_counts=bool(params.get("functional_counts", True)),
    )


class ReliefParams(Params):
    threshold: Percent = Field(description="relief percent T")
    strictly_above: StrictBool = Field(False, description="pain relief must be > T (default >= T)")
    functional_counts: StrictBool = Field(
        True, description="functional improvement alone meets T (default true)"
    )


def _prior_of(ctx: Context, scope: str, family: str | None = None) -> list[Procedure]:
    fam = family or ctx.proposed.family
    if scope == "patient":
        return [p for p in ctx.state.of_family(fam) if p.date_of_service < ctx.on]
    if family is None or family == ctx.proposed.family:
        return ctx.family_state.prior(ctx.on)
    return [
        p
        for p in ctx.state.of_family(fam, region=ctx.proposed.region)
        if p.date_of_service < ctx.on
    ]


def _previous(ctx: Context, scope: str) -> Procedure | None:
    if scope == "region":
        return ctx.previous
    prior = _prior_of(ctx, scope)
    return prior[-1] if prior else None


def _desc(proc: Procedure) -> str:
    where = f" at {', '.join(proc.levels)}" if proc.levels else ""
    side = f" {proc.laterality}" if proc.laterality else ""
    return (
        f"the previous {family_name(proc.family)} ({proc.region}{side}{where}, "
        f"{proc.date_of_service})"
    )


# ----------------------------------------------------------------------------- facts


FactOp = Literal["==", ">=", "<=", ">", "<", "in", "not_in"]


class FactTest(BaseModel):
    """One clinical fact the provider must attest: ``clinical[fact] <op> value``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fact: StrictStr = Field(description="the clinical fact's name")
    op: FactOp = Field(description="how the attested value compares with value")
    value: Any = Field(description="the value compared with (a list for in / not_in)")
    label: StrictStr = Field(description="what it means, for messages")

    @model_validator(mode="before")
    @classmethod
    def _sets(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("op") in ("in", "not_in"):
            value = data.get("value")
            if isinstance(value, list | tuple | set):
                return {**data, "value": frozenset(value)}
        return data

    def holds(self, actual: Any) -> bool:
        match self.op:
            case "==":
                return bool(actual == self.value)
            case ">=":
                return bool(actual >= self.value)
            case "<=":
                return bool(actual <= self.value)
            case ">":
                return bool(actual > self.value)
            case "<":
                return bool(actual < self.value)
            case "in":
                return actual in self.value
            case "not_in":
                return actual not in self.value
        raise ValueError(f"unknown operator {self.op!r}")


FACT_OPS = frozenset({"==", ">=", "<=", ">", "<", "in", "not_in"})


class FactsParams(Params):
    tests: tuple[FactTest, ...] = Field(description="every one must hold")


@kind("facts", params=FactsParams)
def _facts(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Clinical facts the provider attests: every test must hold. Absent -> missing;
    present and not satisfying -> fail."""
    fails: list[str] = []
    absent: list[str] = []
    for test in params["tests"]:
        actual = ctx.fact(test.fact)
        if actual is None:
            absent.append(f"{test.fact} ({test.label})")
        elif not test.holds(actual):
            fails.append(f"{test.label} is required, but {test.fact} is {actual!r}")
    if fails:
        return failed("; ".join(fails))
    if absent:
        return missing("not documented: " + "; ".join(absent))
    return passed("documented: " + "; ".join(t.label for t in params["tests"]))


class MessageParams(Params):
    message: StrictStr = Field(description="what the payer says, shown as the reason")


@kind("not_covered", params=MessageParams)
def _not_covered(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """The service is not covered (e.g. investigational): always fails, not a time rule."""
    return failed(str(params["message"]))


class PhaseParams(Params):
    length: Count = Field(description="how many procedures of the episode form the phase")
    phase: StrictStr = Field(description="name of the phase, e.g. 'initial treatment phase'")
    after: StrictStr | None = Field(None, description="name of the phase that follows")


@kind("phase_position", params=PhaseParams)
def _phase_position(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Where the procedure falls in its episode's phases (informational; always passes)."""
    place = ctx.placement
    length = int(params["length"])
    name = family_name(ctx.proposed.family)
    episode = (
        f"a new episode of care ({place.reason.value.replace('_', ' ')})"
        if place.new_episode
        else f"the episode of care started {place.episode_start}"
    )
    if place.position <= length:
        return passed(
            f"{name} #{place.position} of {episode}: within the {params['phase']} "
            f"(the first {length})"
        )
    after = params.get("after", "the phase after it")
    return passed(
        f"{name} #{place.position} of {episode}: past the {params['phase']} "
        f"(the first {length}), in {after}"
    )


# ----------------------------------------------------------------------------- intervals


class MinIntervalParams(Params):
    span: DurationOrRef = Field(description="minimum time after the previous procedure")
    scope: Scope = Field("region", description=SCOPE_DOC)
    if_previous: dict[str, StrictStr] | None = Field(
        None,
        description="attributes of the previous procedure (intent, agent) that select "
        "span_if_previous instead",
    )
    span_if_previous: DurationOrRef | None = Field(
        None, description="the span used when if_previous matches"
    )


@kind("min_interval", can_wait=True, params=MinIntervalParams)
def _min_interval(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """DOS >= previous DOS + span ("no sooner than N apart"); next eligible on that date."""
    prev = _previous(ctx, params.get("scope", "region"))
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
        return passed(f"{ctx.on} is at least {span} after {_desc(prev)}{why}")
    return wait(f"{ctx.on} is less than {span} after {_desc(prev)}{why}; allowed from {due}", due)


class CrossRegionParams(Params):
    days: Count = Field(description="minimum days between procedures in different regions")
    families: Names = Field(description="families of the other procedures considered")
    fact: StrictStr = Field(
        description="clinical fact that allows it (a documented medical reason)"
    )


@kind("cross_region_interval", can_wait=True, params=CrossRegionParams)
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
        None, description="fact allowing a procedure in another region that day"
    )
    same_region_pairs: frozenset[Names] = Field(
        frozenset(),
        description="pairs of families allowed together in the same region with same_region_fact",
    )
    same_region_fact: StrictStr | None = Field(
        None, description="fact allowing a same_region_pairs combination"
    )


@kind("same_day_conflict", params=SameDayParams)
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


# ----------------------------------------------------------------------------- relief


class PreviousReliefParams(ReliefParams):
    measure: Literal["latest", "earliest", "sustained"] = Field(
        "latest", description='"latest" (default), "earliest" or "sustained"'
    )
    sustained: DurationOrRef | None = Field(
        None, description="for measure sustained: M in 'meets T sustained M'"
    )
    sustained_if_previous_intent: Names | None = Field(
        None,
        description="apply sustained only when the previous procedure's intent is one of these "
        "(else latest)",
    )
    and_latest: StrictBool = Field(
        False, description="with sustained: the latest outcome must also meet T"
    )
    change_allows: StrictBool = Field(
        False, description="a miss still passes when levels or approach differ"
    )
    scope: Scope = Field("region", description=SCOPE_DOC)

    @model_validator(mode="after")
    def _sustained_span(self) -> PreviousReliefParams:
        if self.measure == "sustained" and self.sustained is None:
            raise ValueError("measure sustained needs the 'sustained' span")
        return self


@kind("previous_relief", can_wait=True, params=PreviousReliefParams)
def _previous_relief(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """The previous procedure's relief against T: "meets T" (latest counted outcome),
    "earliest outcome meets T", or "meets T sustained M" (the waiting part is a time
    failure, next eligible on previous DOS + M)."""
    prev = _previous(ctx, params.get("scope", "region"))
    if prev is None:
        return None
    test = _relief_test(ctx, params)
    measure = params.get("measure", "latest")
    only = params.get("sustained_if_previous_intent")
    if measure == "sustained" and only is not None and prev.intent not in only:
        measure = "latest"
    what = _desc(prev)
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
    scope: Scope = Field("region", description=SCOPE_DOC)
    intent_in: Names | None = Field(None, description="intents the prerequisite may have")
    approach_in: OptionalNames | None = Field(
        None, description="approaches it may have (null allowed for absent)"
    )
    same_device_type: StrictBool = Field(
        False, description="its device_type must equal the proposed one"
    )
    measure: Literal["latest", "earliest"] = Field(
        "latest", description='"latest" (default) or "earliest" outcome'
    )
    min_count: Count = Field(1, description="how many qualifying procedures are needed")
    require_functional: StrictBool = Field(
        False, description="the outcome must also show functional improvement"
    )
    assessed_after_days: Days | None = Field(
        None,
        description="only outcomes assessed >= its DOS + N days count (only sooner ones: fails)",
    )
    label: StrictStr = Field(description="what the prerequisite is, for messages")


@kind("prior_procedure", params=PriorProcedureParams)
def _prior_procedure(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """A prerequisite: at least ``min_count`` prior procedures matching the filters whose
    outcome meets T. None matching -> fail; not enough yet but some without an outcome ->
    missing."""
    candidates = _prior_of(ctx, params.get("scope", "region"), params["family"])
    intents = params.get("intent_in")
    approaches = params.get("approach_in")
    candidates = [
        q
        for q in candidates
        if (intents is None or q.intent in intents)
        and (approaches is None or q.approach in approaches)
        and (not params.get("same_device_type") or q.device_type == ctx.proposed.device_type)
    ]
    need = int(params.get("min_count", 1))
    label = params["label"]
    test = _relief_test(ctx, params)
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
        "latest", description='"latest" (default) or "earliest" outcome'
    )


@kind("prior_poor_responses", params=PriorPoorParams)
def _prior_poor(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Counts prior procedures of the episode whose outcome misses T; fails at ``fail_at``."""
    test = _relief_test(ctx, params)
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


# ----------------------------------------------------------------------------- caps


def window_exit(day: date, length: Span) -> date:
    """The first end date whose rolling window of ``length`` no longer holds ``day``."""
    end = length.after(day)
    while length.before(end) < day:
        end += timedelta(days=1)
    return end


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
    scope: Scope = Field("region", description=SCOPE_DOC)
    pairing: DurationOrRef | None = Field(
        None,
        description="bilateral pairing window: opposite sides at the same levels within it "
        "count once",
    )
    lifted_by: StrictStr | None = Field(
        None, description="clinical fact that raises or lifts the cap"
    )
    lifted_limit: Count | None = Field(
        None, description="the cap with that fact (absent: no cap at all)"
    )


@kind("rolling_cap", can_wait=True, params=RollingCapParams)
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


@kind("episode_cap", can_wait=True, params=EpisodeCapParams)
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


@kind("units_per_day", params=UnitsPerDayParams)
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


# ----------------------------------------------------------------------------- anatomy


class LevelsLimitParams(Params):
    max_levels: Count | None = Field(None, description="at most this many levels in one procedure")
    allowed_levels: tuple[StrictStr, ...] | None = Field(
        None, description="the only levels allowed, in order"
    )


@kind("levels_limit", params=LevelsLimitParams)
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
    surgery_kind: StrictStr | None = Field(None, description="the kind of surgery (null: any)")
    overlapping_levels: StrictBool = Field(
        False, description="only a surgery at an overlapping level conflicts"
    )


@kind("surgery_conflict", params=SurgeryConflictParams)
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


@kind("exemption", params=MessageParams)
def _exemption(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """An exception of the guideline applies (its ``when`` says when); always passes and
    says so, e.g. the opposite side within the window needs no outcome or interval."""
    return passed(str(params["message"]))


class ProcedureAttributeParams(Params):
    field: Literal["approach", "intent", "agent", "indication", "laterality", "device_type"] = (
        Field(description="attribute of the proposed procedure")
    )
    allowed: Names | None = Field(
        None, description="the values that pass (absent: any stated value passes)"
    )
    label: StrictStr = Field(description="what the attribute is, for messages")


@kind("procedure_attribute", params=ProcedureAttributeParams)
def _procedure_attribute(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """An attribute of the proposed procedure the payer needs stated: absent -> missing;
    stated but not one of ``allowed`` -> fail (e.g. an approach the payer does not cover)."""
    name = str(params["field"])
    value = getattr(ctx.proposed, name)
    label = params["label"]
    if value is None:
        return missing(f"{name} is not given: {label}")
    allowed = params.get("allowed")
    if allowed is not None and value not in allowed:
        return failed(
            f"{name} {value} is not covered: {label} must be {' or '.join(sorted(allowed))}"
        )
    return passed(f"{name} {value}: {label}")
