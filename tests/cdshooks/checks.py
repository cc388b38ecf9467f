"""Checks every CDS answer in the tests must pass: the CDS Hooks response shape, the CRD
coverage-information invariants, and "the whole order with only the extension added"."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from interop.cdshooks.crd import EXTENSION_URL, CrdVersion, invariant_violations
from interop.cdshooks.models import CdsResponse


def coverage_info(resource: dict[str, Any]) -> dict[str, Any]:
    """The coverage-information extension of an updated order, as {sub-url: [values]}."""
    (ext,) = [e for e in resource.get("extension", []) if e["url"] == EXTENSION_URL]
    out: dict[str, list[Any]] = {}
    for part in ext["extension"]:
        value = next((v for k, v in part.items() if k.startswith("value")), part.get("extension"))
        out.setdefault(part["url"], []).append(value)
    return out


def check_answer(
    body: dict[str, Any], orders: list[dict[str, Any]], version: CrdVersion = CrdVersion.STU2
) -> dict[str, dict[str, Any]]:
    """Validate the answer; returns each updated order's coverage information by order id."""
    CdsResponse.model_validate(body)
    assert set(body) <= {"cards", "systemActions"}
    by_id = {o["id"]: o for o in orders}
    found: dict[str, dict[str, Any]] = {}
    for action in body.get("systemActions", []):
        assert action["type"] == "update"
        resource = action["resource"]
        ServiceRequest.model_validate(resource)
        original = by_id[resource["id"]]
        ours = [e for e in resource["extension"] if e["url"] == EXTENSION_URL]
        assert len(ours) == 1
        assert invariant_violations(ours[0], version) == []
        rest = {k: v for k, v in resource.items() if k != "extension"}
        assert rest == {k: v for k, v in original.items() if k != "extension"}
        assert [e for e in resource["extension"] if e["url"] != EXTENSION_URL] == [
            e for e in original.get("extension", []) if e["url"] != EXTENSION_URL
        ]
        found[resource["id"]] = coverage_info(resource)
    for card in body["cards"]:
        assert len(card["summary"]) < 140
        assert card["source"]["label"]
    return found
