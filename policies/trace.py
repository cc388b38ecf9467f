"""The traceability matrix: every criterion sentence of every guideline, with how the engine
treats it, built from the policy documents themselves (so it cannot drift from the rules).

Each guideline document lists its criteria (``criteria:``): a verbatim quote, its section and
a status, ``checked`` (the rules that check it), ``attested`` (the clinical facts the
requester attests and the rules that read them) or ``not_checkable`` (why, and what field
would make it checkable). :func:`matrix` flattens a set's guidelines into rows;
:func:`summary` counts them per guideline. Rendering (Markdown, JSON, HTML) is the CLI's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policies.model import PolicySet

STATUSES = ("checked", "attested", "not_checkable")


@dataclass(frozen=True, slots=True)
class TraceRow:
    set: str
    guideline: str
    criterion: str
    section: str
    quote: str
    status: str
    rules: tuple[str, ...]
    facts: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class GuidelineCount:
    set: str
    guideline: str
    title: str
    checked: int
    attested: int
    not_checkable: int
    rules_not_traced: tuple[str, ...]  # rule ids no criterion names

    @property
    def total(self) -> int:
        return self.checked + self.attested + self.not_checkable


def matrix(sets: Iterable[PolicySet]) -> list[TraceRow]:
    """One row per criterion of every guideline of the sets (a guideline shared by two sets,
    e.g. ``nia`` and ``nia-wa``, is listed under the first set naming it)."""
    rows: list[TraceRow] = []
    seen: set[str] = set()
    for policy_set in sets:
        for g in policy_set.guidelines:
            if g.id in seen:
                continue
            seen.add(g.id)
            rows.extend(
                TraceRow(
                    policy_set.name,
                    g.id,
                    c.id,
                    c.section,
                    c.quote,
                    c.status,
                    tuple(c.rules),
                    tuple(c.facts),
                    c.reason,
                )
                for c in g.criteria
            )
    return rows


def summary(sets: Iterable[PolicySet]) -> list[GuidelineCount]:
    """Per guideline: criteria checked / attested / not checkable, and the rules no criterion
    names (each rule should implement some quoted criterion)."""
    counts: list[GuidelineCount] = []
    seen: set[str] = set()
    for policy_set in sets:
        for g in policy_set.guidelines:
            if g.id in seen:
                continue
            seen.add(g.id)
            by = {s: sum(1 for c in g.criteria if c.status == s) for s in STATUSES}
            named = {r for c in g.criteria for r in c.rules}
            untraced = tuple(
                dict.fromkeys(
                    r.id for r in g.rules if r.id not in named and (r.key or r.id) not in named
                )
            )
            counts.append(
                GuidelineCount(
                    policy_set.name,
                    g.id,
                    g.title,
                    by["checked"],
                    by["attested"],
                    by["not_checkable"],
                    untraced,
                )
            )
    return counts
