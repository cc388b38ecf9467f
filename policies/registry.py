"""The policy sets the service answers for, by name, and their validation.

``register(PolicySet(...))`` adds a set (a set built from existing rule kinds is pure data);
``get(name)`` finds one (``UnknownPolicySet`` otherwise); ``check_set`` lists what is wrong
with a definition: unknown kinds, unknown/missing/mistyped parameters, parameters out of
range, ``Ref`` parameters some version lacks, time rules on kinds that cannot wait, rules
without a citation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import policies.kinds  # noqa: F401  (registers the rule kinds)
from policies import bcbs_ma, cohere, cohere_ma, nia, nia_devices, nia_wa
from policies.engine import KINDS, Guideline, PolicySet, Ref, Rule, UnknownPolicySet, When
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


register(PolicySet(
    "nia", "NIA/Evolent 2024 Interventional Pain Management guidelines",
    nia.NIA_INJECTION_GUIDELINES + nia_devices.NIA_DEVICE_GUIDELINES,
))
register(PolicySet(
    "nia-wa", "NIA/Evolent 2024 guidelines tightened by the Washington State HCA limits",
    nia.NIA_INJECTION_GUIDELINES + nia_devices.NIA_DEVICE_GUIDELINES + nia_wa.WA_GUIDELINES,
))
register(PolicySet(
    "cohere", "Cohere Health Neck Pain V3.0 and Spinal Allogeneic Tissue-Based Injections V1.0",
    cohere.COHERE_GUIDELINES,
))
register(PolicySet(
    "cohere-ma", "Cohere Health Medicare Advantage Intrathecal Pain Pumps V2",
    cohere_ma.COHERE_MA_GUIDELINES,
))
register(PolicySet(
    "bcbs-ma", "Blue Cross medical policy 254, Orthopedic Applications of Stem Cell Therapy",
    bcbs_ma.BCBS_MA_GUIDELINES,
))


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
        if value is not None and not isinstance(value, param.types + (Ref,)):
            problems.append(f"{where}: parameter {name!r} has type {type(value).__name__}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            problems.append(f"{where}: parameter {name!r} is negative")
        if name == "threshold" and isinstance(value, (int, float)) and value > 100:
            problems.append(f"{where}: threshold above 100%")
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
