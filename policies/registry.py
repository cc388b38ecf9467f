"""The policy sets the service answers for, by name, and their validation.

``register(PolicySet(...))`` adds a set (a set built from existing rule kinds is pure data);
``get(name)`` finds one (``UnknownPolicySet`` otherwise); ``check_set`` lists what is wrong
with a definition: unknown kinds, unknown/missing/mistyped parameters, parameters out of
range, ``Ref`` parameters some version lacks, time rules on kinds that cannot wait, rules
without a citation; ``check_sources`` that every citation's quote is in its named source file
(when the folder of source files is at hand: ``injtrack policies check --seeds DIR``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import policies.kinds
import policies.kinds_criteria  # noqa: F401  (registers the criteria kinds)
from policies import bcbs_ma, cohere, cohere_ma, nia, nia_devices, nia_wa
from policies.citations import find_in_source
from policies.engine import KINDS, Guideline, PolicySet, Ref, Rule, UnknownPolicySet, When
from policies.facts import FACTS, facts_of
from policies.kinds import FACT_OPS, FactTest
from projections.calendar import Span

SETS: dict[str, PolicySet] = {}


def register(policy_set: PolicySet) -> PolicySet:
    """Add (or replace) a policy set under its name."""
    SETS[policy_set.name] = policy_set
    return policy_set


def get(name: str) -> PolicySet:
    try:
        return SETS[name]
    except KeyError:
        raise UnknownPolicySet(name, SETS) from None


def all_sets() -> list[PolicySet]:
    return list(SETS.values())


register(
    PolicySet(
        "nia",
        "NIA/Evolent 2024 Interventional Pain Management guidelines",
        nia.NIA_INJECTION_GUIDELINES + nia_devices.NIA_DEVICE_GUIDELINES,
    )
)
register(
    PolicySet(
        "nia-wa",
        "NIA/Evolent 2024 guidelines tightened by the Washington State HCA limits",
        nia.NIA_INJECTION_GUIDELINES + nia_devices.NIA_DEVICE_GUIDELINES + nia_wa.WA_GUIDELINES,
    )
)
register(
    PolicySet(
        "cohere",
        "Cohere Health Neck Pain V3.0 and Spinal Allogeneic Tissue-Based Injections V1.0",
        cohere.COHERE_GUIDELINES,
    )
)
register(
    PolicySet(
        "cohere-ma",
        "Cohere Health Medicare Advantage Intrathecal Pain Pumps V2",
        cohere_ma.COHERE_MA_GUIDELINES,
    )
)
register(
    PolicySet(
        "bcbs-ma",
        "Blue Cross medical policy 254, Orthopedic Applications of Stem Cell Therapy",
        bcbs_ma.BCBS_MA_GUIDELINES,
    )
)


# ----------------------------------------------------------------------------- validation


def _refs(value: Any) -> Iterable[str]:
    if isinstance(value, Ref):
        yield value.name
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _refs(v)
    elif isinstance(value, tuple):
        for v in value:
            yield from _refs(v)


def _when_refs(when: When | None) -> Iterable[str]:
    if when is None:
        return
    for name in ("previous_within", "opposite_side_of_previous"):
        yield from _refs(getattr(when, name))
    if when.prior_in_window is not None:
        yield from _refs(when.prior_in_window)


def check_rule(guideline: Guideline, rule: Rule) -> list[str]:
    where = f"{guideline.id} {rule.id}"
    problems: list[str] = []
    spec = KINDS.get(rule.kind)
    if spec is None:
        return [f"{where}: unknown rule kind {rule.kind!r}"]
    for name, param in spec.params.items():
        if param.required and name not in rule.params:
            problems.append(f"{where}: missing parameter {name!r}")
    for name, value in rule.params.items():
        param = spec.params.get(name)
        if param is None:
            problems.append(f"{where}: unknown parameter {name!r} for kind {rule.kind}")
            continue
        if value is not None and not isinstance(value, (*param.types, Ref)):
            problems.append(f"{where}: parameter {name!r} has type {type(value).__name__}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            problems.append(f"{where}: parameter {name!r} is negative")
        if name == "threshold" and isinstance(value, (int, float)) and value > 100:
            problems.append(f"{where}: threshold above 100%")
        if name in _COUNTS and isinstance(value, int) and not isinstance(value, bool) and value < 1:
            problems.append(f"{where}: parameter {name!r} must be at least 1")
        if isinstance(value, Span) and value.amount == 0:
            problems.append(f"{where}: parameter {name!r} is an empty span")
    problems.extend(_check_values(where, rule))
    if rule.time_rule and not spec.can_wait:
        problems.append(f"{where}: kind {rule.kind} cannot be a time rule")
    for name in [*_refs(rule.params), *_when_refs(rule.when), *_when_refs(rule.unless)]:
        for version in guideline.versions:
            if name not in version.params:
                problems.append(f"{where}: version {version.id} lacks parameter {name!r}")
            elif not isinstance(version.params[name], (Span, int, float)):
                problems.append(f"{where}: version parameter {name!r} is not a span or number")
    if rule.citation is None:
        problems.append(f"{where}: no citation")
    if not rule.description.strip():
        problems.append(f"{where}: no description")
    return problems


_COUNTS = frozenset(
    {"limit", "lifted_limit", "min_count", "fail_at", "max_levels", "length", "days"}
)
_PROPOSED_FIELDS = frozenset(
    {"intent", "laterality", "agent", "approach", "indication", "device_type"}
)


def _check_values(where: str, rule: Rule) -> list[str]:
    """Parameter values that must come from a vocabulary: fact operators, relief measures,
    scopes, the attribute a procedure_attribute rule reads."""
    problems: list[str] = []
    tests = list(rule.params.get("tests", ())) if rule.kind == "facts" else []
    if rule.kind == "criteria":
        for item in rule.params.get("items", ()):
            if not isinstance(item, tuple) or not item:
                problems.append(f"{where}: criteria items must be non-empty tuples of FactTest")
            else:
                tests.extend(item)
    for test in tests:
        if not isinstance(test, FactTest):
            problems.append(f"{where}: tests must be FactTest, got {type(test).__name__}")
        elif test.op not in FACT_OPS:
            problems.append(f"{where}: unknown fact operator {test.op!r}")
    for name, allowed in (
        ("measure", {"latest", "earliest", "sustained"}),
        ("scope", {"region", "patient"}),
    ):
        value = rule.params.get(name)
        if value is not None and value not in allowed:
            problems.append(
                f"{where}: parameter {name!r} is {value!r}, not one of {', '.join(sorted(allowed))}"
            )
    if rule.params.get("measure") == "sustained" and "sustained" not in rule.params:
        problems.append(f"{where}: measure sustained needs the 'sustained' span")
    for fact in facts_of(rule.params):
        if fact not in FACTS:
            problems.append(f"{where}: unknown clinical fact {fact!r} (not in policies.facts)")
    if rule.kind == "procedure_attribute" and rule.params.get("field") not in _PROPOSED_FIELDS:
        problems.append(f"{where}: procedure_attribute cannot read {rule.params.get('field')!r}")
    return problems


def check_sources(policy_set: PolicySet, seeds_dir: Path) -> list[str]:
    """Every rule citation of the set whose quote is not found in its named source file
    (whitespace-insensitive); a source file absent from ``seeds_dir`` is reported once."""
    problems: list[str] = []
    absent: set[str] = set()
    for guideline in policy_set.guidelines:
        for rule in guideline.rules:
            c = rule.citation
            if c is None:
                continue  # check_set reports it
            where = f"{guideline.id} {rule.id}"
            if not (seeds_dir / c.source).is_file():
                if c.source not in absent:
                    absent.add(c.source)
                    problems.append(
                        f"source file {c.source} is not in {seeds_dir}: its "
                        "citations cannot be checked"
                    )
            elif not find_in_source(c, seeds_dir):
                problems.append(f"{where}: quote not found in {c.source}: {c.quote[:80]!r}")
    return problems


def check_set(policy_set: PolicySet) -> list[str]:
    """Every problem with one set's definitions (empty when it is sound)."""
    problems: list[str] = []
    if not policy_set.guidelines:
        problems.append(f"{policy_set.name}: no guidelines")
    for guideline in policy_set.guidelines:
        if not guideline.versions:
            problems.append(f"{guideline.id}: no versions")
            continue
        for rule in guideline.rules:
            problems.extend(check_rule(guideline, rule))
    return problems


# ----------------------------------------------------------------------------- facts


def rules_reading(fact: str) -> list[str]:
    """Ids of the rules (of every registered set) that read a clinical fact."""
    found: dict[str, None] = {}
    for policy_set in SETS.values():
        for guideline in policy_set.guidelines:
            for rule in guideline.rules:
                if fact in facts_of(rule.params):
                    found[rule.id] = None
    return sorted(found)


def fact_description(name: str) -> str:
    """A fact's meaning, type and the rules that read it (for the request schema)."""
    fact = FACTS[name]
    rules = rules_reading(name)
    return f"{fact.meaning} ({fact.type}). Read by: {', '.join(rules) or 'no rule yet'}."
