"""Loading policy documents into the engine's model, and every check on them.

``load_library(folders)`` reads each folder's ``<set-id>/set.yaml`` and the guideline
documents it names, validates them (the document models, each rule's parameters against its
kind, and the checks no schema states: known kinds, references every version resolves, unique
rule ids, strictly increasing effective dates, time rules only on kinds that can wait,
criteria that name real rules and facts, ``extends`` that resolve) and builds the
:class:`~policies.engine.PolicySet` objects. Every problem names the file, the line and the
path inside the document: ``nia/NIA_CG_300.yaml:42 rules[5].params.span: ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

import policies.kinds  # noqa: F401  (registers the rule kinds; explicit list in stage 2)
from domain.catalog import CATALOG, Family
from policies.document import (
    CitationDoc,
    GuidelineDocument,
    RuleDoc,
    SetDocument,
    VersionDoc,
    WhenDoc,
)
from policies.engine import (
    KINDS,
    AuthorizationWindow,
    Citation,
    Criterion,
    Guideline,
    GuidelineVersion,
    OtherSince,
    PolicySet,
    Rule,
    When,
)
from policies.values import Ref
from policies.yamlfile import Path_, YamlDocument, YamlError, read_yaml
from projections.calendar import Span

LIBRARY = Path(__file__).with_name("library")
SET_FILE = "set.yaml"
FAMILIES = frozenset(f.value for f in Family)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document, where it is."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PolicyLoadError(ValueError):
    """Documents with problems: none of them is loaded."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in the policy documents:\n"
            + "\n".join(f"  {p}" for p in self.problems)
        )


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Doc:
    """Problems of one document, located by path."""

    def __init__(self, name: str, yaml_doc: YamlDocument | None) -> None:
        self.name = name
        self.yaml = yaml_doc
        self.problems: list[Problem] = []

    def add(self, path: Path_, message: str) -> None:
        line = self.yaml.line_of(path) if self.yaml is not None else None
        self.problems.append(Problem(self.name, line, dotted(path), message))

    def rule_add(self, index: int, rule_id: str, path: Path_, message: str) -> None:
        self.add(("rules", index, *path), f"{rule_id}: {message}")

    def validation(self, error: ValidationError, prefix: Path_ = (), label: str = "") -> None:
        for e in error.errors():
            loc = tuple(part for part in e["loc"] if not _is_union_tag(part))
            path = (*prefix, *loc)
            message = _message(e, path)
            if not label and len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
                label = _rule_label(self.yaml, path[1])
            self.add(path, f"{label}: {message}" if label else message)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (part.startswith("function-") or "[" in part)


def _rule_label(doc: YamlDocument | None, index: int) -> str:
    try:
        value = doc.data["rules"][index]["id"] if doc is not None else None
    except (KeyError, IndexError, TypeError):
        return ""
    return value if isinstance(value, str) else ""


def _message(error: Mapping[str, Any], path: Path_) -> str:
    kind = error["type"]
    name = path[-1] if path else ""
    in_params = "params" in path
    if kind == "missing":
        if name == "citation":
            return "no citation"
        return f"missing parameter {name!r}" if in_params else f"missing field {name!r}"
    if kind == "extra_forbidden":
        return f"unknown parameter {name!r}" if in_params else f"unknown field {name!r}"
    if kind == "greater_than_equal":
        return f"{name!r} must be at least {error['ctx']['ge']}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if name == "threshold" and message.startswith("must be at most"):
        return "threshold above 100%"
    if message.startswith("must be"):
        return f"{name!r} {message}"
    return message


# ----------------------------------------------------------------------------- values


def _refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _refs(v)
    elif isinstance(value, list | tuple | frozenset | set):
        for v in value:
            yield from _refs(v)


def _when_refs(when: When | None) -> Iterator[tuple[str, Ref]]:
    if when is None:
        return
    for name in ("previous_within", "opposite_side_of_previous", "prior_in_window"):
        for ref in _refs(getattr(when, name)):
            yield name, ref


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


def facts_read(rule: Rule) -> set[str]:
    """The clinical facts a rule reads: its fact tests, and the parameters named ``fact``,
    ``*_fact`` or ``lifted_by`` (the convention every kind follows)."""
    found: set[str] = set()
    for name, value in rule.params.items():
        if (name == "fact" or name.endswith("_fact") or name == "lifted_by") and isinstance(
            value, str
        ):
            found.add(value)
        if isinstance(value, tuple):
            found.update(v.fact for v in value if hasattr(v, "fact"))
    return found


# ----------------------------------------------------------------------------- guideline


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


def _params(doc: _Doc, index: int, rule: RuleDoc) -> Mapping[str, Any] | None:
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


def _check_codes(doc: _Doc, path: Path_, codes: Iterable[str] | None, label: str = "") -> None:
    for n, code in enumerate(codes or ()):
        if code not in CATALOG:
            doc.add((*path, n), f"{label}{code!r} is not a code of the catalog")


def _check_versions(doc: _Doc, g: GuidelineDocument) -> None:
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


def _check_refs(
    doc: _Doc, index: int, rule: Rule, rule_doc: RuleDoc, versions: Sequence[VersionDoc]
) -> None:
    located: list[tuple[Path_, Ref]] = [
        (("params", name), ref) for name, value in rule.params.items() for ref in _refs(value)
    ]
    located += [(("when", name), ref) for name, ref in _when_refs(rule.when)]
    located += [(("unless", name), ref) for name, ref in _when_refs(rule.unless)]
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


def _check_criteria(doc: _Doc, g: GuidelineDocument, rules: Sequence[Rule | None]) -> None:
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


def _valid(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _partial_checks(doc: _Doc, data: Any) -> None:
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
            _check_refs(doc, n, _rule(rule_doc, params, ""), rule_doc, versions)


def load_guideline(path: Path, name: str) -> tuple[Guideline | None, list[Problem]]:
    """One guideline document; ``name`` is how problems name the file."""
    try:
        yaml_doc = read_yaml(path)
    except YamlError as exc:
        return None, [Problem(name, exc.line, "", exc.message)]
    except OSError as exc:
        return None, [Problem(name, None, "", f"cannot be read: {exc.strerror or exc}")]
    doc = _Doc(name, yaml_doc)
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
    _check_codes(doc, ("governs", "codes"), g.governs.codes)
    _check_versions(doc, g)
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
                _check_codes(doc, ("rules", n, part, "cpt_in"), w.cpt_in, f"{rule_doc.id}: ")
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
        _check_refs(doc, n, rule, rule_doc, g.versions)
        rules.append(rule)
    ids = {r.id for r in g.rules}
    for n, rule_doc in enumerate(g.rules):
        if rule_doc.reported_as is not None and rule_doc.reported_as not in ids:
            doc.rule_add(
                n, rule_doc.id, ("reported_as",), f"no rule {rule_doc.reported_as!r} to report as"
            )
    _check_criteria(doc, g, rules)
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


# ----------------------------------------------------------------------------- sets


@dataclass(slots=True)
class _SetDraft:
    doc: SetDocument
    folder: Path
    name: str  # how problems name set.yaml
    yaml: YamlDocument
    guidelines: list[Guideline] = field(default_factory=list)


def _read_set(folder: Path, root: Path) -> tuple[_SetDraft | None, list[Problem]]:
    name = f"{folder.relative_to(root).as_posix()}/{SET_FILE}"
    try:
        yaml_doc = read_yaml(folder / SET_FILE)
    except YamlError as exc:
        return None, [Problem(name, exc.line, "", exc.message)]
    doc = _Doc(name, yaml_doc)
    try:
        s = SetDocument.model_validate(yaml_doc.data)
    except ValidationError as exc:
        doc.validation(exc)
        return None, doc.problems
    if s.id != folder.name:
        doc.add(("id",), f"set id {s.id!r} differs from its folder name {folder.name!r}")
    if not s.guidelines and s.extends is None:
        doc.add(("guidelines",), "no guidelines (and extends no set)")
    draft = _SetDraft(s, folder, name, yaml_doc)
    for n, file in enumerate(s.guidelines):
        path = folder / file
        if not path.is_file():
            doc.add(("guidelines", n), f"no guideline document {file!r} in {folder}")
            continue
        g, problems = load_guideline(path, f"{folder.relative_to(root).as_posix()}/{file}")
        doc.problems.extend(problems)
        if g is not None:
            draft.guidelines.append(g)
    return (None if doc.problems else draft), doc.problems


def set_folders(root: Path) -> list[Path]:
    """The set folders of a library folder: its sub-folders holding a set.yaml."""
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / SET_FILE).is_file())


@dataclass(frozen=True, slots=True)
class Library:
    """Every policy set loaded, by name, in load order."""

    sets: Mapping[str, PolicySet]
    folders: tuple[Path, ...]


def _assemble(drafts: Mapping[str, _SetDraft], problems: list[Problem]) -> dict[str, PolicySet]:
    built: dict[str, PolicySet] = {}

    def build(name: str, chain: tuple[str, ...]) -> PolicySet | None:
        if name in built:
            return built[name]
        draft = drafts[name]
        base: tuple[Guideline, ...] = ()
        extends = draft.doc.extends
        if extends is not None:
            doc = _Doc(draft.name, draft.yaml)
            if extends in chain or extends == name:
                doc.add(
                    ("extends",), f"extends forms a cycle: {' -> '.join((*chain, name, extends))}"
                )
            elif extends not in drafts:
                doc.add(("extends",), f"extends unknown set {extends!r}")
            else:
                parent = build(extends, (*chain, name))
                base = parent.guidelines if parent is not None else ()
            if doc.problems:
                problems.extend(doc.problems)
                return None
        guidelines = (*base, *draft.guidelines)
        seen: set[str] = set()
        for g in guidelines:
            if g.id in seen:
                problems.append(
                    Problem(draft.name, None, "guidelines", f"guideline {g.id} appears twice")
                )
                return None
            seen.add(g.id)
        window = draft.doc.authorization_window
        built[name] = PolicySet(
            name=name,
            title=draft.doc.title,
            guidelines=guidelines,
            extends=extends,
            authorization_window=AuthorizationWindow(window.before, window.after),
        )
        return built[name]

    for name in drafts:
        build(name, ())
    return {name: built[name] for name in drafts if name in built}


def load_library(folders: Sequence[Path] = (LIBRARY,)) -> Library:
    """Every set of every folder (the shipped library first, then a payer's own); raises
    :class:`PolicyLoadError` listing every problem when any document is wrong."""
    problems: list[Problem] = []
    drafts: dict[str, _SetDraft] = {}
    for root in folders:
        if not root.is_dir():
            problems.append(Problem(str(root), None, "", "is not a folder"))
            continue
        single = (root / SET_FILE).is_file()  # a set folder itself
        for folder in [root] if single else set_folders(root):
            draft, found = _read_set(folder, root.parent if single else root)
            problems.extend(found)
            if draft is None:
                continue
            if draft.doc.id in drafts:
                problems.append(
                    Problem(
                        draft.name,
                        draft.yaml.line_of(("id",)),
                        "id",
                        f"set {draft.doc.id!r} is already defined in {drafts[draft.doc.id].folder}",
                    )
                )
                continue
            drafts[draft.doc.id] = draft
    sets = _assemble(drafts, problems)
    if problems:
        raise PolicyLoadError(problems)
    return Library(sets, tuple(folders))
