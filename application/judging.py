"""Judging recorded procedures and authorizations again with the rule engine (pure).

A recorded procedure is judged as if it were proposed on its own date of service, against
the patient's state as known now (or ``as_of``): the procedures dated before it and the
others of the same date (:meth:`projections.state.PatientState.before`). Clinical facts the
procedure's covering authorization attested (its request's ``clinical``) are used, so a cap
lifted by attested special circumstances stays lifted; without one, exceptions are not
attested and the plain limits apply.

A **violation** is a failing reason whose failure waiting would have cured (the engine's
time rules: caps and intervals); its message is restated in the guideline's terms ("5th esi
in the rolling 12 months ending 2025-06-03; limit 4"; "12 days after the previous esi; at
least 14 days") with the date on which the procedure would have been allowed.

An authorization **covers** a procedure of the same patient, region and family whose date of
service lies from ``before_days`` before to ``after_days`` after the authorized date
(:class:`CoverWindow`; a policy set may declare its own ``authorization_window``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from domain.catalog import Region, classify
from policies.engine import (
    Context,
    Decision,
    NoGuideline,
    PolicySet,
    Proposed,
    Reason,
    Rule,
    Status,
    decide,
)
from policies.kinds import _cap_usage
from projections.calendar import Span, days
from projections.state import Authorization, PatientState, Procedure

FINDING_KINDS = ("violation", "unauthorized", "approval_now_denied")


# ----------------------------------------------------------------------------- window


@dataclass(frozen=True, slots=True)
class CoverWindow:
    """The dates of service an approved authorization covers around its authorized date:
    from ``before`` before it to ``after`` after it, both ends included."""

    before: Span = field(default_factory=lambda: days(7))
    after: Span = field(default_factory=lambda: days(60))

    def covers(self, authorized: date, performed: date) -> bool:
        return self.before.before(authorized) <= performed <= self.after.after(authorized)

    def reach_days(self) -> tuple[int, int]:
        """Upper bounds in days of (before, after), for selecting rows around a period."""
        probe = date(2000, 1, 31)
        return (
            (probe - self.before.before(probe)).days + 3,
            (self.after.after(probe) - probe).days + 3,
        )

    def describe(self) -> str:
        return f"{self.before} before to {self.after} after the authorized date"

    def as_json(self) -> dict[str, str]:
        return {"before": str(self.before), "after": str(self.after)}


DEFAULT_WINDOW = CoverWindow()


def authorization_window(policy_set: PolicySet) -> CoverWindow:
    """The set's ``authorization_window`` (its set document's), else 7 days before to 60
    days after."""
    declared = getattr(policy_set, "authorization_window", None)
    if declared is None:
        return DEFAULT_WINDOW
    return CoverWindow(declared.before, declared.after)


# ----------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the compliance report."""

    kind: str  # violation | unauthorized | approval_now_denied
    patient_id: str
    event_id: str  # the procedure's event id (authorization id for approval_now_denied)
    region: str
    family: str
    date_of_service: date
    rules: tuple[str, ...]
    message: str
    citations: tuple[dict[str, Any], ...] = ()
    allowed_from: date | None = None
    provider_id: str | None = None
    authorization_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (
            self.date_of_service.isoformat(),
            self.patient_id,
            self.event_id,
            self.kind,
            ",".join(self.rules),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "patient_id": self.patient_id,
            "event_id": self.event_id,
            "region": self.region,
            "family": self.family,
            "date_of_service": self.date_of_service.isoformat(),
            "rules": list(self.rules),
            "message": self.message,
            "citations": list(self.citations),
            "allowed_from": self.allowed_from.isoformat() if self.allowed_from else None,
            "provider_id": self.provider_id,
            "authorization_id": self.authorization_id,
            "details": self.details,
        }


def citation_json(reason: Reason) -> dict[str, Any]:
    c = reason.citation
    return {
        "rule": reason.rule,
        "quote": c.quote if c else "",
        "source": c.source if c else None,
        "section": c.section if c else None,
        "guideline": reason.guideline,
    }


def proposed_of_procedure(proc: Procedure) -> Proposed:
    """A recorded procedure as the engine sees a proposed one."""
    return Proposed(
        date_of_service=proc.date_of_service,
        region=proc.region,
        family=proc.family,
        codes=proc.codes,
        intent=proc.intent,
        laterality=proc.laterality,
        levels=proc.levels,
        agent=proc.agent,
        approach=proc.approach,
        indication=proc.indication,
        device_type=proc.device_type,
    )


def proposed_of_request(request: Mapping[str, Any]) -> Proposed:
    """The proposed procedure of a stored authorization request (the JSON it was sent as)."""
    proc = request["procedure"]
    codes = tuple((str(c["cpt"]), int(c.get("units", 1))) for c in proc["codes"])
    region = Region(proc["region"])
    indication = proc.get("indication")
    kind = classify([c for c, _ in codes], region, indication)
    return Proposed(
        date_of_service=date.fromisoformat(proc["date_of_service"]),
        region=region.value,
        family=kind.family.value,
        codes=codes,
        intent=proc.get("intent") or "therapeutic",
        laterality=proc.get("laterality"),
        levels=tuple(proc.get("levels") or ()),
        agent=proc.get("agent"),
        approach=proc.get("approach") or kind.approach,
        indication=indication,
        device_type=proc.get("device_type"),
    )


def clinical_of(request: Mapping[str, Any]) -> dict[str, Any]:
    clinical = request.get("clinical") or {}
    return {k: v for k, v in clinical.items() if v is not None}


def governed(policy_set: PolicySet, proposed: Proposed) -> bool:
    try:
        policy_set.guidelines_for(proposed)
    except NoGuideline:
        return False
    return True


class AuthorizationLike(Protocol):
    @property
    def authorization_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def date_of_service(self) -> date: ...
    @property
    def policy_set(self) -> str: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def approved(self) -> bool: ...


class ProcedureLike(Protocol):
    @property
    def event_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def date_of_service(self) -> date: ...
    @property
    def authorization_id(self) -> str | None: ...
    @property
    def provider_id(self) -> str | None: ...


A = TypeVar("A", bound=AuthorizationLike)


@dataclass(frozen=True, slots=True)
class ProcedureRef:
    """What the report needs of a procedure without its history (a read-model row)."""

    patient_id: str
    event_id: str
    region: str
    family: str
    date_of_service: date
    primary_cpt: str
    provider_id: str | None = None
    authorization_id: str | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """When a procedure (or an outcome of it) was recorded, with its clinical date (None:
    not known, so any decision may have preceded it)."""

    patient_id: str
    region: str
    family: str
    day: date
    recorded_at: datetime | None
    outcome: bool = False


@dataclass(frozen=True, slots=True)
class AuthorizationRef:
    """An authorization and its decision as the read model holds it."""

    patient_id: str
    authorization_id: str
    region: str
    family: str
    date_of_service: date
    policy_set: str
    decision: str | None
    recorded_at: datetime

    @property
    def approved(self) -> bool:
        return self.decision == "eligible"


def covering(
    authorizations: Iterable[A], proc: ProcedureLike, window: CoverWindow, policy_set: str
) -> list[A]:
    """The approved authorizations of the set that cover ``proc``, the one it names first."""
    found = [
        a
        for a in authorizations
        if a.approved
        and a.policy_set == policy_set
        and a.region == proc.region
        and a.family == proc.family
        and window.covers(a.date_of_service, proc.date_of_service)
    ]
    found.sort(key=lambda a: (a.authorization_id != proc.authorization_id, a.date_of_service))
    return found


# ----------------------------------------------------------------------------- violations


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _rules_of(policy_set: PolicySet, reason: Reason) -> list[tuple[Rule, Any]]:
    """The rule definitions behind a reason (rules sharing an id), with their guideline."""
    return [
        (rule, guideline)
        for guideline in policy_set.guidelines
        if guideline.id == reason.guideline
        for rule in guideline.rules
        if rule.id == reason.rule
    ]


def guideline_terms(
    policy_set: PolicySet,
    state: PatientState,
    proposed: Proposed,
    clinical: Mapping[str, Any],
    reason: Reason,
) -> str:
    """A failing time rule restated in the guideline's terms, with by how much it broke."""
    on = proposed.date_of_service
    family = proposed.family
    parts: list[str] = []
    for rule, guideline in _rules_of(policy_set, reason):
        ctx = Context(state, proposed, clinical, guideline.version_on(on))
        params = rule.params
        if rule.kind == "rolling_cap":
            length = ctx.span(params["length"])
            limit = int(ctx.param(params["limit"]))
            lifted = params.get("lifted_by")
            if lifted and clinical.get(lifted) is True and params.get("lifted_limit"):
                limit = int(params["lifted_limit"])
            scope = params.get("scope", "region")
            pairing = ctx.span(params["pairing"]) if params.get("pairing") is not None else None
            prior, adds = _cap_usage(ctx, on, length, pairing, scope)
            if prior + adds > limit:
                where = "" if scope == "patient" else f" {proposed.region}"
                pairs = " (bilateral pairs counted once)" if pairing else ""
                parts.append(
                    f"{_ordinal(prior + adds)}{where} {family} in the rolling {length} ending "
                    f"{on}{pairs}; limit {limit}"
                )
        elif rule.kind == "episode_cap":
            place = ctx.placement
            span = ctx.span(params["span"])
            limit = int(ctx.param(params["limit"]))
            end = span.after(place.episode_start)
            prior = sum(1 for q in place.prior_in_episode if q.date_of_service < end)
            if on < end and prior + 1 > limit:
                parts.append(
                    f"{_ordinal(prior + 1)} {proposed.region} {family} in the "
                    f"{params.get('label', str(span))} (episode started "
                    f"{place.episode_start}); limit {limit}"
                )
        elif rule.kind == "min_interval":
            prev = ctx.previous
            if params.get("scope", "region") == "patient":
                prior = [p for p in state.of_family(family) if p.date_of_service < on]
                prev = prior[-1] if prior else None
            if prev is not None:
                span = ctx.span(params["span"])
                match = params.get("if_previous")
                if match and all(getattr(prev, k) == v for k, v in match.items()):
                    span = ctx.span(params["span_if_previous"])
                if on < span.after(prev.date_of_service):
                    gap = (on - prev.date_of_service).days
                    parts.append(
                        f"{gap} days after the previous {family} ({prev.date_of_service}); "
                        f"at least {span}"
                    )
        elif rule.kind == "cross_region_interval":
            n = int(params["days"])
            near = [
                q
                for q in state.near(on, n, params["families"], exclude_region=proposed.region)
                if q.date_of_service <= on
            ]
            for q in near:
                gap = (on - q.date_of_service).days
                parts.append(
                    f"{gap} days after the {q.region} {q.family} ({q.date_of_service}); "
                    f"at least {n} days between regions"
                )
    return "; ".join(dict.fromkeys(parts)) or reason.message


@dataclass(frozen=True, slots=True)
class Judgement:
    """A recorded procedure decided again at its own date of service."""

    procedure: Procedure
    decision: Decision
    violations: tuple[Reason, ...]
    clinical: dict[str, Any]
    authorizations: tuple[Authorization, ...]


def judge_procedure(
    policy_set: PolicySet,
    state: PatientState,
    proc: Procedure,
    window: CoverWindow = DEFAULT_WINDOW,
) -> Judgement | None:
    """Decide ``proc`` again as if proposed on its date with what ``state`` knows (None when
    the set governs no such procedure)."""
    proposed = proposed_of_procedure(proc)
    if not governed(policy_set, proposed):
        return None
    covers = covering(state.authorizations, proc, window, policy_set.name)
    clinical = clinical_of(covers[0].request) if covers else {}
    before = state.before(proc.date_of_service, excluding=proc.event_id)
    decision = decide(policy_set, before, proposed, clinical)
    violations = tuple(r for r in decision.reasons if r.status is Status.FAIL and r.time_rule)
    return Judgement(proc, decision, violations, clinical, tuple(covers))


def violation_finding(
    policy_set: PolicySet, state: PatientState, judgement: Judgement
) -> Finding | None:
    """The violation finding of a judged procedure (None when no time rule failed)."""
    if not judgement.violations:
        return None
    proc = judgement.procedure
    proposed = proposed_of_procedure(proc)
    before = state.before(proc.date_of_service, excluding=proc.event_id)
    terms = [
        guideline_terms(policy_set, before, proposed, judgement.clinical, r)
        for r in judgement.violations
    ]
    dates = [r.next_date for r in judgement.violations if r.next_date is not None]
    allowed = judgement.decision.next_eligible_date or (max(dates) if dates else None)
    message = "; ".join(terms)
    if allowed is not None:
        message += f"; would have been allowed from {allowed}"
    return Finding(
        kind="violation",
        patient_id=state.patient_id,
        event_id=proc.event_id,
        region=proc.region,
        family=proc.family,
        date_of_service=proc.date_of_service,
        rules=tuple(r.rule for r in judgement.violations),
        message=message,
        citations=tuple(citation_json(r) for r in judgement.violations),
        allowed_from=allowed,
        provider_id=proc.provider_id,
        authorization_id=judgement.authorizations[0].authorization_id
        if judgement.authorizations
        else proc.authorization_id,
        details={"engine_messages": [r.message for r in judgement.violations]},
    )


# ----------------------------------------------------------------------------- unauthorized


def unauthorized_finding(
    patient_id: str,
    authorizations: Sequence[AuthorizationLike],
    proc: ProcedureLike,
    window: CoverWindow,
    policy_set: str,
) -> Finding | None:
    """The finding of a procedure no approved authorization of the set covers."""
    if covering(authorizations, proc, window, policy_set):
        return None
    same = [
        a
        for a in authorizations
        if a.region == proc.region and a.family == proc.family and a.policy_set == policy_set
    ]
    notes: list[str] = []
    for a in same:
        inside = window.covers(a.date_of_service, proc.date_of_service)
        if not a.approved and inside:
            notes.append(f"authorization {a.authorization_id} was {a.decision or 'undecided'}")
        elif a.approved and a.authorization_id == proc.authorization_id:
            notes.append(
                f"authorization {a.authorization_id} was approved for {a.date_of_service}, "
                f"outside its window ({window.describe()})"
            )
    if proc.authorization_id and not any(a.authorization_id == proc.authorization_id for a in same):
        notes.append(f"the authorization it names ({proc.authorization_id}) is not on record")
    message = (
        f"no approved {policy_set} authorization for a {proc.region} {proc.family} covers "
        f"{proc.date_of_service}"
    )
    if notes:
        message += " (" + "; ".join(notes) + ")"
    return Finding(
        kind="unauthorized",
        patient_id=patient_id,
        event_id=proc.event_id,
        region=proc.region,
        family=proc.family,
        date_of_service=proc.date_of_service,
        rules=("authorization.required",),
        message=message,
        provider_id=proc.provider_id,
        authorization_id=proc.authorization_id,
        details={"window": window.as_json()},
    )


# ----------------------------------------------------------------------------- approvals


def recorded_after(state_now: PatientState, instant: datetime) -> list[Procedure]:
    return [p for p in state_now.procedures if p.recorded_at > instant]


def approval_now_denied(
    policy_set: PolicySet,
    state_now: PatientState,
    auth: Authorization,
    changes: Sequence[Mapping[str, Any]],
) -> Finding | None:
    """An approved authorization the rules deny with what is known now (the state
    without its own performed procedure and anything dated after it)."""
    if not auth.approved or not auth.request:
        return None
    proposed = proposed_of_request(auth.request)
    # The procedure performed under it that day is its own performance, not history.
    own = {
        p.event_id
        for p in state_now.procedures
        if p.date_of_service == proposed.date_of_service
        and p.region == proposed.region
        and p.family == proposed.family
    }
    before = state_now.before(proposed.date_of_service)
    if own:
        before = _without(before, own)
    decision = decide(policy_set, before, proposed, clinical_of(auth.request))
    if decision.decision != "not_eligible":
        return None
    failing = [r for r in decision.reasons if r.status is Status.FAIL]
    message = (
        f"approved on {auth.recorded_at.date()} for {proposed.date_of_service}; denied with "
        "what is known now: " + "; ".join(f"{r.rule}: {r.message}" for r in failing)
    )
    if changes:
        message += f" ({len(changes)} event(s) recorded after the decision)"
    return Finding(
        kind="approval_now_denied",
        patient_id=state_now.patient_id,
        event_id=auth.authorization_id,
        region=auth.region,
        family=auth.family,
        date_of_service=auth.date_of_service,
        rules=tuple(r.rule for r in failing),
        message=message,
        citations=tuple(citation_json(r) for r in failing),
        allowed_from=decision.next_eligible_date,
        authorization_id=auth.authorization_id,
        details={"recorded_after_decision": list(changes), "decision_now": decision.decision},
    )


def _without(state: PatientState, event_ids: Iterable[str]) -> PatientState:
    state_ = state
    for event_id in event_ids:
        proc = state_.procedure(event_id)
        if proc is not None:
            state_ = state_.before(date.max, excluding=event_id)
    return state_
