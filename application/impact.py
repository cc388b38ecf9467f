"""Policy impact: which recorded procedures a policy change would have decided differently.

Every non-voided procedure dated in the period is decided as if proposed on its date of
service (against what was known before it, as in the compliance report) under two sets: the
one in force (``policy_set``) and the candidate (``against``: a payer's amended copy loaded
from its own policy folder, or another payer's set). A procedure is listed when the two
decisions differ, or when the same decision rests on rules whose status differs; each item
carries both decisions and the rules that differ. Clinical facts are those attested on the
procedure's covering approved authorization, as in the compliance report.

Counts are by rule, family and change (``eligible -> not_eligible``, ...). Every procedure of
the period is decided twice, against one state before it: this is the slow report (no screen
applies, since a candidate set may add any rule).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from typing import Any

from application.compliance import Period, ReportSource
from application.judging import (
    authorization_window,
    clinical_of,
    covering,
    governed,
    proposed_of_procedure,
)
from policies.engine import Decision, PolicySet, Status, decide
from projections.state import PatientState, Procedure

NOT_GOVERNED = "not_governed"


@dataclass(frozen=True, slots=True)
class ImpactItem:
    patient_id: str
    event_id: str
    region: str
    family: str
    date_of_service: date
    decision: str
    against: str
    rules: tuple[str, ...]
    reasons: dict[str, str]  # rule -> status under policy_set
    against_reasons: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "event_id": self.event_id,
            "region": self.region,
            "family": self.family,
            "date_of_service": self.date_of_service.isoformat(),
            "decision": self.decision,
            "against": self.against,
            "rules": list(self.rules),
            "reasons": self.reasons,
            "against_reasons": self.against_reasons,
        }


@dataclass
class ImpactReport:
    policy_set: str
    against: str
    period: Period
    items: list[ImpactItem]
    summary: dict[str, Any]

    def as_json(self, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
        page = self.items[offset : None if limit is None else offset + limit]
        after = offset + len(page)
        return {
            "policy_set": self.policy_set,
            "against": self.against,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "summary": self.summary,
            "total": len(self.items),
            "offset": offset,
            "limit": limit,
            "next_offset": after if after < len(self.items) else None,
            "items": [i.as_json() for i in page],
        }


def decide_recorded(
    policy_set: PolicySet,
    before: Callable[[], PatientState],
    proc: Procedure,
    clinical: dict[str, Any],
) -> Decision | None:
    """``proc`` decided as if proposed on its date under ``policy_set`` (None: not governed),
    against ``before()``: the state it is judged against (:meth:`PatientState.before`),
    worked out only when the set governs it."""
    proposed = proposed_of_procedure(proc)
    if not governed(policy_set, proposed):
        return None
    return decide(policy_set, before(), proposed, clinical)


def _statuses(decision: Decision | None) -> dict[str, str]:
    if decision is None:
        return {}
    return {r.rule: r.status.value for r in decision.reasons}


def compare(
    state: PatientState, proc: Procedure, current: PolicySet, candidate: PolicySet
) -> ImpactItem | None:
    """The difference one procedure shows between two sets (None: none)."""
    window = authorization_window(current)
    covers = covering(state.authorizations, proc, window, current.name) or covering(
        state.authorizations, proc, authorization_window(candidate), candidate.name
    )
    clinical = clinical_of(covers[0].request) if covers else {}
    # One state before the procedure serves both sets (it depends on no policy).
    before = cache(partial(state.before, proc.date_of_service, excluding=proc.event_id))
    mine = decide_recorded(current, before, proc, clinical)
    theirs = decide_recorded(candidate, before, proc, clinical)
    if mine is None and theirs is None:
        return None
    a, b = _statuses(mine), _statuses(theirs)
    differing = tuple(sorted(r for r in set(a) | set(b) if a.get(r) != b.get(r)))
    verdict = mine.decision if mine else NOT_GOVERNED
    other = theirs.decision if theirs else NOT_GOVERNED
    if verdict == other and not any(
        a.get(r) == Status.FAIL.value or b.get(r) == Status.FAIL.value for r in differing
    ):
        return None
    return ImpactItem(
        patient_id=state.patient_id,
        event_id=proc.event_id,
        region=proc.region,
        family=proc.family,
        date_of_service=proc.date_of_service,
        decision=verdict,
        against=other,
        rules=differing,
        reasons=dict(sorted(a.items())),
        against_reasons=dict(sorted(b.items())),
    )


def impact_report(
    source: ReportSource, current: PolicySet, candidate: PolicySet, period: Period
) -> ImpactReport:
    """The procedures of the period that ``candidate`` decides differently from ``current``."""
    refs = source.procedure_refs(period.start, period.end)
    patients = sorted({r.patient_id for r in refs})
    items: list[ImpactItem] = []
    decided = 0
    for state in source.patient_states(patients, None):
        for proc in state.procedures:
            if not period.holds(proc.date_of_service):
                continue
            decided += 1
            item = compare(state, proc, current, candidate)
            if item is not None:
                items.append(item)
    items.sort(key=lambda i: (i.date_of_service, i.patient_id, i.event_id))
    by_rule: Counter[str] = Counter(r for i in items for r in i.rules)
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    for i in items:
        by_family[i.family][f"{i.decision} -> {i.against}"] += 1
    return ImpactReport(
        policy_set=current.name,
        against=candidate.name,
        period=period,
        items=items,
        summary={
            "procedures": decided,
            "differing": len(items),
            "decision_changes": sum(1 for i in items if i.decision != i.against),
            "by_change": dict(Counter(f"{i.decision} -> {i.against}" for i in items)),
            "by_rule": dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
            "by_family": {k: dict(v) for k, v in sorted(by_family.items())},
        },
    )
