"""The coverage-information extension builder honours CRD's invariants in 2.0.1 and 2.2, and
refuses to build what would break them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from interop.cdshooks.crd import (
    CARD_TYPE_SYSTEM_22,
    COVERAGE_DETAIL_SYSTEM_22,
    EXTENSION_URL,
    TEMP_SYSTEM,
    AssertionReason,
    CoverageAssertion,
    CoverageInvariantError,
    CrdVersion,
    PolicyLink,
    card_topic,
    extension,
    invariant_violations,
    with_extension,
)

STU2, V22 = CrdVersion.STU2, CrdVersion.V2_2
BASE = CoverageAssertion(
    coverage_reference="Coverage/cov-1",
    covered="covered",
    pa_needed="auth-needed",
    date=date(2025, 3, 10),
    assertion_id="a-1",
    billing_codes=(("http://www.ama-assn.org/go/cpt", "64483", None),),
)
WHY = (AssertionReason(text="nia.esi.initial_interval: too early; next eligible 2025-01-20"),)


def parts(ext: dict[str, Any]) -> list[str]:
    return [p["url"] for p in ext["extension"]]


@pytest.mark.parametrize("version", [STU2, V22])
def test_a_covered_assertion_has_its_required_parts_in_order(version: CrdVersion) -> None:
    ext = extension(BASE, version)
    assert ext["url"] == EXTENSION_URL
    assert parts(ext) == [
        "coverage",
        "covered",
        "pa-needed",
        "billingCode",
        "date",
        "coverage-assertion-id",
    ]


@pytest.mark.parametrize("version", [STU2, V22])
def test_not_covered_never_carries_pa_needed(version: CrdVersion) -> None:
    with pytest.raises(CoverageInvariantError, match="crd-ci-q2"):
        extension(replace(BASE, covered="not-covered", reasons=WHY), version)
    ok = extension(replace(BASE, covered="not-covered", pa_needed=None, reasons=WHY), version)
    assert "pa-needed" not in parts(ok)


def test_in_2_0_1_covered_and_conditional_need_pa_needed_but_not_in_2_2() -> None:
    bare = replace(BASE, pa_needed=None)
    with pytest.raises(CoverageInvariantError, match=r"2\.0\.1"):
        extension(bare, STU2)
    assert "pa-needed" not in parts(extension(bare, V22))


@pytest.mark.parametrize("version", [STU2, V22])
def test_conditional_goes_with_info_needed_both_ways(version: CrdVersion) -> None:
    with pytest.raises(CoverageInvariantError, match="crd-ci-q3"):
        extension(replace(BASE, covered="conditional", reasons=WHY), version)
    with pytest.raises(CoverageInvariantError, match="crd-ci-q3"):
        extension(replace(BASE, info_needed=("OTH",), reasons=WHY), version)
    ok = replace(BASE, covered="conditional", info_needed=("OTH",), reasons=WHY)
    assert "info-needed" in parts(extension(ok, version))


def test_info_needed_oth_and_doc_purpose_need_a_reason() -> None:
    with pytest.raises(CoverageInvariantError, match="crd-ci-q6"):
        extension(replace(BASE, covered="conditional", info_needed=("OTH",)), V22)
    with pytest.raises(CoverageInvariantError, match="crd-ci-q8"):
        extension(replace(BASE, doc_needed=("clinical",), doc_purpose=("withpa",)), V22)


def test_satisfied_goes_with_its_pa_id_and_not_with_withpa() -> None:
    with pytest.raises(CoverageInvariantError, match="crd-ci-q5"):
        extension(replace(BASE, pa_needed="satisfied"), STU2)
    satisfied = replace(BASE, pa_needed="satisfied", satisfied_pa_id="pa-9")
    assert "satisfied-pa-id" in parts(extension(satisfied, STU2))
    with pytest.raises(CoverageInvariantError, match="crd-ci-q4"):
        extension(
            replace(satisfied, doc_needed=("clinical",), doc_purpose=("withpa",), reasons=WHY),
            STU2,
        )


def test_codes_are_checked_against_the_versions_value_sets() -> None:
    indeterminate = replace(
        BASE, covered="indeterminate", pa_needed=None, reasons=(AssertionReason("no member"),)
    )
    with pytest.raises(CoverageInvariantError, match=r"not a CRD 2\.0\.1 code"):
        extension(indeterminate, STU2)
    assert extension(indeterminate, V22)
    with pytest.raises(CoverageInvariantError, match="crd-ci-q9"):
        extension(replace(indeterminate, reasons=()), V22)
    with pytest.raises(CoverageInvariantError, match="doc-needed 'both'"):
        extension(replace(BASE, doc_needed=("both",)), V22)
    with pytest.raises(CoverageInvariantError, match="at most once"):
        extension(replace(BASE, doc_needed=("clinical", "admin")), STU2)


def test_a_reason_coded_outside_the_value_set_needs_text() -> None:
    with pytest.raises(CoverageInvariantError, match="crd-ci-q7"):
        extension(replace(BASE, reasons=(AssertionReason(code="too-early"),)), STU2)
    assert extension(replace(BASE, reasons=(AssertionReason(code="gold-card"),)), STU2)


def test_the_policy_link_is_a_detail_only_in_2_2() -> None:
    linked = replace(BASE, policy_links=(PolicyLink("https://payer.example/NIA_CG_300", "v2024"),))
    assert "detail" not in parts(extension(linked, STU2))
    (detail,) = [p for p in extension(linked, V22)["extension"] if p["url"] == "detail"]
    assert detail["extension"] == [
        {"url": "category", "valueCode": "cat-other"},
        {
            "url": "code",
            "valueCodeableConcept": {
                "coding": [{"system": COVERAGE_DETAIL_SYSTEM_22, "code": "policy-link"}]
            },
        },
        {"url": "value", "valueUrl": "https://payer.example/NIA_CG_300"},
        {"url": "qualification", "valueString": "v2024"},
    ]


def test_the_checker_reports_missing_required_parts() -> None:
    problems = invariant_violations({"url": EXTENSION_URL, "extension": []}, STU2)
    for name in ("coverage", "covered", "date", "coverage-assertion-id"):
        assert f"{name} must occur exactly once" in problems


def test_card_topics_use_the_versions_code_system() -> None:
    assert card_topic("limits", STU2)["system"] == TEMP_SYSTEM
    assert card_topic("limits", V22)["system"] == CARD_TYPE_SYSTEM_22
    with pytest.raises(ValueError):
        card_topic("too-early", STU2)


def test_the_extension_is_added_to_a_copy_replacing_only_our_earlier_one() -> None:
    other = {"url": "http://example.org/other", "valueString": "kept"}
    old = extension(replace(BASE, assertion_id="old"), STU2)
    elsewhere = extension(replace(BASE, coverage_reference="Coverage/cov-2"), STU2)
    order = {"resourceType": "ServiceRequest", "id": "sr", "extension": [other, old, elsewhere]}
    new = extension(BASE, STU2)
    updated = with_extension(order, new)
    assert updated["extension"] == [other, elsewhere, new]
    assert order["extension"] == [other, old, elsewhere]  # the input is untouched
