"""The compliance report use case: violations, unauthorized procedures and approvals that
would be denied now, for a policy set and a period of dates of service.

It reads the population read model (:class:`ReportSource`): the procedure and authorization
rows say which procedures are in the period, which are covered by an approved authorization
(:mod:`application.judging`) and, through the conservative screen of
:mod:`application.screening`, which could break a time rule. Only those patients are folded
(from the read model's own copy of their events) and judged again by the engine. With
``as_of`` the rows (which hold what is known now) cannot be used: every patient is folded as
known at that instant, which is slower.

The summary counts findings by kind, rule, family, region, month of service and provider,
gives per family the violation rate (procedures with at least one violation over the
procedures of the family in the period, comparable with the OIG's 80,419 of 303,408
Medicare epidural sessions, 26.5 %) and the cap utilization: per rolling cap, how close each
patient's region and family ran to the limit in the period.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from application.judging import (
    AuthorizationRef,
    Finding,
    ProcedureRef,
    Recording,
    approval_now_denied,
    authorization_window,
    judge_procedure,
    unauthorized_finding,
    violation_finding,
)
from application.screening import checks_for, lookback_days, screen
from application.usecases import collector_paused
from policies.engine import PolicySet
from projections.calendar import Span, in_window
from projections.state import PatientState

OIG_AUDIT = {
    "source": "OIG A-07-21-00618",
    "sessions": 303_408,
    "exceeding": 80_419,
    "rate": round(80_419 / 303_408, 4),
    "what": "Medicare epidural steroid injection sessions in 2019-2020 that exceeded the limits",
}
UTILIZATION_BUCKETS = ("up to 50%", "51-75%", "76-99%", "at the limit", "over the limit")


class ReportSource(Protocol):
    """What the report reads: the population read model and the events it folds."""

    def procedure_refs(self, start: date, end: date) -> list[ProcedureRef]:
        """Every non-voided procedure dated in [start, end] (known now)."""

    def authorization_refs(self, start: date, end: date) -> list[AuthorizationRef]:
        """Every authorization request for a date of service in [start, end] (known now)."""

    def patient_states(
        self, patient_ids: Iterable[str] | None, as_of: datetime | None
    ) -> Iterator[PatientState]:
        """The folded states of these patients (every patient when None) as known at
        ``as_of``."""

    def patients_changed_after_decisions(self) -> set[str]:
        """Patients with a void, surgery or diagnosis recorded after one of their
        authorization decisions."""

    def clinical_recordings(self, patient_ids: Sequence[str]) -> list[Recording]:
        """When each procedure and outcome of these patients was recorded."""


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass
class ComplianceReport:
    policy_set: str
    period: Period
    as_of: datetime | None
    findings: list[Finding]
    summary: dict[str, Any]
    judged: int = 0  # procedures decided again by the engine
    patients_folded: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def page(self, offset: int = 0, limit: int | None = None) -> list[Finding]:
        return self.findings[offset : None if limit is None else offset + limit]

    def as_json(self, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
        page = self.page(offset, limit)
        after = offset + len(page)
        return {
            "policy_set": self.policy_set,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "summary": self.summary,
            "total": len(self.findings),
            "offset": offset,
            "limit": limit,
            "next_offset": after if after < len(self.findings) else None,
            "findings": [f.as_json() for f in page],
        }


def _refs_of_state(state: PatientState) -> list[ProcedureRef]:
    return [
        ProcedureRef(
            patient_id=state.patient_id,
            event_id=p.event_id,
            region=p.region,
            family=p.family,
            date_of_service=p.date_of_service,
            primary_cpt=p.primary_cpt,
            provider_id=p.provider_id,
            authorization_id=p.authorization_id,
        )
        for p in state.procedures
    ]


def _auth_refs_of_state(state: PatientState) -> list[AuthorizationRef]:
    return [
        AuthorizationRef(
            patient_id=state.patient_id,
            authorization_id=a.authorization_id,
            region=a.region,
            family=a.family,
            date_of_service=a.date_of_service,
            policy_set=a.policy_set,
            decision=a.decision,
            recorded_at=a.recorded_at,
        )
        for a in state.authorizations
    ]


def may_have_changed(
    source: ReportSource, approvals: Sequence[AuthorizationRef]
) -> list[AuthorizationRef]:
    """The approvals a later recording could have turned: the patient had a void, surgery
    or diagnosis recorded after a decision, or a procedure or outcome dated on or before the
    authorized date was recorded at or after the decision (its own procedure that day
    aside). Anything else leaves the state the approval is judged against as it was."""
    if not approvals:
        return []
    changed = source.patients_changed_after_decisions()
    recordings: dict[str, list[Recording]] = defaultdict(list)
    for r in source.clinical_recordings(sorted({a.patient_id for a in approvals})):
        recordings[r.patient_id].append(r)
    out = []
    for a in approvals:
        if a.patient_id in changed or any(
            r.day <= a.date_of_service
            and (r.recorded_at is None or r.recorded_at >= a.recorded_at)
            and not (
                not r.outcome
                and r.day == a.date_of_service
                and (r.region, r.family) == (a.region, a.family)
            )
            for r in recordings[a.patient_id]
        ):
            out.append(a)
    return out


def _governs(policy_set: PolicySet, ref: ProcedureRef) -> bool:
    return any(g.governs(ref.family, ref.primary_cpt, ref.region) for g in policy_set.guidelines)


def changes_since(
    state: PatientState, instant: datetime, through: date, exclude: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Clinical events dated on or before ``through`` and recorded after ``instant``."""
    skip = set(exclude)
    out: list[dict[str, Any]] = []
    for p in state.procedures:
        if p.event_id in skip:
            continue
        if p.recorded_at > instant and p.date_of_service <= through:
            out.append(
                {
                    "event_id": p.event_id,
                    "type": "procedure_performed",
                    "date": p.date_of_service.isoformat(),
                    "region": p.region,
                    "family": p.family,
                    "recorded_at": p.recorded_at.isoformat(),
                }
            )
        for o in p.outcomes:
            if o.recorded_at > instant and o.assessed_on <= through:
                out.append(
                    {
                        "event_id": o.event_id,
                        "type": "outcome_reported",
                        "date": o.assessed_on.isoformat(),
                        "of": p.event_id,
                        "recorded_at": o.recorded_at.isoformat(),
                    }
                )
    return out


def compliance_report(
    source: ReportSource,
    policy_set: PolicySet,
    period: Period,
    as_of: datetime | None = None,
) -> ComplianceReport:
    """The compliance report of ``policy_set`` over the dates of service in ``period``,
    with the cyclic garbage collector paused (its passes over the report's growing heap of
    short-lived, acyclic objects were over a third of its CPU)."""
    with collector_paused():
        return _compliance_report(source, policy_set, period, as_of)


def _compliance_report(
    source: ReportSource,
    policy_set: PolicySet,
    period: Period,
    as_of: datetime | None,
) -> ComplianceReport:
    window = authorization_window(policy_set)
    checks = checks_for(policy_set)
    before_days, after_days = window.reach_days()
    reach = max(lookback_days(checks), after_days + 1)
    rows_start = period.start - timedelta(days=reach)
    states: dict[str, PatientState] = {}
    if as_of is None:
        refs = source.procedure_refs(rows_start, period.end)
        auth_refs = source.authorization_refs(
            period.start - timedelta(days=after_days), period.end + timedelta(days=before_days)
        )
    else:
        refs, auth_refs = [], []
        for state in source.patient_states(None, as_of):
            states[state.patient_id] = state
            refs.extend(r for r in _refs_of_state(state) if rows_start <= r.date_of_service)
            auth_refs.extend(_auth_refs_of_state(state))
    in_period = [r for r in refs if period.holds(r.date_of_service) and _governs(policy_set, r)]
    auths_by_patient: dict[str, list[AuthorizationRef]] = defaultdict(list)
    for a in auth_refs:
        auths_by_patient[a.patient_id].append(a)

    findings: list[Finding] = []
    for ref in in_period:
        found = unauthorized_finding(
            ref.patient_id, auths_by_patient.get(ref.patient_id, []), ref, window, policy_set.name
        )
        if found is not None:
            findings.append(found)

    candidates = screen(
        [r for r in refs if r.date_of_service <= period.end], checks, period.start, period.end
    )
    approvals = [
        a
        for a in auth_refs
        if a.approved and a.policy_set == policy_set.name and period.holds(a.date_of_service)
    ]
    if as_of is None:
        approvals = may_have_changed(source, approvals)
    wanted = {pid for pid, _ in candidates} | {a.patient_id for a in approvals}
    if as_of is None:
        states = {s.patient_id: s for s in source.patient_states(sorted(wanted), None)}
    approval_ids = {(a.patient_id, a.authorization_id) for a in approvals}

    judged = 0
    for patient_id in sorted(wanted):
        state = states.get(patient_id)
        if state is None:
            continue
        for proc in state.procedures:
            if (patient_id, proc.event_id) not in candidates:
                continue
            judgement = judge_procedure(policy_set, state, proc, window)
            judged += 1
            if judgement is None:
                continue
            found = violation_finding(policy_set, state, judgement)
            if found is not None:
                findings.append(found)
        for auth in state.authorizations:
            if (patient_id, auth.authorization_id) not in approval_ids:
                continue
            own = [
                p.event_id
                for p in state.procedures
                if p.date_of_service == auth.date_of_service
                and p.region == auth.region
                and p.family == auth.family
            ]
            changes = changes_since(state, auth.recorded_at, auth.date_of_service, own)
            found = approval_now_denied(policy_set, state, auth, changes)
            if found is not None:
                findings.append(found)

    findings.sort(key=Finding.sort_key)
    summary = summarize(findings, in_period, policy_set, refs, period)
    summary["authorization_window"] = window.as_json()
    return ComplianceReport(
        policy_set=policy_set.name,
        period=period,
        as_of=as_of,
        findings=findings,
        summary=summary,
        judged=judged,
        patients_folded=len(wanted) if as_of is None else len(states),
    )


# ----------------------------------------------------------------------------- summary


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def summarize(
    findings: Sequence[Finding],
    in_period: Sequence[ProcedureRef],
    policy_set: PolicySet,
    refs: Sequence[ProcedureRef],
    period: Period,
) -> dict[str, Any]:
    """Counts by kind, rule, family, region, month and provider; rates; utilization."""
    by_kind = Counter(f.kind for f in findings)
    by_rule: Counter[str] = Counter()
    breakdowns: dict[str, dict[str, Counter[str]]] = {
        "family": defaultdict(Counter),
        "region": defaultdict(Counter),
        "month": defaultdict(Counter),
        "provider": defaultdict(Counter),
    }
    for f in findings:
        for rule in f.rules:
            by_rule[rule] += 1
        keys = {
            "family": f.family,
            "region": f.region,
            "month": _month(f.date_of_service),
            "provider": f.provider_id or "unknown",
        }
        for name, key in keys.items():
            breakdowns[name][key][f.kind] += 1
    procedures_by_family = Counter(r.family for r in in_period)
    violating = defaultdict(set)
    for f in findings:
        if f.kind == "violation":
            violating[f.family].add((f.patient_id, f.event_id))
    rates = {
        family: {
            "procedures": n,
            "with_violation": len(violating[family]),
            "rate": round(len(violating[family]) / n, 4) if n else 0.0,
        }
        for family, n in sorted(procedures_by_family.items())
    }
    worst = Counter(f.patient_id for f in findings)
    total = len(in_period)
    with_violation = sum(len(v) for v in violating.values())
    return {
        "procedures": total,
        "patients": len({r.patient_id for r in in_period}),
        "findings": sum(by_kind.values()),
        "by_kind": {
            k: by_kind.get(k, 0) for k in ("violation", "unauthorized", "approval_now_denied")
        },
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_family": {k: dict(v) for k, v in sorted(breakdowns["family"].items())},
        "by_region": {k: dict(v) for k, v in sorted(breakdowns["region"].items())},
        "by_month": {k: dict(v) for k, v in sorted(breakdowns["month"].items())},
        "by_provider": {k: dict(v) for k, v in sorted(breakdowns["provider"].items())},
        "violation_rate": {
            "overall": {
                "procedures": total,
                "with_violation": with_violation,
                "rate": round(with_violation / total, 4) if total else 0.0,
            },
            "by_family": rates,
            "reference": OIG_AUDIT,
        },
        "worst_patients": [
            {"patient_id": pid, "findings": n}
            for pid, n in sorted(worst.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ],
        "cap_utilization": cap_utilization(policy_set, refs, period),
    }


def _caps(policy_set: PolicySet, on: date) -> list[tuple[str, str, Span, int, str]]:
    """(rule id, family, window, limit, scope) of the set's rolling caps in force on ``on``."""
    out = []
    for guideline in policy_set.guidelines:
        version = guideline.version_on(on)
        for rule in guideline.rules:
            if rule.kind != "rolling_cap":
                continue
            length = rule.params["length"]
            limit = rule.params["limit"]
            length = version.params.get(length.name) if hasattr(length, "name") else length
            limit = version.params.get(limit.name) if hasattr(limit, "name") else limit
            if not isinstance(length, Span) or limit is None:
                continue
            for family in sorted(guideline.families):
                out.append(
                    (rule.id, family, length, int(limit), str(rule.params.get("scope", "region")))
                )
    return out


def _bucket(used: int, limit: int) -> str:
    if used > limit:
        return UTILIZATION_BUCKETS[4]
    if used == limit:
        return UTILIZATION_BUCKETS[3]
    share = used / limit if limit else 1.0
    if share <= 0.5:
        return UTILIZATION_BUCKETS[0]
    return UTILIZATION_BUCKETS[1] if share <= 0.75 else UTILIZATION_BUCKETS[2]


def cap_utilization(
    policy_set: PolicySet, refs: Sequence[ProcedureRef], period: Period
) -> list[dict[str, Any]]:
    """Per rolling cap: how many patient regions (or patients, for patient-wide caps) of the
    family peaked in each share of the limit, the peak being the most procedures of the
    family in one window ending on a date of service in the period (pairs not merged)."""
    grouped: dict[tuple[str, str, str], list[date]] = defaultdict(list)
    for r in refs:
        grouped[(r.patient_id, r.region, r.family)].append(r.date_of_service)
        grouped[(r.patient_id, "*", r.family)].append(r.date_of_service)
    out = []
    for rule_id, family, length, limit, scope in _caps(policy_set, period.end):
        counts: Counter[str] = Counter()
        peaks: list[int] = []
        for (_, region, fam), dates in grouped.items():
            if fam != family or (region == "*") != (scope == "patient"):
                continue
            ends = [d for d in dates if period.holds(d)]
            if not ends:
                continue
            peak = max(sum(1 for d in dates if in_window(d, end, length)) for end in ends)
            peaks.append(peak)
            counts[_bucket(peak, limit)] += 1
        if peaks:
            out.append(
                {
                    "rule": rule_id,
                    "family": family,
                    "window": str(length),
                    "limit": limit,
                    "groups": len(peaks),
                    "buckets": {b: counts.get(b, 0) for b in UTILIZATION_BUCKETS},
                    "max": max(peaks),
                }
            )
    return out
