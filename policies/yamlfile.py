"""Reading a policy document: YAML into plain JSON-like data, with the line of every value.

Dates stay strings (the models parse them), so what the loader validates is exactly what a
JSON Schema validator sees. ``lines`` maps a path inside the document (``("rules", 5,
"params", "span")``) to the 1-based line its value starts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader without the timestamp resolver: dates load as ISO strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest enclosing value that has one."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            lines[(*path, name)] = key.start_mark.line + 1
            _walk(value, (*path, name), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; raises :class:`YamlError` (with its line) when it is not
    valid YAML."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, {})
        lines: dict[Path_, int] = {}
        _walk(node, (), lines)
        return YamlDocument(loader.construct_document(node), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(line, f"not valid YAML: {exc.problem or exc}") from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> YamlDocument:
    return parse_yaml(path.read_text(encoding="utf-8"))
