"""The traceability matrix: every shipped guideline lists its criterion sentences, every rule
implements one of them, and ``injtrack policies trace`` renders the matrix from the documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from policies import registry
from policies.trace import STATUSES, matrix, summary
from tests.policies.test_documents import TINY, _load


def test_every_shipped_guideline_lists_its_criteria_and_every_rule_is_traced() -> None:
    counts = summary(registry.all_sets())
    assert {c.guideline for c in counts} == {
        g.id for s in registry.all_sets() for g in s.guidelines
    }
    for count in counts:
        assert count.total > 0, count.guideline
        assert count.rules_not_traced == (), (count.guideline, count.rules_not_traced)


def test_every_criterion_has_a_status_and_says_how_it_is_treated() -> None:
    for row in matrix(registry.all_sets()):
        assert row.status in STATUSES, row
        if row.status == "checked":
            assert row.rules, row
        elif row.status == "attested":
            assert row.rules and row.facts, row
        else:
            assert row.reason, row


def test_a_criterion_without_a_status_is_refused(tmp_path: Path) -> None:
    criteria = """criteria:
      - {id: c1, quote: Apart., section: Tiny, rules: [tiny.esi.interval]}
"""
    problems = _load(tmp_path, TINY.replace("{criteria}", criteria))
    assert len(problems) == 1 and "criteria[0].status" in problems[0], problems


def test_trace_prints_the_summary_table_in_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "trace", "--set", "cohere"]) == 0
    out = capsys.readouterr().out
    assert "| cohere | COHERE_NECK_PAIN |" in out
    assert "One interlaminar injection is recommended at a time." in out
    assert "NIA_CG_300" not in out


def test_trace_as_json_lists_each_criterion_with_its_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "trace", "--set", "nia", "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    rows = {r["criterion"]: r for r in body["criteria"]}
    assert rows["facet.exclusion.atlantoaxial"]["rules"] == ["nia.facet.exclusion_atlantoaxial"]
    assert rows["facet.exclusion.hardware"]["status"] == "not_checkable"
    assert {s["guideline"] for s in body["summary"]} >= {"NIA_CG_300", "NIA_CG_310"}


def test_trace_as_html_is_one_self_contained_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "trace", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "WA_HCA" in page and "not_checkable" in page


def test_trace_of_an_unknown_set_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "trace", "--set", "nowhere"]) == 2
    assert "nowhere" in capsys.readouterr().err
