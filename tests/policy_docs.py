"""Policy documents written by tests: a set folder of YAML files in a temporary folder, served
beside the shipped library for the length of a ``with`` block."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policies import registry
from policies.loader import Library


def write_set(root: Path, set_id: str, documents: dict[str, str]) -> Path:
    """Write ``documents`` (file name -> YAML text, dedented) into ``root/set_id/``."""
    folder = root / set_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


@contextmanager
def serving(*folders: Path) -> Iterator[Library]:
    """Serve the shipped library plus ``folders``; the library alone again afterwards."""
    library = registry.load(list(folders))
    try:
        yield library
    finally:
        registry.load()
