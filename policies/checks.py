"""The checks on a guideline document that no schema states: catalog codes and families,
version dates, references every version resolves, and criteria naming real rules and facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from domain.catalog import CATALOG, Family
from policies.conditions import When
from policies.document import (
    GuidelineDocument,
    RuleDoc,
    VersionDoc,
)
from policies.facts import FACTS, facts_of
from policies.model import (
    Rule,
)
from policies.problems import DocProblems
from policies.values import Ref
from policies.yamlfile import Path_
from projections.calendar import Span

FAMILIES = frozenset(f.value for f in Family)


def refs_in(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from refs_in(v)
    elif isinstance(value, list | tuple | frozenset | set):
        for v in value:
            yield from refs_in(v)


def when_refs(when: When | None) -> Iterator[tuple[str, Ref]]:
    if when is None:
        return
    for name in ("previous_within", "opposite_side_of_previous", "prior_in_window"):
        for ref in refs_in(getattr(when, name)):
            yield name, ref


def facts_read(rule: Rule) -> set[str]:
    """The clinical facts a rule reads (see :func:`policies.facts.facts_of`)."""
    return set(facts_of(rule.params))


def check_facts(doc: DocProblems, index: int, rule: Rule, rule_id: str) -> None:
    """Every clinical fact the rule reads is a known fact (:data:`policies.facts.FACTS`)."""
    for fact in facts_of(rule.params):
        if fact not in FACTS:
            doc.rule_add(index, rule_id, ("params",), f"unknown clinical fact {fact!r}")


def check_codes(
    doc: DocProblems, path: Path_, codes: Iterable[str] | None, label: str = ""
) -> None:
    for n, code in enumerate(codes or ()):
        if code not in CATALOG:
            doc.add((*path, n), f"{label}{code!r} is not a code of the catalog")


def check_versions(doc: DocProblems, g: GuidelineDocument) -> None:
    ids: set[str] = set()
    previous = None
    for n, v in enumerate(g.versions):
        if v.id in ids:
            doc.add(("versions", n, "id"), f"version id {v.id!r} is used twice")
        ids.add(v.id)
        if n > 0 and (v.effective is None or (previous is not None and v.effective <= previous)):
            doc.add(
                ("versions", n, "effective"),
                "effective dates must strictly increase (only the first version may have none)",
            )
        previous = v.effective


def check_refs(
    doc: DocProblems, index: int, rule: Rule, rule_doc: RuleDoc, versions: Sequence[VersionDoc]
) -> None:
    located: list[tuple[Path_, Ref]] = [
        (("params", name), ref) for name, value in rule.params.items() for ref in refs_in(value)
    ]
    located += [(("when", name), ref) for name, ref in when_refs(rule.when)]
    located += [(("unless", name), ref) for name, ref in when_refs(rule.unless)]
    for path, ref in located:
        for version in versions:
            value = version.parameters.get(ref.name)
            if value is None:
                doc.rule_add(
                    index,
                    rule_doc.id,
                    path,
                    f"version {version.id} lacks parameter {ref.name!r}",
                )
            elif ref.expects == "span" and not isinstance(value, Span):
                doc.rule_add(
                    index, rule_doc.id, path, f"version parameter {ref.name!r} is not a duration"
                )
            elif ref.expects == "number" and isinstance(value, Span):
                doc.rule_add(
                    index, rule_doc.id, path, f"version parameter {ref.name!r} is not a number"
                )


def check_criteria(doc: DocProblems, g: GuidelineDocument, rules: Sequence[Rule | None]) -> None:
    ids = {r.id for r in g.rules} | {r.reported_as for r in g.rules if r.reported_as}
    by_id: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule is not None:
            by_id.setdefault(rule.key, []).append(rule)
            by_id.setdefault(rule.id, []).append(rule)
    seen: set[str] = set()
    for n, c in enumerate(g.criteria):
        at = ("criteria", n)
        if c.id in seen:
            doc.add((*at, "id"), f"criterion id {c.id!r} is used twice")
        seen.add(c.id)
        for k, rule_id in enumerate(c.rules):
            if rule_id not in ids:
                doc.add((*at, "rules", k), f"{c.id}: no rule {rule_id!r} in this document")
        if c.status == "checked" and not c.rules:
            doc.add((*at, "rules"), f"{c.id}: a checked criterion names the rules checking it")
        if c.status == "attested":
            if not c.facts:
                doc.add((*at, "facts"), f"{c.id}: an attested criterion names its facts")
            if not c.rules:
                doc.add(
                    (*at, "rules"),
                    f"{c.id}: an attested criterion names the rules reading its facts",
                )
            read = {f for rule_id in c.rules for r in by_id.get(rule_id, []) for f in facts_read(r)}
            for k, fact in enumerate(c.facts):
                if c.rules and fact not in read:
                    doc.add((*at, "facts", k), f"{c.id}: no rule named reads fact {fact!r}")
        if c.status == "not_checkable" and not (c.reason or "").strip():
            doc.add((*at, "reason"), f"{c.id}: a not_checkable criterion says why")
