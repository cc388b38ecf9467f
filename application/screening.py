"""Which recorded procedures could break a time rule: a conservative screen over read-model
rows, so the report runs the fold and the engine only where needed.

From the set's time rules (the only ones a violation can come from) each family gets checks
that are necessary conditions of a failure, with every span taken at its longest over the
guideline's versions (in days, months counted as 31) and every limit at its lowest:

- ``min_interval`` / ``previous_relief`` (sustained): a prior procedure of the family (in
  the region, or any region for ``scope: patient``) fewer than the span's days before;
- ``rolling_cap`` / ``episode_cap``: at least ``limit`` prior procedures of the family within
  the span's days before (pairs not merged, so never fewer than the rule counts);
- ``cross_region_interval``: a procedure of the listed families in another region fewer
  than N days before;
- any other time-rule kind: every procedure of the family is judged.

A procedure that passes no check cannot fail a time rule, so skipping it never hides a
violation; one that passes a check is judged by the engine, which has the last word.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from application.judging import ProcedureRef
from policies.engine import Guideline, PolicySet, Ref
from projections.calendar import Span, Unit


@dataclass(frozen=True, slots=True)
class Check:
    kind: str  # interval | cap | cross_region | always
    days: int = 0
    limit: int = 0
    scope: str = "region"
    families: frozenset[str] = frozenset()


def _upper_days(span: Span) -> int:
    if span.unit is Unit.MONTHS:
        return 31 * span.amount + 1
    return span.amount * (7 if span.unit is Unit.WEEKS else 1)


def _spans(guideline: Guideline, value: Any) -> list[Span]:
    if isinstance(value, Ref):
        found = [v.params.get(value.name) for v in guideline.versions]
        return [s for s in found if isinstance(s, Span)]
    return [value] if isinstance(value, Span) else []


def _limits(guideline: Guideline, value: Any) -> list[int]:
    if isinstance(value, Ref):
        return [int(v.params[value.name]) for v in guideline.versions if value.name in v.params]
    return [int(value)]


def _longest(guideline: Guideline, *values: Any) -> int:
    spans = [s for v in values if v is not None for s in _spans(guideline, v)]
    return max((_upper_days(s) for s in spans), default=0)


def checks_for(policy_set: PolicySet) -> dict[str, list[Check]]:
    """Per family, the checks of the set's time rules."""
    out: dict[str, list[Check]] = defaultdict(list)
    for guideline in policy_set.guidelines:
        for rule in guideline.rules:
            if not rule.time_rule:
                continue
            p = rule.params
            scope = str(p.get("scope", "region"))
            check: Check
            if rule.kind == "min_interval":
                days = _longest(guideline, p.get("span"), p.get("span_if_previous"))
                check = Check("interval", days=days, scope=scope)
            elif rule.kind == "previous_relief" and p.get("measure") == "sustained":
                check = Check("interval", days=_longest(guideline, p.get("sustained")), scope=scope)
            elif rule.kind == "rolling_cap":
                limits = _limits(guideline, p["limit"])
                check = Check(
                    "cap",
                    days=_longest(guideline, p.get("length")),
                    limit=min(limits) if limits else 0,
                    scope=scope,
                )
            elif rule.kind == "episode_cap":
                limits = _limits(guideline, p["limit"])
                check = Check(
                    "cap",
                    days=_longest(guideline, p.get("span")),
                    limit=min(limits) if limits else 0,
                )
            elif rule.kind == "cross_region_interval":
                check = Check(
                    "cross_region", days=int(p["days"]), families=frozenset(p["families"])
                )
            else:
                check = Check("always")
            for family in guideline.families:
                if check not in out[family]:
                    out[family].append(check)
    return dict(out)


def lookback_days(checks: Mapping[str, Sequence[Check]]) -> int:
    """How far before a period the rows must reach for the checks."""
    return max((c.days for cs in checks.values() for c in cs), default=0) + 1


class _Patient:
    """One patient's procedure dates, by (region, family) and by family, sorted."""

    def __init__(self, refs: Iterable[ProcedureRef]) -> None:
        self.by_region: dict[tuple[str, str], list[date]] = defaultdict(list)
        self.by_family: dict[str, list[date]] = defaultdict(list)
        self.by_region_any: dict[str, list[tuple[date, str]]] = defaultdict(list)
        for r in refs:
            self.by_region[(r.region, r.family)].append(r.date_of_service)
            self.by_family[r.family].append(r.date_of_service)
            self.by_region_any[r.region].append((r.date_of_service, r.family))
        for dates in (*self.by_region.values(), *self.by_family.values()):
            dates.sort()

    def prior(self, ref: ProcedureRef, scope: str) -> list[date]:
        dates = (
            self.by_family[ref.family]
            if scope == "patient"
            else self.by_region[(ref.region, ref.family)]
        )
        return dates[: bisect.bisect_left(dates, ref.date_of_service)]


def needs_judging(patient: _Patient, ref: ProcedureRef, checks: Sequence[Check]) -> bool:
    on = ref.date_of_service
    for check in checks:
        if check.kind == "always":
            return True
        if check.kind == "cross_region":
            for region, items in patient.by_region_any.items():
                if region == ref.region:
                    continue
                if any(f in check.families and 0 < (on - d).days < check.days for d, f in items):
                    return True
            continue
        prior = patient.prior(ref, check.scope)
        if not prior:
            continue
        if check.kind == "interval" and (on - prior[-1]).days < check.days:
            return True
        if check.kind == "cap":
            start = on - timedelta(days=check.days)
            inside = len(prior) - bisect.bisect_right(prior, start)
            if inside + 1 > check.limit:
                return True
    return False


def screen(
    refs: Sequence[ProcedureRef],
    checks: Mapping[str, Sequence[Check]],
    start: date,
    end: date,
) -> set[tuple[str, str]]:
    """(patient id, event id) of the procedures dated in [start, end] that could break a
    time rule; ``refs`` must hold every procedure of those patients the checks look back to."""
    by_patient: dict[str, list[ProcedureRef]] = defaultdict(list)
    for r in refs:
        by_patient[r.patient_id].append(r)
    out: set[tuple[str, str]] = set()
    for patient_id, own in by_patient.items():
        patient = _Patient(own)
        for r in own:
            if not start <= r.date_of_service <= end:
                continue
            family_checks = checks.get(r.family)
            if family_checks and needs_judging(patient, r, family_checks):
                out.add((patient_id, r.event_id))
    return out
