"""``injtrack policies check [--seeds DIR]``: every definition sound, every citation in its
named source file; a broken definition is a non-zero exit with the list of problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from policies.engine import Citation
from policies.loader import load_library
from policies.registry import folders_with
from policies.sources import Sources, check_sources
from tests.policy_docs import write_set

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def test_the_shipped_definitions_pass_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "check"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "5 policy sets" in out


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the source guidelines are not at {SEEDS}")
def test_every_shipped_citation_is_found_in_its_source_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "check", "--seeds", str(SEEDS)]) == 0, capsys.readouterr().err


def test_a_missing_source_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policies", "check", "--seeds", str(tmp_path / "nowhere")]) != 0
    assert "nowhere" in capsys.readouterr().err


def test_source_files_absent_from_the_folder_are_listed_once_each(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "check", "--seeds", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("002_fc2de44da7ae47dd.txt is not in") == 1
    assert "001_d49e9b8430e4a577.txt is not in" in err


BROKEN_SET = """
    id: broken
    title: Broken
    guidelines: [BROKEN_1.yaml]
"""
BROKEN_1 = """
    id: BROKEN_1
    title: A broken policy
    source: {file: broken.txt, publisher: Nobody, document_version: "1", section_naming: Intro}
    governs: {families: [esi]}
    versions:
      - id: "1"
    rules:
      - id: broken.unknown_kind
        kind: crystal_ball
        description: Reads the future.
        citation: {quote: We read the future., section: Intro}
      - id: broken.threshold
        kind: previous_relief
        description: Impossible relief.
        params: {threshold: 150}
        citation: {quote: Relief of 150%., section: Intro}
      - id: broken.no_citation
        kind: min_interval
        description: Uncited.
        params: {span: P14D}
        time_rule: true
      - id: broken.cap
        kind: rolling_cap
        description: Zero allowed.
        params: {length: P12M, limit: 0}
        time_rule: true
        citation: {quote: Nothing is allowed at all., section: Intro}
      - id: broken.ref
        kind: min_interval
        description: A version parameter nobody defines.
        params: {span: {ref: gap}}
        time_rule: true
        citation: {quote: Wait a while., section: Intro}
      - id: broken.not_time
        kind: facts
        description: Facts cannot wait.
        params: {tests: []}
        time_rule: true
        citation: {quote: We read the future., section: Intro}
"""


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "payer"
    write_set(root, "broken", {"set.yaml": BROKEN_SET, "BROKEN_1.yaml": BROKEN_1})
    return root


def test_a_broken_definition_fails_the_check_with_every_problem_listed(
    broken: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    for expected in (
        "unknown rule kind 'crystal_ball'",
        "threshold above 100%",
        "broken.no_citation: no citation",
        "'limit' must be at least 1",
        "lacks parameter 'gap'",
        "kind facts cannot be a time rule",
    ):
        assert expected in err, (expected, err)
    # Each problem names the file, the line and the path inside the document.
    assert "broken/BROKEN_1.yaml:9 rules[0].kind: broken.unknown_kind:" in err, err
    assert "broken/BROKEN_1.yaml:15 rules[1].params.threshold:" in err, err
    assert "broken/BROKEN_1.yaml:31 rules[4].params.span: broken.ref:" in err, err


QUOTED_SET = """
    id: quoted
    title: Quoted
    guidelines: [QUOTED_1.yaml]
"""
QUOTED_1 = """
    id: QUOTED_1
    title: Quotes checked against their source
    source: {file: broken.txt, publisher: Nobody, document_version: "1", section_naming: Intro}
    governs: {families: [esi]}
    versions: [{id: "1"}]
    rules:
      - id: broken.unknown_kind
        kind: not_covered
        description: Reads the future.
        params: {message: not covered}
        citation: {quote: We read the future., section: Intro}
      - id: broken.threshold
        kind: not_covered
        description: Impossible relief.
        params: {message: not covered}
        citation: {quote: Relief of 150%., section: Intro}
      - id: broken.cap
        kind: not_covered
        description: Zero allowed.
        params: {message: not covered}
        citation: {quote: Nothing is allowed at all., section: Intro}
"""


def test_a_quote_not_in_its_source_file_fails_the_seed_check(tmp_path: Path) -> None:
    root = tmp_path / "payer"
    write_set(root, "quoted", {"set.yaml": QUOTED_SET, "QUOTED_1.yaml": QUOTED_1})
    (tmp_path / "broken.txt").write_text("We read\n   the future.\nNothing else.\n")
    library = load_library(folders_with([root]))
    problems = check_sources([library.sets["quoted"]], tmp_path)
    assert not any("broken.unknown_kind" in p for p in problems), problems
    assert any("broken.threshold: quote not found in broken.txt" in p for p in problems)
    assert any("broken.cap: quote not found" in p for p in problems)


def test_the_seed_check_reads_each_source_file_once(tmp_path: Path) -> None:
    (tmp_path / "broken.txt").write_text("We read the future.\n")
    sources = Sources(tmp_path)
    for quote in ("We read the future.", "We read", "the future.", "absent"):
        sources.has(Citation(quote, "broken.txt", "Intro"))
    assert sources.reads == 1
