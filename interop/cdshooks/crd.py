"""The Da Vinci CRD coverage-information extension: codes, a builder that honours the
extension's invariants, and a checker of those invariants.

We claim **CRD STU2 (2.0.1)** by default and speak **2.2** when configured
(``INJTRACK_CDS_CRD_VERSION=2.2``). Codes carried as ``valueCode`` are the same strings in
both; what differs, and is switched here:

* card topics: system ``…/davinci-crd/CodeSystem/temp`` (2.0.1) or
  ``http://terminology.hl7.org/CodeSystem/cdshooks-card-type`` (2.2);
* ``covered`` ``indeterminate`` and the reason codes ``no-member-found`` /
  ``no-active-coverage`` exist only in 2.2 (2.0.1 says the same thing with ``conditional`` and
  reason text);
* ``detail`` has a required ``category`` and a ``policy-link`` code (system
  ``http://terminology.hl7.org/CodeSystem/crd-coverage-detail``, value ``valueUrl``) only in
  2.2, so the policy link is a ``detail`` in 2.2 and a card link in 2.0.1;
* ``doc-needed`` repeats only in 2.2; ``expiry-date`` is 2.2 only.

Invariants checked (``crd-ci-q1`` … ``q9`` of both versions, their union where they differ):
``not-covered`` carries no ``pa-needed``; in 2.0.1 anything but ``not-covered`` carries a
``pa-needed``; ``info-needed`` exists if and only if ``covered``/``pa-needed``/``doc-needed`` is
``conditional``; ``satisfied-pa-id`` if and only if ``pa-needed`` is ``satisfied``;
``doc-purpose`` ``withpa`` not with ``satisfied``/``no-auth``; ``info-needed`` ``OTH``,
``indeterminate`` and any ``doc-purpose`` carry a ``reason``; ``questionnaire`` needs
``doc-needed``; a ``reason`` coded outside the value set carries text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

EXTENSION_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
TEMP_SYSTEM = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"
CARD_TYPE_SYSTEM_22 = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
COVERAGE_DETAIL_SYSTEM_22 = "http://terminology.hl7.org/CodeSystem/crd-coverage-detail"
NULL_FLAVOR_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"


class CrdVersion(StrEnum):
    STU2 = "2.0.1"
    V2_2 = "2.2"


_COVERED = {
    CrdVersion.STU2: {"covered", "not-covered", "conditional"},
    CrdVersion.V2_2: {"covered", "not-covered", "conditional", "indeterminate"},
}
_PA_NEEDED = {
    CrdVersion.STU2: {"no-auth", "auth-needed", "satisfied", "performpa", "conditional"},
    CrdVersion.V2_2: {
        "no-auth",
        "auth-needed",
        "satisfied",
        "performpa",
        "conditional",
        "indeterminate",
    },
}
_DOC_NEEDED = {
    CrdVersion.STU2: {"clinical", "admin", "both", "conditional"},
    CrdVersion.V2_2: {"clinical", "admin", "patient", "conditional", "indeterminate"},
}
_DOC_PURPOSE = {"withpa", "withclaim", "withorder", "retain-doc", "OTH"}
_INFO_NEEDED = {
    CrdVersion.STU2: {"performer", "location", "timeframe", "contract-window", "OTH"},
    CrdVersion.V2_2: {
        "performer",
        "location",
        "timeframe",
        "contract-window",
        "detail-code",
        "OTH",
    },
}
_REASON_CODES = {
    CrdVersion.STU2: {"gold-card", "detail-code"},
    CrdVersion.V2_2: {
        "gold-card",
        "no-member-found",
        "no-active-coverage",
        "coverage-not-found",
        "auth-out-network",
        "technical",
    },
}
_DETAIL_CATEGORIES = {"cat-limitation", "cat-decisional", "cat-other"}
# Card types (CRD "card-type" codes, used as ``source.topic``).
CARD_TYPES = {
    "coverage-info": "Coverage Information",
    "claim": "Claim",
    "insurance": "Insurance",
    "limits": "Limits",
    "network": "Network",
    "appropriate-use": "Appropriate Use",
    "cost": "Cost",
    "therapy-alternatives-opt": "Optional Therapy Alternatives",
    "therapy-alternatives-req": "Required Therapy Alternatives",
    "clinical-reminder": "Clinical Reminder",
    "duplicate-therapy": "Duplicate Therapy",
    "contraindication": "Contraindication",
    "guideline": "Guideline",
    "off-guideline": "Off Guideline",
}


def card_topic(code: str, version: CrdVersion) -> dict[str, str]:
    """A CRD card type as a ``source.topic`` Coding in the version's code system."""
    if code not in CARD_TYPES:
        raise ValueError(f"unknown CRD card type {code!r}")
    system = TEMP_SYSTEM if version is CrdVersion.STU2 else CARD_TYPE_SYSTEM_22
    return {"system": system, "code": code, "display": CARD_TYPES[code]}


class CoverageInvariantError(ValueError):
    """A coverage-information extension breaks the guide's invariants."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class AssertionReason:
    """One ``reason``: a code of the version's value set and/or text."""

    text: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyLink:
    """A ``detail`` pointing at the policy the assertion applies (2.2 only)."""

    url: str
    qualification: str | None = None


@dataclass(frozen=True, slots=True)
class CoverageAssertion:
    """What one coverage-information extension asserts, before it is shaped as FHIR."""

    coverage_reference: str
    covered: str
    date: date
    assertion_id: str
    pa_needed: str | None = None
    doc_needed: tuple[str, ...] = ()
    doc_purpose: tuple[str, ...] = ()
    info_needed: tuple[str, ...] = ()
    billing_codes: tuple[tuple[str, str, str | None], ...] = ()  # (system, code, display)
    reasons: tuple[AssertionReason, ...] = ()
    policy_links: tuple[PolicyLink, ...] = ()
    satisfied_pa_id: str | None = None
    questionnaires: tuple[str, ...] = field(default=())


def extension(assertion: CoverageAssertion, version: CrdVersion) -> dict[str, Any]:
    """The extension as FHIR JSON; raises :class:`CoverageInvariantError` if it would break
    the guide's invariants or value sets, so nothing invalid leaves the service."""
    parts: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": {"reference": assertion.coverage_reference}},
        {"url": "covered", "valueCode": assertion.covered},
    ]
    if assertion.pa_needed is not None:
        parts.append({"url": "pa-needed", "valueCode": assertion.pa_needed})
    parts += [{"url": "doc-needed", "valueCode": c} for c in assertion.doc_needed]
    parts += [{"url": "doc-purpose", "valueCode": c} for c in assertion.doc_purpose]
    parts += [{"url": "info-needed", "valueCode": c} for c in assertion.info_needed]
    for system, code, display in assertion.billing_codes:
        coding = {"system": system, "code": code} | ({"display": display} if display else {})
        parts.append({"url": "billingCode", "valueCoding": coding})
    for reason in assertion.reasons:
        concept: dict[str, Any] = {}
        if reason.code is not None:
            concept["coding"] = [{"system": TEMP_SYSTEM, "code": reason.code}]
        if reason.text is not None:
            concept["text"] = reason.text
        parts.append({"url": "reason", "valueCodeableConcept": concept})
    if version is CrdVersion.V2_2:
        for link in assertion.policy_links:
            detail = [
                {"url": "category", "valueCode": "cat-other"},
                {
                    "url": "code",
                    "valueCodeableConcept": {
                        "coding": [{"system": COVERAGE_DETAIL_SYSTEM_22, "code": "policy-link"}]
                    },
                },
                {"url": "value", "valueUrl": link.url},
            ]
            if link.qualification:
                detail.append({"url": "qualification", "valueString": link.qualification})
            parts.append({"url": "detail", "extension": detail})
    parts += [{"url": "questionnaire", "valueCanonical": q} for q in assertion.questionnaires]
    parts.append({"url": "date", "valueDate": assertion.date.isoformat()})
    parts.append({"url": "coverage-assertion-id", "valueString": assertion.assertion_id})
    if assertion.satisfied_pa_id is not None:
        parts.append({"url": "satisfied-pa-id", "valueString": assertion.satisfied_pa_id})
    ext = {"url": EXTENSION_URL, "extension": parts}
    problems = invariant_violations(ext, version)
    if problems:
        raise CoverageInvariantError(problems)
    return ext


def _values(parts: Sequence[dict[str, Any]], url: str) -> list[Any]:
    out = []
    for part in parts:
        if part.get("url") != url:
            continue
        values = [v for k, v in part.items() if k.startswith("value")]
        out.append(values[0] if values else part.get("extension"))
    return out


_ONE = ("coverage", "covered", "date", "coverage-assertion-id")
_AT_MOST_ONE = ("pa-needed", "satisfied-pa-id", "expiry-date")
_KNOWN = {
    "coverage",
    "covered",
    "pa-needed",
    "doc-needed",
    "doc-purpose",
    "info-needed",
    "billingCode",
    "reason",
    "detail",
    "dependency",
    "questionnaire",
    "date",
    "coverage-assertion-id",
    "satisfied-pa-id",
    "contact",
}


def invariant_violations(ext: dict[str, Any], version: CrdVersion) -> list[str]:
    """Every way ``ext`` breaks the version's cardinalities, required value sets and
    invariants (empty when it conforms)."""
    problems: list[str] = []
    if ext.get("url") != EXTENSION_URL:
        problems.append(f"url must be {EXTENSION_URL}")
    parts: list[dict[str, Any]] = ext.get("extension") or []
    known = _KNOWN | ({"response"} if version is CrdVersion.STU2 else {"expiry-date"})
    for part in parts:
        if part.get("url") not in known:
            problems.append(f"{part.get('url')!r} is not a sub-extension in CRD {version}")
    for url in _ONE:
        if len(_values(parts, url)) != 1:
            problems.append(f"{url} must occur exactly once")
    single = (*_AT_MOST_ONE, "doc-needed") if version is CrdVersion.STU2 else _AT_MOST_ONE
    for url in single:
        if len(_values(parts, url)) > 1:
            problems.append(f"{url} may occur at most once in CRD {version}")

    covered = _values(parts, "covered")
    pa = _values(parts, "pa-needed")
    doc = _values(parts, "doc-needed")
    purpose = _values(parts, "doc-purpose")
    info = _values(parts, "info-needed")
    reasons = _values(parts, "reason")
    checks: Iterable[tuple[str, list[Any], set[str]]] = (
        ("covered", covered, _COVERED[version]),
        ("pa-needed", pa, _PA_NEEDED[version]),
        ("doc-needed", doc, _DOC_NEEDED[version]),
        ("doc-purpose", purpose, _DOC_PURPOSE),
        ("info-needed", info, _INFO_NEEDED[version]),
    )
    for url, values, allowed in checks:
        for value in values:
            if value not in allowed:
                problems.append(f"{url} {value!r} is not a CRD {version} code")

    if "not-covered" in covered and pa:
        problems.append("crd-ci-q2: not-covered carries no pa-needed")
    if version is CrdVersion.STU2 and covered and "not-covered" not in covered and not pa:
        problems.append("crd-ci-q2 (2.0.1): a covered or conditional assertion needs pa-needed")
    conditional = "conditional" in (*covered, *pa, *doc)
    if info and not conditional:
        problems.append("crd-ci-q3: info-needed needs covered, pa-needed or doc-needed conditional")
    if conditional and not info:
        problems.append("crd-ci-q3: a conditional assertion needs info-needed")
    if (set(pa) & {"satisfied", "no-auth"}) and "withpa" in purpose:
        problems.append("crd-ci-q4: doc-purpose withpa with pa-needed satisfied or no-auth")
    if ("satisfied" in pa) != bool(_values(parts, "satisfied-pa-id")):
        problems.append("crd-ci-q5: satisfied-pa-id if and only if pa-needed is satisfied")
    if "OTH" in info and not reasons:
        problems.append("crd-ci-q6: info-needed OTH needs a reason")
    for concept in reasons:
        codes = {c.get("code") for c in (concept or {}).get("coding", [])}
        if not concept or (codes - _REASON_CODES[version] and not concept.get("text")):
            problems.append("crd-ci-q7: a reason coded outside the value set carries text")
    if purpose and not reasons:
        problems.append("crd-ci-q8: doc-purpose needs a reason")
    if "indeterminate" in (*covered, *pa, *doc) and not reasons:
        problems.append("crd-ci-q9: indeterminate needs a reason")
    if _values(parts, "questionnaire") and not doc:
        problems.append("crd-ci-q1: questionnaire needs doc-needed")
    for detail in _values(parts, "detail"):
        names = [d.get("url") for d in detail or []]
        required = ["code", "value"] + (["category"] if version is CrdVersion.V2_2 else [])
        for name in required:
            if names.count(name) != 1:
                problems.append(f"detail needs exactly one {name} in CRD {version}")
        if version is CrdVersion.V2_2:
            for cat in _values(detail or [], "category"):
                if cat not in _DETAIL_CATEGORIES:
                    problems.append(f"detail category {cat!r} is not a CRD 2.2 code")
        elif any("valueUrl" in d for d in detail or []):
            problems.append("detail valueUrl exists only in CRD 2.2")
    return problems


_VOLATILE = frozenset({"date", "coverage-assertion-id"})


def already_asserted(resource: dict[str, Any], ext: dict[str, Any]) -> bool:
    """Whether the order already carries this assertion for the same Coverage (apart from
    its date and assertion id): CRD says not to send an update unless something is new."""

    def content(e: dict[str, Any]) -> list[Any]:
        return [p for p in e.get("extension", []) if p.get("url") not in _VOLATILE]

    wanted = content(ext)
    return any(
        e.get("url") == EXTENSION_URL and content(e) == wanted
        for e in resource.get("extension", [])
    )


def with_extension(resource: dict[str, Any], ext: dict[str, Any]) -> dict[str, Any]:
    """A copy of the whole request resource with ``ext`` added: an earlier coverage-information
    extension about the same Coverage is replaced, everything else is left as it was (and
    shared with the input, which is never changed)."""
    out = dict(resource)
    coverage = _values(ext["extension"], "coverage")[0]
    kept = [
        e
        for e in out.get("extension", [])
        if not (
            e.get("url") == EXTENSION_URL
            and coverage in _values(e.get("extension", []), "coverage")
        )
    ]
    out["extension"] = [*kept, ext]
    return out
