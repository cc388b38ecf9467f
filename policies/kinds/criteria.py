"""Rule kinds for the criteria the guidelines state beyond intervals, caps and relief.

- ``criteria``: an "ALL of the following" list the provider attests, each item met by any
  one of its fact tests; an attested umbrella fact (``covered_by``, e.g. ``initial_criteria_met``)
  covers the items whose facts are not sent, never an item sent and not met.
- ``exclusion``: requests the guideline excludes or contraindicates, by level, laterality,
  indication, code or an attested fact; an attested exception fact lifts it.
- ``code_restriction``: an indication or purpose allowed only for named codes.
- ``intent_phase_max``: at most N procedures of an intent in the episode (e.g. diagnostic),
  with the guideline's listed exceptions.
- ``session_limit``: how many injections of one kind one session may hold.

Every kind returns a :class:`~policies.engine.Verdict`; none can wait (not time rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictStr

from policies.context import Context, Verdict, failed, missing, passed
from policies.kinds.base import Count, Kind, Names, Params, family_name
from policies.kinds.facts import FactTest
from policies.values import Percent
from projections.relief import ReliefTest

# ----------------------------------------------------------------------------- criteria


def _item_state(ctx: Context, item: tuple[FactTest, ...]) -> tuple[str, str]:
    """("met" | "unmet" | "absent", what was found) for one any-of item."""
    sent = [(t, ctx.fact(t.fact)) for t in item]
    for test, value in sent:
        if value is not None and test.holds(value):
            return "met", f"{test.label} ({test.fact} {value!r})"
    label = " or ".join(t.label for t in item)
    got = [f"{t.fact} {v!r}" for t, v in sent if v is not None]
    if got:
        return "unmet", f"{label} is required, but {', '.join(got)}"
    return "absent", f"{label} ({' / '.join(t.fact for t in item)})"


class CriteriaParams(Params):
    items: tuple[tuple[FactTest, ...], ...] = Field(
        min_length=1, description="the list: each item a list of fact tests, one of which must hold"
    )
    covered_by: StrictStr | None = Field(
        None, description="umbrella fact that, attested true, covers the items not stated"
    )
    label: StrictStr = Field(description="what the list is, for messages")
    when_absent: Literal["missing", "unverified"] = Field(
        "missing",
        description='"missing": an item not stated (nor covered) is pending documentation; '
        '"unverified": it passes, named as not stated',
    )


def _criteria(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Every item must hold (one of its tests). An item sent and not met fails (an item is
    sent when any of its facts is); an item not sent is covered when the umbrella fact is
    attested true, else missing (or, with ``when_absent: unverified``, passes named as not
    stated). An umbrella attested false fails the list."""
    label = str(params["label"])
    umbrella = params.get("covered_by")
    said = ctx.fact(umbrella) if umbrella else None
    met: list[str] = []
    unmet: list[str] = []
    absent: list[str] = []
    for item in params["items"]:
        state, text = _item_state(ctx, tuple(item))
        {"met": met, "unmet": unmet, "absent": absent}[state].append(text)
    if unmet:
        return failed(f"{label}: " + "; ".join(unmet))
    if umbrella and said is False:
        return failed(f"{label}: {umbrella} is false")
    if absent and said is True:
        return passed(
            f"{label}: attested by {umbrella}" + (f"; documented: {'; '.join(met)}" if met else "")
        )
    if absent:
        need = f" (or {umbrella} attesting the whole list)" if umbrella else ""
        if params.get("when_absent") == "unverified":
            return passed(
                f"{label}: nothing stated contradicts it; not stated: {'; '.join(absent)}{need}"
            )
        return missing(f"{label}: not documented: {'; '.join(absent)}{need}")
    return passed(f"{label}: documented: {'; '.join(met)}")


# ----------------------------------------------------------------------------- exclusions


def _segment(level_end: str) -> str:
    return level_end.rstrip("0123456789").upper()


class ExclusionParams(Params):
    message: StrictStr = Field(description="what is excluded, in the guideline's words")
    levels: Names | None = Field(None, description="levels excluded, e.g. C1-C2")
    level_segments: Names | None = Field(
        None, description="segment letters (e.g. S): a level both of whose ends are in them"
    )
    lateralities: Names | None = Field(None, description="lateralities excluded")
    indications: Names | None = Field(None, description="indications excluded")
    codes: Names | None = Field(None, description="codes excluded (any billed code)")
    facts: Names | None = Field(
        None, description="clinical facts that, attested true, exclude (contraindications)"
    )
    unless_fact: StrictStr | None = Field(
        None, description="a clinical fact that, attested true, lifts the exclusion"
    )


def _exclusion(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """Fails when the request falls in the excluded class (or passes, saying so, when an
    exception fact lifts it); a request outside the class is not concerned, so the rule is
    left out of the reasons. Levels not given cannot match a level exclusion; a
    contraindication fact counts only when attested true."""
    p = ctx.proposed
    hits: list[str] = []
    levels = params.get("levels")
    segments = params.get("level_segments")
    if levels is not None or segments is not None:
        for level in p.levels:
            ends = level.split("-")
            if (levels is not None and level in levels) or (
                segments is not None and all(_segment(e) in segments for e in ends)
            ):
                hits.append(f"level {level}")
    for name, attr in (("lateralities", "laterality"), ("indications", "indication")):
        wanted = params.get(name)
        if wanted is not None:
            value = getattr(p, attr)
            if value in wanted:
                hits.append(f"{attr} {value}")
    codes = params.get("codes")
    if codes is not None:
        hits.extend(f"CPT {c}" for c, _ in p.codes if c in codes)
    facts = params.get("facts")
    if facts is not None:
        hits.extend(f"{f} attested" for f in sorted(facts) if ctx.fact(f) is True)
    message = str(params["message"])
    if hits:
        lift = params.get("unless_fact")
        if lift and ctx.fact(lift) is True:
            return passed(f"{', '.join(hits)}: {message}, but {lift} is attested")
        return failed(f"{', '.join(hits)}: {message}")
    return None


class CodeRestrictionParams(Params):
    codes: Names = Field(min_length=1, description="the only primary codes allowed")
    label: StrictStr = Field(description="what is restricted, for messages")


def _code_restriction(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """The request's purpose (its ``when``) is allowed only with the named primary codes."""
    code = ctx.proposed.primary_cpt
    allowed = sorted(params["codes"])
    if code in params["codes"]:
        return passed(f"CPT {code}: {params['label']}")
    return failed(f"CPT {code} is not allowed: {params['label']} (only {', '.join(allowed)})")


# ----------------------------------------------------------------------------- phases


class IntentPhaseParams(Params):
    intents: Names = Field(min_length=1, description="the intents limited to the phase")
    limit: Count = Field(description="the phase is the first N procedures of the episode")
    label: StrictStr = Field(description="the phase, e.g. 'diagnostic phase'")
    after_family: StrictStr | None = Field(
        None, description="exception: after a successful procedure of this family in the region"
    )
    after_threshold: Percent = Field(50, description="relief percent that makes it successful")
    exception_fact: StrictStr | None = Field(
        None, description="with after_family: a clinical fact that, attested true, allows it"
    )
    exception_other_levels: StrictBool = Field(
        False, description="with after_family: other levels than it treated allow it"
    )


def _intent_phase_max(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """A procedure of the given intents only within the phase: at most ``limit`` procedures
    of the episode (a surgery or a new pathology starts a new one). Past it, allowed only
    after a successful ``after_family`` procedure in the region with the exception fact
    attested or other levels targeted."""
    intents = params["intents"]
    if ctx.proposed.intent not in intents:
        return None
    position = ctx.placement.position
    limit = int(params["limit"])
    label = params["label"]
    name = family_name(ctx.proposed.family)
    what = f"{' / '.join(sorted(intents))} {name} #{position} of the episode"
    if position <= limit:
        return passed(f"{what}: within the {label} (at most {limit})")
    after = params.get("after_family")
    if after:
        test = ReliefTest(float(ctx.param(params.get("after_threshold", 50))))
        done = [
            q
            for q in ctx.state.of_family(after, region=ctx.proposed.region)
            if q.date_of_service < ctx.on and q.meets(test, ctx.on)
        ]
        if done:
            last = done[-1]
            since = f"after a successful {family_name(after)} on {last.date_of_service}"
            fact = params.get("exception_fact")
            if fact and ctx.fact(fact) is True:
                return passed(f"{what}: past the {label}, but {since} with {fact} attested")
            if (
                params.get("exception_other_levels")
                and ctx.proposed.levels
                and set(ctx.proposed.levels) != set(last.levels)
            ):
                return passed(f"{what}: past the {label}, but {since} at other levels")
    return failed(f"{what}: at most {limit} procedures in the {label}")


# ----------------------------------------------------------------------------- sessions


def _adjacent(levels: tuple[str, ...]) -> bool:
    """Two levels sharing a vertebra (C5-C6 and C6-C7)."""
    a, b = (set(level.split("-")) for level in levels)
    return bool(a & b)


class SessionLimitParams(Params):
    codes: Names = Field(min_length=1, description="the codes of the injections counted")
    limit: Count = Field(description="at most this many injections in one session")
    label: StrictStr = Field(description="what is counted, e.g. 'interlaminar injections'")
    bilateral_doubles: StrictBool = Field(
        False, description="a bilateral procedure is two injections per level"
    )
    adjacent_levels: StrictBool = Field(False, description="two unilateral levels must be adjacent")


def _session_limit(ctx: Context, params: Mapping[str, Any]) -> Verdict | None:
    """Injections of the codes in one session: units or levels (the larger), doubled when
    bilateral if ``bilateral_doubles``; at most ``limit``; unilateral levels adjacent when
    ``adjacent_levels``."""
    p = ctx.proposed
    units = p.units(*params["codes"])
    if units == 0:
        return None
    per_side = max(units, len(p.levels))
    sides = 2 if params.get("bilateral_doubles") and p.laterality == "bilateral" else 1
    total = per_side * sides
    limit = int(params["limit"])
    label = params["label"]
    how = f"{per_side} level(s)" + (" bilaterally" if sides == 2 else "")
    if total > limit:
        return failed(f"{total} {label} in one session ({how}): at most {limit}")
    if (
        params.get("adjacent_levels")
        and sides == 1
        and len(p.levels) == 2
        and not _adjacent(p.levels)
    ):
        return failed(f"{label} at {', '.join(p.levels)}: two levels must be adjacent")
    return passed(f"{total} {label} in one session ({how}): at most {limit}")


KINDS: tuple[Kind, ...] = (
    Kind.of("criteria", _criteria, CriteriaParams),
    Kind.of("exclusion", _exclusion, ExclusionParams),
    Kind.of("code_restriction", _code_restriction, CodeRestrictionParams),
    Kind.of("intent_phase_max", _intent_phase_max, IntentPhaseParams),
    Kind.of("session_limit", _session_limit, SessionLimitParams),
)
