"""The rule engine: guidelines and rules as data, reusable evaluators, one pure ``decide``.

A decision is a pure function of (policy version, projected patient state, request): no
clock, no I/O. "Today" is the date of service being decided; "as of" is whatever the caller
folded the state with.

Vocabulary
----------
* A **policy set** (``PolicySet``) is what a payer picks per request (``nia``, ``nia-wa``, ...):
  an ordered tuple of guidelines.
* A **guideline** (``Guideline``) is one payer document section: id (``NIA_CG_300``), title,
  source file, the families (and optionally the primary codes and regions) it governs, its
  versions with effective dates, and its rules. Every guideline of a set that governs the
  proposed procedure applies (the first one is named as the response's ``policy``, the others
  under ``policy.also``), so a set can layer a tightening guideline (e.g. Washington limits)
  on top of another.
* A **version** (``GuidelineVersion``) is the guideline as in force from a date of service on:
  it holds the version-dependent parameters. A rule parameter written ``Ref("name")`` is
  resolved from the version in force on the date being decided (and on every candidate date
  tried while searching for the next eligible date).
* A **rule** (``Rule``) is data: the id it reports as, kind (the name of a reusable
  evaluator registered in :data:`KINDS`), parameters, a ``when`` condition (and optional
  ``unless``) saying when it applies, whether it is a time rule, optional effective dates, a
  description paraphrasing the guideline and its citation (the quoted sentence). Rules sharing
  an id are reported as one reason (worst status, messages joined), which lets one guideline
  sentence be checked by several simple rules.

Policy sets are written as documents (``policies/library/<set-id>/``), validated and built by
:mod:`policies.loader`; the document format is :mod:`policies.document`.

Decision
--------
not_eligible when any rule fails; else pending_documentation when any needed clinical fact is
missing; else eligible. ``next_eligible_date`` is given only for not_eligible decisions whose
failing reasons are all time failures: the earliest date on or after the proposed date on
which no time rule fails, found by jumping to the latest of the failing time rules' own
earliest-pass dates, or sooner to the first date a rule's condition, effective dates or the
version in force may turn (a rule failing now may stop applying there), and re-evaluating
there, a bounded loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from policies.values import Ref
from projections.calendar import Span, days
from projections.state import (
    EPISODE_GAP,
    FIRST_YEAR,
    FamilyState,
    PatientState,
    Placement,
    Procedure,
)

MAX_SEARCH_STEPS = 128


# ----------------------------------------------------------------------------- errors


class PolicyLookupError(ValueError):
    """The request names something the policy layer cannot decide (mapped to 422 by the API);
    ``field`` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UnknownPolicySet(PolicyLookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(
            "policy_set",
            f"unknown policy set {name!r} (known: {', '.join(sorted(known))})",
        )


class NoGuideline(PolicyLookupError):
    def __init__(self, policy_set: str, code: str, family: str, region: str) -> None:
        super().__init__(
            "procedure.codes",
            f"policy set {policy_set!r} has no guideline for CPT {code} ({family}, {region})",
        )


# ----------------------------------------------------------------------------- data model


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote from a source guideline, with where it stands."""

    quote: str  # verbatim text from the source (whitespace may be normalised)
    source: str  # file name, e.g. "002_fc2de44da7ae47dd.txt"
    section: str  # guideline id or document, and the heading the sentence sits under


@dataclass(frozen=True, slots=True)
class GuidelineVersion:
    """The guideline as in force for dates of service on or after ``effective_from``
    (``None``: since always) until the next version's ``effective_from``."""

    id: str
    effective_from: date | None
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    citations: tuple[Citation, ...] = ()  # the policy-history sentences behind the version


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


@dataclass(frozen=True, slots=True)
class Rule:
    """One checkable sentence of a guideline, as data (see the module docstring)."""

    id: str
    kind: str
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    when: When = ALWAYS
    unless: When | None = None
    time_rule: bool = False
    effective_from: date | None = None  # inclusive
    effective_until: date | None = None  # exclusive
    citation: Citation | None = None
    key: str = ""  # the rule's own id in its document (``id`` is the reason it reports as)
    supporting: tuple[Citation, ...] = ()  # further sentences the rule implements

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or on >= self.effective_from) and (
            self.effective_until is None or on < self.effective_until
        )


@dataclass(frozen=True, slots=True)
class Guideline:
    """One payer guideline: what it governs, its versions and its rules."""

    id: str
    title: str
    source: str
    families: frozenset[str]
    versions: tuple[GuidelineVersion, ...]
    rules: tuple[Rule, ...]
    codes: frozenset[str] | None = None  # primary codes governed (None: every code)
    regions: frozenset[str] | None = None  # regions governed (None: every region)
    publisher: str = ""
    document_version: str = ""
    section_naming: str = ""
    title_citation: Citation | None = None
    criteria: tuple[Criterion, ...] = ()

    def governs(self, family: str, primary_cpt: str, region: str) -> bool:
        return (
            family in self.families
            and (self.codes is None or primary_cpt in self.codes)
            and (self.regions is None or region in self.regions)
        )

    def version_on(self, on: date) -> GuidelineVersion:
        """The version in force on ``on`` (the latest whose effective date is on or before)."""
        chosen = self.versions[0]
        for version in self.versions:
            start = version.effective_from
            if (start is None or start <= on) and (
                chosen.effective_from is None
                or (start is not None and start >= chosen.effective_from)
            ):
                chosen = version
        return chosen

    def version_until(self, version: GuidelineVersion) -> date | None:
        """The first date the version is no longer in force (None: still in force)."""
        later = [
            v.effective_from
            for v in self.versions
            if v.effective_from is not None
            and (version.effective_from is None or v.effective_from > version.effective_from)
        ]
        return min(later) if later else None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One sentence of a guideline and how the engine treats it: ``checked`` by rules,
    ``attested`` through clinical facts the rules read, or ``not_checkable`` (with why)."""

    id: str
    quote: str
    section: str
    status: str
    rules: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationWindow:
    """How far before and after its planned date of service an authorization may be used."""

    before: Span = field(default_factory=lambda: days(7))
    after: Span = field(default_factory=lambda: days(60))


@dataclass(frozen=True, slots=True)
class PolicySet:
    """What a payer picks per request: guidelines applied together."""

    name: str
    title: str
    guidelines: tuple[Guideline, ...]
    extends: str | None = None
    authorization_window: AuthorizationWindow = field(default_factory=AuthorizationWindow)

    def guidelines_for(self, proposed: Proposed) -> list[Guideline]:
        found = [
            g
            for g in self.guidelines
            if g.governs(proposed.family, proposed.primary_cpt, proposed.region)
        ]
        if not found:
            raise NoGuideline(self.name, proposed.primary_cpt, proposed.family, proposed.region)
        return found


# ----------------------------------------------------------------------------- request


@dataclass(frozen=True, slots=True)
class Proposed:
    """The procedure to decide, with the family and approach the catalog derived."""

    date_of_service: date
    region: str
    family: str
    codes: tuple[tuple[str, int], ...]
    intent: str = "therapeutic"
    laterality: str | None = None
    levels: tuple[str, ...] = ()
    agent: str | None = None
    approach: str | None = None
    indication: str | None = None
    device_type: str | None = None

    @property
    def primary_cpt(self) -> str:
        return self.codes[0][0]

    def units(self, *cpts: str) -> int:
        return sum(u for c, u in self.codes if c in cpts)

    def on(self, day: date) -> Proposed:
        return replace(self, date_of_service=day)


Clinical = Mapping[str, Any]


# ----------------------------------------------------------------------------- evaluation


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"


_SEVERITY = {Status.PASS: 0, Status.MISSING: 1, Status.FAIL: 2}


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


Evaluator = Callable[[Context, Mapping[str, Any]], Verdict | None]


class Params(BaseModel):
    """The parameters of a rule kind, as a document writes them (unknown names refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Kind:
    """A reusable evaluator. ``evaluate(ctx, params)`` returns a verdict, or None when the
    rule does not apply to this request; ``can_wait`` says whether it can fail in a way that
    waiting cures (only such kinds may be declared time rules)."""

    name: str
    evaluate: Evaluator
    params: type[Params]
    can_wait: bool
    doc: str


KINDS: dict[str, Kind] = {}


def kind(
    name: str, *, params: type[Params], can_wait: bool = False
) -> Callable[[Evaluator], Evaluator]:
    """Register an evaluator under a kind name (its docstring documents it)."""

    def register(fn: Evaluator) -> Evaluator:
        KINDS[name] = Kind(name, fn, params, can_wait, (fn.__doc__ or "").strip())
        return fn

    return register


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

    def as_json(self) -> dict[str, Any]:
        c = self.citation
        return {
            "rule": self.rule,
            "status": self.status.value,
            "message": self.message,
            "citation": c.quote if c else "",
            "source": c.source if c else None,
            "section": c.section if c else None,
        }


@dataclass(frozen=True, slots=True)
class Applied:
    """A guideline and the version of it used."""

    guideline: Guideline
    version: GuidelineVersion


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # eligible | not_eligible | pending_documentation
    policy_set: str
    applied: tuple[Applied, ...]
    reasons: tuple[Reason, ...]
    next_eligible_date: date | None
    state: dict[str, Any]

    def policy_json(self) -> dict[str, Any]:
        first = self.applied[0]
        body: dict[str, Any] = {
            "set": self.policy_set,
            "guideline": first.guideline.id,
            "version": first.version.id,
            "source": first.guideline.source,
            "title": first.guideline.title,
        }
        if len(self.applied) > 1:
            body["also"] = [
                {
                    "guideline": a.guideline.id,
                    "version": a.version.id,
                    "source": a.guideline.source,
                    "title": a.guideline.title,
                }
                for a in self.applied[1:]
            ]
        return body

    def as_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "policy": self.policy_json(),
            "reasons": [r.as_json() for r in self.reasons],
            "next_eligible_date": self.next_eligible_date.isoformat()
            if self.next_eligible_date
            else None,
            "state": self.state,
        }


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


def next_eligible_date(
    guidelines: list[Guideline],
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


def decide(
    policy_set: PolicySet, state: PatientState, proposed: Proposed, clinical: Clinical
) -> Decision:
    """Decide one proposed procedure under a policy set, purely."""
    guidelines = policy_set.guidelines_for(proposed)
    facts = {k: v for k, v in clinical.items() if v is not None}
    applied, reasons = evaluate(guidelines, state, proposed, facts)
    decision = verdict_of(reasons)
    nxt = (
        next_eligible_date(guidelines, state, proposed, facts, reasons)
        if decision == "not_eligible"
        else None
    )
    return Decision(
        decision=decision,
        policy_set=policy_set.name,
        applied=tuple(applied),
        reasons=tuple(reasons),
        next_eligible_date=nxt,
        state=summarize(state, proposed),
    )


# ----------------------------------------------------------------------------- state summary


def _brief(proc: Procedure, on: date) -> dict[str, Any]:
    seen = proc.counted_outcomes(on)
    latest = seen[-1] if seen else None
    return {
        "date_of_service": proc.date_of_service.isoformat(),
        "codes": [c for c, _ in proc.codes],
        "intent": proc.intent,
        "laterality": proc.laterality,
        "levels": list(proc.levels),
        "approach": proc.approach,
        "agent": proc.agent,
        "latest_outcome": None
        if latest is None
        else {
            "assessed_on": latest.assessed_on.isoformat(),
            "pain_relief_percent": latest.pain_relief_percent,
            "functional_improvement": latest.functional_improvement,
        },
        "outcomes": len(seen),
    }


def summarize(state: PatientState, proposed: Proposed) -> dict[str, Any]:
    """A small JSON summary of the region-family state the rules looked at."""
    from projections.calendar import months

    fam = state.family(proposed.region, proposed.family)
    on = proposed.date_of_service
    place = fam.placement(on)
    return {
        "region": proposed.region,
        "family": proposed.family,
        "episode": place.episode_number,
        "episode_start": place.episode_start.isoformat(),
        "new_episode": place.new_episode,
        "episode_reason": place.reason.value,
        "position": place.position,
        "first_year": place.first_year,
        "prior_in_episode": len(place.prior_in_episode),
        "prior_in_6_months": fam.count_in_window(on, months(6), before=on),
        "prior_in_12_months": fam.count_in_window(on, months(12), before=on),
        "previous": None if place.previous is None else _brief(place.previous, on),
    }
