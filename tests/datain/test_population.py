"""The synthetic population: deterministic, contract-valid, realistic, and honest about what
it planted."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from datetime import date, timedelta
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from api.cli import main
from api.schemas.eligibility import AuthorizationIn
from api.schemas.events import EventIn
from application.population import (
    AUTHORIZATION_REQUEST,
    COVER_AFTER,
    COVER_BEFORE,
    PopulationConfig,
    Truth,
    clinical_date_of,
    generate,
)
from domain.catalog import Family, Region

EVENT = TypeAdapter(EventIn)


@cache
def population(patients: int = 400, seed: int = 7) -> tuple[list[dict[str, Any]], Truth]:
    truth = Truth()
    lines = [json.loads(text) for text in generate(PopulationConfig(patients, seed), truth)]
    return lines, truth


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    first = list(generate(PopulationConfig(60, seed=5)))
    assert first == list(generate(PopulationConfig(60, seed=5)))
    assert first != list(generate(PopulationConfig(60, seed=6)))


def test_a_smaller_population_is_a_prefix_of_a_larger_one() -> None:
    small = list(generate(PopulationConfig(20, seed=5)))
    large = list(generate(PopulationConfig(30, seed=5)))
    assert large[: len(small)] == small
    assert len(large) > len(small)


def test_every_line_is_valid_under_the_api_contract() -> None:
    lines, _ = population()
    for line in lines:
        if line["type"] == AUTHORIZATION_REQUEST:
            body = {k: v for k, v in line.items() if k != "type"}
            AuthorizationIn.model_validate(body)
        else:
            EVENT.validate_python(line)
        assert line["patient_id"]


def test_every_family_and_region_of_the_catalog_appears() -> None:
    lines, truth = population()
    procedures = [line for line in lines if line["type"] == "procedure_performed"]
    regions = Counter(line["region"] for line in procedures)
    assert set(regions) == {r.value for r in Region}
    families = {item["family"] for item in truth.unauthorized + truth.over_limit} | {
        _family(line) for line in procedures
    }
    assert families == {f.value for f in Family}


def _family(line: dict[str, Any]) -> str:
    from domain.catalog import classify

    return classify(
        [c["cpt"] for c in line["codes"]], Region(line["region"]), line.get("indication")
    ).family.value


def test_histories_have_phases_outcomes_episodes_devices_voids_and_duplicates() -> None:
    lines, truth = population()
    kinds = Counter(line["type"] for line in lines)
    assert kinds["surgery_performed"] and kinds["pathology_diagnosed"] and kinds["event_voided"]
    assert truth.counts["duplicate_lines"] > 0
    intents = Counter(line.get("intent") for line in lines if line["type"] == "procedure_performed")
    assert {"diagnostic", "therapeutic", "trial", "implant"} <= set(intents)
    relief = [line["pain_relief_percent"] for line in lines if line["type"] == "outcome_reported"]
    assert any(r < 50 for r in relief) and any(r >= 50 for r in relief)
    # Most procedures have an outcome, not all.
    with_outcome = {
        line["procedure_event_id"] for line in lines if line["type"] == "outcome_reported"
    }
    performed = {line["event_id"] for line in lines if line["type"] == "procedure_performed"}
    assert 0.5 < len(with_outcome & performed) / len(performed) < 0.95
    assert all(line.get("provider_id") for line in lines if line["type"] == "procedure_performed")


def test_dates_spread_over_several_years_and_none_after_the_end() -> None:
    lines, _ = population()
    days = [
        date.fromisoformat(line["date_of_service"])
        for line in lines
        if line["type"] == "procedure_performed"
    ]
    assert max(days) <= date(2025, 12, 31)
    assert max(days) - min(days) > timedelta(days=4 * 365)
    assert len({d.year for d in days}) >= 5


def test_patient_sizes_follow_a_long_tail() -> None:
    lines, _ = population()
    sizes = sorted(Counter(line["patient_id"] for line in lines).values())
    median = statistics.median(sizes)
    assert sizes[-1] >= 4 * median
    assert sizes[0] <= median / 2


def test_the_truth_lists_exactly_the_procedures_no_approved_authorization_covers() -> None:
    lines, truth = population()
    voided = {line["voided_event_id"] for line in lines if line["type"] == "event_voided"}
    approved: dict[tuple[str, str, str], list[date]] = {}
    for line in lines:
        if (
            line["type"] == AUTHORIZATION_REQUEST
            and truth.authorizations[line["authorization_id"]] == "eligible"
        ):
            proc = line["procedure"]
            key = (line["patient_id"], proc["region"], _family(proc))
            approved.setdefault(key, []).append(date.fromisoformat(proc["date_of_service"]))
    expected = set()
    for line in lines:
        if line["type"] != "procedure_performed" or line["event_id"] in voided:
            continue
        day = date.fromisoformat(line["date_of_service"])
        dates = approved.get((line["patient_id"], line["region"], _family(line)), [])
        if not any(d - COVER_BEFORE <= day <= d + COVER_AFTER for d in dates):
            expected.add(line["event_id"])
    assert {item["event_id"] for item in truth.unauthorized} == expected
    assert len(expected) > 0
    causes = Counter(item["cause"] for item in truth.unauthorized)
    assert causes["no_request"] > 0


def test_over_limit_procedures_were_done_although_the_rules_denied_them() -> None:
    _, truth = population()
    assert truth.over_limit
    assert all(item["rules"] for item in truth.over_limit)
    decisions = Counter(truth.authorizations.values())
    assert decisions["eligible"] > decisions["not_eligible"] > 0


def test_the_cli_writes_the_file_and_the_truth(tmp_path: Any) -> None:
    out, truth = tmp_path / "pop.jsonl", tmp_path / "truth.json"
    code = main(
        [
            "demo",
            "generate",
            "--patients",
            "25",
            "--seed",
            "2",
            "--out",
            str(out),
            "--truth",
            str(truth),
        ]
    )
    assert code == 0
    assert out.read_text().splitlines() == list(generate(PopulationConfig(25, seed=2)))
    planted = json.loads(truth.read_text())
    assert set(planted) >= {"unauthorized", "over_limit", "authorizations", "counts"}
    assert planted["counts"]["patients"] == 25


def test_a_claims_feed_order_sorts_lines_by_date_across_patients() -> None:
    lines = [json.loads(t) for t in generate(PopulationConfig(40, seed=3, order="date"))]
    dated = [clinical_date_of(line) for line in lines if line["type"] != "event_voided"]
    assert dated == sorted(dated)
    assert sorted(map(json.dumps, lines)) == sorted(
        map(json.dumps, (json.loads(t) for t in generate(PopulationConfig(40, seed=3))))
    )


def test_injtrack_demo_generates_imports_catches_up_and_answers_three_questions(
    tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--patients", "12", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert " 0 rejected" in out
    for question in ("Q1. Can P", "Q2. What do we know of P", "Q3. Which procedures"):
        assert question in out
    assert "eligible" in out.split("Q1.")[1].split("Q2.")[0]
    assert (tmp_path / "injtrack-demo.sqlite").exists()
    assert (tmp_path / "injtrack-demo.sqlite.view").exists()
    # A second run starts from a fresh store: the same counts, nothing a duplicate of run 1.
    assert main(["demo", "--patients", "12", "--quiet"]) == 0
    counts = re.compile(r"\d+ lines: \d+ recorded, \d+ duplicate, \d+ rejected")
    assert counts.findall(capsys.readouterr().out) == counts.findall(out)
