"""The seed check: every quote of the loaded documents occurs in its named source file.

The source files live outside the project (``../shared/seeds/``, named by its ``INDEX.md``)
and are never shipped: the quotes are all the project keeps of them. The check forgives only
what text extraction varies: runs of whitespace (line breaks inside a quote that spans list
items, tabs in title lines) and typographic quotes and dashes. Everything else is literal,
including the documents' emphasis markers (``**``) and footnote marks. Each source file is
read and normalised once, however many quotes it holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from policies.engine import Citation, Guideline, PolicySet

_TYPOGRAPHIC = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",  # prime
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',  # double prime
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
    }
)
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """``text`` with typographic quotes and dashes made ASCII and every whitespace run one
    space, stripped. Nothing else changes: case, punctuation and markup stay as they are."""
    return _WHITESPACE.sub(" ", text.translate(_TYPOGRAPHIC)).strip()


@dataclass(frozen=True, slots=True)
class Quoted:
    """One quote of a guideline and what it stands for (``rule <id>``, ``title``, ...)."""

    guideline: str
    what: str
    citation: Citation


def quotes(guideline: Guideline) -> Iterator[Quoted]:
    """Every quote a guideline holds: its title line, its versions' history sentences, its
    rules' citations and supporting sentences, and its criteria."""
    g = guideline
    if g.title_citation is not None:
        yield Quoted(g.id, "title", g.title_citation)
    for v in g.versions:
        for c in v.citations:
            yield Quoted(g.id, f"version {v.id}", c)
    for rule in g.rules:
        name = rule.key or rule.id
        if rule.citation is not None:
            yield Quoted(g.id, name, rule.citation)
        for c in rule.supporting:
            yield Quoted(g.id, f"{name} (supporting)", c)
    for criterion in g.criteria:
        yield Quoted(
            g.id,
            f"criterion {criterion.id}",
            Citation(criterion.quote, g.source, criterion.section),
        )


class Sources:
    """The seeds folder, each file read and normalised at most once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._texts: dict[str, str | None] = {}
        self.reads = 0

    def text(self, name: str) -> str | None:
        if name not in self._texts:
            path = self.folder / name
            if path.is_file():
                self.reads += 1
                self._texts[name] = normalise(path.read_text(encoding="utf-8"))
            else:
                self._texts[name] = None
        return self._texts[name]

    def has(self, citation: Citation) -> bool:
        text = self.text(citation.source)
        quote = normalise(citation.quote)
        return text is not None and bool(quote) and quote in text


def find_in_source(citation: Citation, seeds_dir: Path) -> bool:
    """Whether ``citation.quote`` occurs in ``seeds_dir / citation.source``, ignoring only
    whitespace differences and typographic quotes and dashes (see :func:`normalise`).

    False when the file is missing or the quote is empty.
    """
    return Sources(Path(seeds_dir)).has(citation)


def check_sources(sets: Iterable[PolicySet], seeds_dir: Path) -> list[str]:
    """Every quote of the sets' guidelines not found in its named source file; a source file
    absent from ``seeds_dir`` is reported once."""
    sources = Sources(seeds_dir)
    problems: list[str] = []
    absent: set[str] = set()
    seen: set[int] = set()
    for policy_set in sets:
        for guideline in policy_set.guidelines:
            if id(guideline) in seen:
                continue
            seen.add(id(guideline))
            for q in quotes(guideline):
                c = q.citation
                if sources.text(c.source) is None:
                    if c.source not in absent:
                        absent.add(c.source)
                        problems.append(
                            f"source file {c.source} is not in {seeds_dir}: its "
                            "citations cannot be checked"
                        )
                elif not sources.has(c):
                    problems.append(
                        f"{q.guideline} {q.what}: quote not found in {c.source}: {c.quote[:80]!r}"
                    )
    return problems
