"""The JSON Schema (draft 2020-12) of the policy documents, generated from the pydantic models
that load them (:mod:`policies.document`) and from each rule kind's parameter model.

One schema covers both documents: a ``set.yaml`` matches ``SetDocument``, a guideline
document ``GuidelineDocument``. A rule's ``params`` are tied to its ``kind`` by one
``if``/``then`` branch per kind. The package ships the generated text
(``policies/policy-documents.schema.json``); a test keeps it equal to what the models generate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policies.document import GuidelineDocument, SetDocument
from policies.engine import KINDS

SCHEMA_FILE = Path(__file__).with_name("policy-documents.schema.json")
SCHEMA_ID = "https://injection-tracker.example/schemas/policy-documents.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REF = "#/$defs/{model}"


def _merge_defs(defs: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    for name, sub in schema.pop("$defs", {}).items():
        defs[name] = sub
    return schema


def _rule_kinds(defs: dict[str, Any]) -> None:
    """Tie each rule's params to its kind's parameter model."""
    rule = defs["RuleDoc"]
    kinds = sorted(KINDS)
    rule["properties"]["kind"] = {
        "type": "string",
        "enum": kinds,
        "description": rule["properties"]["kind"].get("description", ""),
    }
    branches = []
    for name in kinds:
        spec = KINDS[name]
        model = spec.params
        params = _merge_defs(defs, model.model_json_schema(ref_template=_REF))
        params["description"] = spec.doc.split("\n\n")[0]
        defs[model.__name__] = params
        branches.append(
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": {"properties": {"params": {"$ref": _REF.format(model=model.__name__)}}},
            }
        )
    rule["allOf"] = branches


def document_schema() -> dict[str, Any]:
    """The schema every policy document (set or guideline) validates against."""
    defs: dict[str, Any] = {}
    for model in (SetDocument, GuidelineDocument):
        defs[model.__name__] = _merge_defs(defs, model.model_json_schema(ref_template=_REF))
    _rule_kinds(defs)
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": "Injection tracker policy document",
        "description": "A policy set (set.yaml) or a guideline document of policies/library/",
        "oneOf": [{"$ref": _REF.format(model=m)} for m in ("SetDocument", "GuidelineDocument")],
        "$defs": dict(sorted(defs.items())),
    }


def _one_line(text: str) -> str:
    return " ".join(text.replace("``", "`").split())


def kinds_markdown() -> str:
    """The rule kinds and their parameters as a Markdown table (the README shows it; a test
    keeps the two equal)."""
    from policies.kinds import THEMES

    rows = [
        "| kind | theme | time rule | what it checks; parameters (**required**) |",
        "| --- | --- | --- | --- |",
    ]
    for theme, kinds in THEMES.items():
        for kind in kinds:
            params = "; ".join(
                f"{'**`' + name + '`**' if field.is_required() else '`' + name + '`'}: "
                f"{_one_line(field.description or '')}"
                for name, field in kind.params.model_fields.items()
            )
            doc = _one_line(kind.doc.split("\n\n")[0])
            wait = "can be" if kind.can_wait else "no"
            rows.append(f"| `{kind.name}` | {theme} | {wait} | {doc}<br>{params} |")
    return "\n".join(rows) + "\n"


def schema_text() -> str:
    return json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return result


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
