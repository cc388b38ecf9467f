"""Loading one guideline document: validated by its model, each rule's parameters by its
kind, then checked (:mod:`policies.checks`) and built into the engine's model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from policies.checks import (
    FAMILIES,
    check_codes,
    check_criteria,
    check_facts,
    check_refs,
    check_versions,
)
from policies.conditions import OtherSince, When
from policies.document import (
    CitationDoc,
    GuidelineDocument,
    RuleDoc,
    VersionDoc,
    WhenDoc,
)
from policies.kinds import KINDS
from policies.model import (
    Citation,
    Criterion,
    Guideline,
    GuidelineVersion,
    Rule,
)
from policies.problems import DocProblems, Problem
from policies.yamlfile import YamlError, read_yaml


def _set(values: Iterable[Any] | None) -> frozenset[Any] | None:
    return None if values is None else frozenset(values)


def build_when(doc: WhenDoc) -> When:
    prior = doc.prior_in_window
    other = doc.other_since_previous
    return When(
        min_position=doc.min_position,
        max_position=doc.max_position,
        new_episode=doc.new_episode,
        first_year=doc.first_year,
        has_previous=doc.has_previous,
        intent_in=_set(doc.intent_in),
        agent_in=_set(doc.agent_in),
        indication_in=_set(doc.indication_in),
        indication_not_in=_set(doc.indication_not_in),
        approach_in=_set(doc.approach_in),
        cpt_in=_set(doc.cpt_in),
        region_in=_set(doc.region_in),
        laterality_in=_set(doc.laterality_in),
        previous_intent_in=_set(doc.previous_intent_in),
        previous_agent_in=_set(doc.previous_agent_in),
        previous_within=doc.previous_within,
        opposite_side_of_previous=doc.opposite_side_of_previous,
        other_since_previous=None
        if other is None
        else OtherSince(frozenset(other.families), other.region),
        prior_in_window=None if prior is None else (prior.length, prior.min, prior.max),
    )


def _citation(doc: CitationDoc, source: str) -> Citation:
    return Citation(doc.quote, source, doc.section)


def _rule(doc: RuleDoc, params: Mapping[str, Any], source: str) -> Rule:
    return Rule(
        id=doc.reported_as or doc.id,
        kind=doc.kind,
        description=doc.description,
        params=params,
        when=build_when(doc.when),
        unless=None if doc.unless is None else build_when(doc.unless),
        time_rule=doc.time_rule,
        effective_from=doc.effective_from,
        effective_until=doc.effective_until,
        citation=_citation(doc.citation, source),
        key=doc.id,
        supporting=tuple(_citation(c, source) for c in doc.supporting),
    )


def _params(doc: DocProblems, index: int, rule: RuleDoc) -> Mapping[str, Any] | None:
    spec = KINDS.get(rule.kind)
    if spec is None:
        doc.rule_add(index, rule.id, ("kind",), f"unknown rule kind {rule.kind!r}")
        return None
    try:
        model: BaseModel = spec.params.model_validate(rule.params)
    except ValidationError as exc:
        doc.validation(exc, ("rules", index, "params"), rule.id)
        return None
    if rule.time_rule and not spec.can_wait:
        doc.rule_add(index, rule.id, ("time_rule",), f"kind {rule.kind} cannot be a time rule")
    return {name: getattr(model, name) for name in rule.params}


def _valid(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _partial_checks(doc: DocProblems, data: Any) -> None:
    """On a document that fails validation, still check the rules that parse on their own
    (kinds, parameters, time rules, references), so one run lists every problem."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return
    raw_versions = data.get("versions")
    versions = [
        v
        for v in (
            _valid(VersionDoc, raw)
            for raw in (raw_versions if isinstance(raw_versions, list) else [])
        )
        if v is not None
    ]
    for n, raw in enumerate(data["rules"]):
        rule_doc = _valid(RuleDoc, raw)
        if rule_doc is None and isinstance(raw, dict):
            rule_doc = _valid(RuleDoc, {**raw, "citation": {"quote": "-", "section": "-"}})
        if rule_doc is None:
            continue
        params = _params(doc, n, rule_doc)
        if params is not None:
            check_refs(doc, n, _rule(rule_doc, params, ""), rule_doc, versions)


def load_guideline(path: Path, name: str) -> tuple[Guideline | None, list[Problem]]:
    """One guideline document; ``name`` is how problems name the file."""
    try:
        yaml_doc = read_yaml(path)
    except YamlError as exc:
        return None, [Problem(name, exc.line, "", exc.message)]
    except OSError as exc:
        return None, [Problem(name, None, "", f"cannot be read: {exc.strerror or exc}")]
    doc = DocProblems(name, yaml_doc)
    try:
        g = GuidelineDocument.model_validate(yaml_doc.data)
    except ValidationError as exc:
        doc.validation(exc)
        _partial_checks(doc, yaml_doc.data)
        return None, doc.problems
    source = g.source.file
    for n, family in enumerate(g.governs.families):
        if family not in FAMILIES:
            doc.add(("governs", "families", n), f"unknown family {family!r}")
    check_codes(doc, ("governs", "codes"), g.governs.codes)
    check_versions(doc, g)
    rules: list[Rule | None] = []
    first: dict[str, int] = {}
    for n, rule_doc in enumerate(g.rules):
        if rule_doc.id in first:
            doc.rule_add(
                n, rule_doc.id, ("id",), f"duplicate rule id (also rules[{first[rule_doc.id]}])"
            )
        first.setdefault(rule_doc.id, n)
        for part in ("when", "unless"):
            w = getattr(rule_doc, part)
            if w is not None:
                check_codes(doc, ("rules", n, part, "cpt_in"), w.cpt_in, f"{rule_doc.id}: ")
        if (
            rule_doc.effective_from
            and rule_doc.effective_until
            and rule_doc.effective_until <= rule_doc.effective_from
        ):
            doc.rule_add(n, rule_doc.id, ("effective_until",), "ends before it starts")
        params = _params(doc, n, rule_doc)
        if params is None:
            rules.append(None)
            continue
        rule = _rule(rule_doc, params, source)
        check_refs(doc, n, rule, rule_doc, g.versions)
        check_facts(doc, n, rule, rule_doc.id)
        rules.append(rule)
    ids = {r.id for r in g.rules}
    for n, rule_doc in enumerate(g.rules):
        if rule_doc.reported_as is not None and rule_doc.reported_as not in ids:
            doc.rule_add(
                n, rule_doc.id, ("reported_as",), f"no rule {rule_doc.reported_as!r} to report as"
            )
    check_criteria(doc, g, rules)
    if doc.problems:
        return None, doc.problems
    return (
        Guideline(
            id=g.id,
            title=g.title,
            source=source,
            families=frozenset(g.governs.families),
            versions=tuple(
                GuidelineVersion(
                    v.id,
                    v.effective,
                    dict(v.parameters),
                    v.note,
                    tuple(_citation(c, source) for c in v.citations),
                )
                for v in g.versions
            ),
            rules=tuple(r for r in rules if r is not None),
            codes=_set(g.governs.codes),
            regions=_set(g.governs.regions),
            publisher=g.source.publisher,
            document_version=g.source.document_version,
            section_naming=g.source.section_naming,
            title_citation=None
            if g.title_citation is None
            else _citation(g.title_citation, source),
            criteria=tuple(
                Criterion(
                    c.id, c.quote, c.section, c.status, tuple(c.rules), tuple(c.facts), c.reason
                )
                for c in g.criteria
            ),
        ),
        [],
    )
