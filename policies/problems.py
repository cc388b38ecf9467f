"""Problems found in policy documents, each located by file, line and path, and how
validation errors read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from policies.yamlfile import Path_, YamlDocument


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


class DocProblems:
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
