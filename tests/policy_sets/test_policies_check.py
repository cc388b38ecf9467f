"""``injtrack policies check [--seeds DIR]``: every definition sound, every citation in its
named source file; a broken definition is a non-zero exit with the list of problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import main
from policies import registry
from policies.citations import Citation
from policies.engine import Guideline, GuidelineVersion, PolicySet, Ref, Rule
from projections.calendar import days, months

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


BROKEN = Guideline(
    id="BROKEN_1",
    title="A broken policy",
    source="broken.txt",
    families=frozenset({"esi"}),
    versions=(GuidelineVersion("1", None, {}),),
    rules=(
        Rule(
            "broken.unknown_kind",
            "crystal_ball",
            "Reads the future.",
            {},
            citation_override=Citation("We read the future.", "broken.txt", "Intro"),
        ),
        Rule(
            "broken.threshold",
            "previous_relief",
            "Impossible relief.",
            {"threshold": 150},
            citation_override=Citation("Relief of 150%.", "broken.txt", "Intro"),
        ),
        Rule("broken.no_citation", "min_interval", "Uncited.", {"span": days(14)}, time_rule=True),
        Rule(
            "broken.cap",
            "rolling_cap",
            "Zero allowed.",
            {"length": months(12), "limit": 0},
            time_rule=True,
            citation_override=Citation("Nothing is allowed at all.", "broken.txt", "Intro"),
        ),
        Rule(
            "broken.ref",
            "min_interval",
            "A version parameter nobody defines.",
            {"span": Ref("gap")},
            time_rule=True,
            citation_override=Citation("Wait a while.", "broken.txt", "Intro"),
        ),
        Rule(
            "broken.not_time",
            "facts",
            "Facts cannot wait.",
            {"tests": ()},
            time_rule=True,
            citation_override=Citation("We read the future.", "broken.txt", "Intro"),
        ),
    ),
)


@pytest.fixture
def broken() -> Iterator[PolicySet]:
    policy_set = registry.register(PolicySet("broken", "Broken", (BROKEN,)))
    try:
        yield policy_set
    finally:
        registry.SETS.pop("broken", None)


def test_a_broken_definition_fails_the_check_with_every_problem_listed(
    broken: PolicySet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "check"]) == 1
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
    assert "(in broken)" in err


def test_a_quote_not_in_its_source_file_fails_the_seed_check(
    broken: PolicySet,
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.txt").write_text("We read\n   the future.\nNothing else.\n")
    problems = registry.check_sources(broken, tmp_path)
    assert not any("broken.unknown_kind" in p for p in problems), problems
    assert any("broken.threshold: quote not found in broken.txt" in p for p in problems)
    assert any("broken.cap: quote not found" in p for p in problems)
