"""The policy documents: the published JSON Schema every shipped document validates against,
and the loader's checks, each problem named by file, line and path."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from api.cli import main
from policies.loader import LIBRARY, PolicyLoadError, load_library
from policies.registry import folders_with
from policies.schema import document_schema, kinds_markdown, shipped_schema
from policies.yamlfile import read_yaml
from projections.calendar import days
from tests.policy_docs import write_set

SHIPPED = sorted(LIBRARY.glob("*/*.yaml"))


def test_the_shipped_schema_is_the_one_the_models_generate() -> None:
    assert shipped_schema() == json.loads(json.dumps(document_schema()))


def test_injtrack_policies_schema_prints_a_draft_2020_12_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed == shipped_schema()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_document_validates_against_the_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(shipped_schema())
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(read_yaml(path).data)
    ]
    assert errors == []


def test_the_schema_refuses_what_the_loader_refuses() -> None:
    validator = jsonschema.Draft202012Validator(shipped_schema())
    doc = read_yaml(LIBRARY / "nia" / "NIA_CG_300.yaml").data
    [rule] = [r for r in doc["rules"] if r["id"] == "nia.esi.initial_interval"]
    rule["params"]["span"] = "14 days"
    assert not validator.is_valid(doc)
    rule["params"] = {"span": "P14D", "spam": 1}
    assert not validator.is_valid(doc)
    rule["params"] = {"span": "P14D"}
    assert validator.is_valid(doc)


def test_the_shipped_library_loads_every_set_with_its_window() -> None:
    library = load_library()
    assert list(library.sets) == ["bcbs-ma", "cohere", "cohere-ma", "nia", "nia-wa"]
    nia, nia_wa = library.sets["nia"], library.sets["nia-wa"]
    assert nia_wa.extends == "nia"
    assert nia_wa.guidelines[: len(nia.guidelines)] == nia.guidelines
    assert [g.id for g in nia_wa.guidelines[len(nia.guidelines) :]] == ["WA_HCA"]
    assert nia.authorization_window.before == days(7)
    assert nia.authorization_window.after == days(60)


SET = """
    id: tiny
    title: Tiny
    guidelines: [TINY.yaml]
    authorization_window: {before: P3D, after: P2M}
"""
TINY = """
    id: TINY
    title: Tiny guideline
    source: {file: tiny.txt, publisher: Tiny, document_version: "1", section_naming: Tiny}
    governs: {families: [esi]}
    versions:
      - {id: "1", parameters: {gap: P30D}}
      - {id: "2", effective: 2025-01-01, parameters: {gap: P45D}}
    rules:
      - id: tiny.esi.interval
        kind: min_interval
        description: Apart.
        params: {span: {ref: gap}}
        time_rule: true
        citation: {quote: Apart., section: Tiny}
      - id: tiny.esi.facts
        kind: facts
        description: Facts.
        params:
          tests: [{fact: pain_score, op: ">=", value: 6, label: pain}]
        citation: {quote: Pain., section: Tiny}
    {criteria}
"""


def _load(tmp_path: Path, guideline: str, set_doc: str = SET) -> list[str]:
    write_set(tmp_path, "tiny", {"set.yaml": set_doc, "TINY.yaml": guideline})
    try:
        load_library(folders_with([tmp_path]))
    except PolicyLoadError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_a_sound_document_loads_with_its_authorization_window(tmp_path: Path) -> None:
    assert _load(tmp_path, TINY.replace("{criteria}", "")) == []
    tiny = load_library(folders_with([tmp_path])).sets["tiny"]
    assert str(tiny.authorization_window.after) == "2 months"


def test_effective_dates_must_strictly_increase(tmp_path: Path) -> None:
    doc = TINY.replace("{criteria}", "").replace("effective: 2025-01-01", "effective: null")
    problems = _load(tmp_path, doc)
    assert problems == [
        "tiny/TINY.yaml:7 versions[1].effective: effective dates must strictly increase "
        "(only the first version may have none)"
    ]


def test_rule_ids_are_unique_in_a_document(tmp_path: Path) -> None:
    doc = TINY.replace("{criteria}", "").replace("id: tiny.esi.facts", "id: tiny.esi.interval")
    assert _load(tmp_path, doc) == [
        "tiny/TINY.yaml:15 rules[1].id: tiny.esi.interval: duplicate rule id (also rules[0])"
    ]


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    problems = _load(tmp_path, TINY.replace("{criteria}", "").replace("governs: {", "governs: [{"))
    assert len(problems) == 1 and problems[0].startswith("tiny/TINY.yaml:5: not valid YAML")


def test_an_unknown_field_is_refused_where_it_stands(tmp_path: Path) -> None:
    doc = TINY.replace("{criteria}", "").replace("time_rule: true", "time_rul: true")
    assert _load(tmp_path, doc) == [
        "tiny/TINY.yaml:13 rules[0].time_rul: tiny.esi.interval: unknown field 'time_rul'"
    ]


def test_extends_must_name_a_set(tmp_path: Path) -> None:
    problems = _load(
        tmp_path, TINY.replace("{criteria}", ""), SET.rstrip() + "\n    extends: nowhere\n"
    )
    assert problems == ["tiny/set.yaml:5 extends: extends unknown set 'nowhere'"]


CRITERIA = """criteria:
      - {id: c1, quote: Apart., section: Tiny, status: checked, rules: [tiny.esi.interval]}
      - {id: c2, quote: Pain., section: Tiny, status: attested, rules: [tiny.esi.facts],
         facts: [pain_score]}
      - {id: c3, quote: Imaging., section: Tiny, status: not_checkable, reason: not in the request}
"""


def test_criteria_name_real_rules_facts_and_reasons(tmp_path: Path) -> None:
    assert _load(tmp_path, TINY.replace("{criteria}", CRITERIA)) == []
    broken = (
        CRITERIA.replace("rules: [tiny.esi.interval]", "rules: [tiny.esi.nothing]")
        .replace("facts: [pain_score]", "facts: [opioid_naive]")
        .replace(", reason: not in the request", "")
    )
    assert _load(tmp_path, TINY.replace("{criteria}", broken)) == [
        "tiny/TINY.yaml:22 criteria[0].rules[0]: c1: no rule 'tiny.esi.nothing' in this document",
        "tiny/TINY.yaml:24 criteria[1].facts[0]: c2: no rule named reads fact 'opioid_naive'",
        "tiny/TINY.yaml:25 criteria[2].reason: c3: a not_checkable criterion says why",
    ]


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_rule_kind_with_its_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "schema", "--kinds"]) == 0
    table = capsys.readouterr().out
    assert table == kinds_markdown()
    assert table in README.read_text(encoding="utf-8"), "README kinds table is out of date"


def test_the_readme_example_guideline_loads_and_validates(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- README-EXAMPLE-START -->")[1].split("<!-- README-EXAMPLE-END -->")[0]
    example = block.split("```yaml\n", 1)[1].rsplit("```", 1)[0]
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "set.yaml").write_text("id: acme\ntitle: Acme\nguidelines: [ACME_SPINE_7.yaml]\n")
    (folder / "ACME_SPINE_7.yaml").write_text(example)
    validator = jsonschema.Draft202012Validator(shipped_schema())
    assert list(validator.iter_errors(read_yaml(folder / "ACME_SPINE_7.yaml").data)) == []
    acme = load_library(folders_with([tmp_path])).sets["acme"]
    [guideline] = acme.guidelines
    assert [r.id for r in guideline.rules] == [
        "acme.esi.interval",
        "acme.esi.cap",
        "acme.esi.response",
        "acme.esi.conservative_care",
    ]
    assert [c.status for c in guideline.criteria] == ["checked", "attested", "not_checkable"]
