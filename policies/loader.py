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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from policies.document import (
    SetDocument,
)
from policies.guidelines import load_guideline
from policies.model import (
    AuthorizationWindow,
    Guideline,
    PolicySet,
)
from policies.problems import DocProblems, PolicyLoadError, Problem
from policies.yamlfile import YamlDocument, YamlError, read_yaml

LIBRARY = Path(__file__).with_name("library")


SET_FILE = "set.yaml"


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
    doc = DocProblems(name, yaml_doc)
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
            doc = DocProblems(draft.name, draft.yaml)
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


__all__ = ["LIBRARY", "Library", "PolicyLoadError", "Problem", "load_guideline", "load_library"]
