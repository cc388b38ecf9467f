"""From a CDS Hooks call's FHIR R4 resources to what the policy engine decides on: draft
ServiceRequests to proposed procedures, the Coverage to a payer/plan and a member, the
patient's identity, and the clinical facts the request attests.

Resources are parsed with ``fhir.resources.R4B`` (which reads R4 JSON) at this boundary only;
a resource the model library refuses is a 400 naming where it sits.

What is read (everything else is "not documented", so rules needing it answer *missing*):

* **Codes**: ``ServiceRequest.code.coding`` with system ``http://www.ama-assn.org/go/cpt``
  (several CPT codings are the primary code and its add-ons, one unit each).
* **Region**: ``bodySite`` SNOMED CT 122494005 cervical, 122495006 thoracic, 122496007 lumbar,
  1217253001 lumbosacral (= lumbar); else the code's own region when the catalog allows only
  one (lumbar/sacral codes); else the order is undecidable (conditional, body site needed).
* **Laterality**: a ``bodySite`` coding SNOMED 7771000 left, 24028007 right, 51440002
  bilateral (a qualifier coded beside the site).
* **Levels**: ``bodySite`` codings of :data:`LEVEL_SYSTEM` (``L4-L5``).
* **Date of service**: ``occurrenceDateTime``, else ``occurrencePeriod.start``, else the date
  of the call.
* **Procedure details**: the :data:`PROCEDURE_DETAILS_URL` extension on the ServiceRequest,
  sub-extensions ``intent``, ``agent``, ``indication``, ``approach`` (``valueCode``) and
  ``device_type`` (``valueString``).
* **Attested facts**: the :data:`ATTESTATION_URL` extension on the ServiceRequest, one
  sub-extension per fact named as in ``POST /v1/eligibility``'s ``clinical`` object
  (``valueBoolean``, ``valueDecimal``/``valueInteger`` or ``valueCode``); and the pain score
  from a prefetched Observation (LOINC 72514-3 or 38208-5, ``valueInteger`` or
  ``valueQuantity``), the latest effective on or before the date of service, unless the
  attestation extension gives one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from domain.catalog import CATALOG, Region
from interop.fhir.codes import LOINC_SYSTEM
from interop.fhir.mapping import (
    MappingError,
    PatientIdentityRule,
    billed_codes,
    clinical_date,
    laterality_from_body_sites,
    laterality_from_body_structure,
    levels_from_body_sites,
    region_of,
    target_body_structure,
)

FHIR_BASE = "https://injection-tracker.example/fhir"
ATTESTATION_URL = f"{FHIR_BASE}/StructureDefinition/attested-clinical-facts"
PROCEDURE_DETAILS_URL = f"{FHIR_BASE}/StructureDefinition/proposed-procedure-details"
PAIN_LOINC = frozenset({"72514-3", "38208-5"})
DETAIL_FIELDS = ("intent", "agent", "indication", "approach", "device_type")


class FhirInputError(ValueError):
    """A resource the request carries is not valid FHIR R4 (400)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def parse(model: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict) or data.get("resourceType") != model.__name__:
        raise FhirInputError(where, f"expected a FHIR {model.__name__} resource")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise FhirInputError(where, f"{loc}: {first.get('msg')}") from None


def bundle_resources(bundle: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """The entries' resources of a Bundle (JSON), with where each sits."""
    if bundle is None:
        return []
    if not isinstance(bundle, dict):
        raise FhirInputError(where, "expected a FHIR resource or Bundle")
    if bundle.get("resourceType") != "Bundle":
        return [(where, bundle)]
    out = []
    for i, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            out.append((f"{where}.entry[{i}].resource", resource))
    return out


# ------------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """One draft ServiceRequest of the call, mapped as far as it goes."""

    resource: dict[str, Any]
    reference: str  # "ServiceRequest/<id>"
    codes: tuple[str, ...]  # CPT codes the catalog knows, primary first
    date_of_service: date
    region: Region | None
    laterality: str | None
    levels: tuple[str, ...]
    details: dict[str, Any]
    clinical: dict[str, Any]
    problems: tuple[str, ...] = field(default=())  # why the order cannot be decided

    @property
    def decidable(self) -> bool:
        return not self.problems and self.region is not None


def map_order(
    resource: dict[str, Any], where: str, call_date: date, observations: list[Observation]
) -> DraftOrder | None:
    """The order as a proposed procedure, or None when none of its codes is a CPT code of
    the catalog (an order this service has nothing to say about)."""
    sr: ServiceRequest = parse(ServiceRequest, resource, where)
    try:
        codes = billed_codes([sr.code])
    except MappingError:
        return None
    codes.sort(key=lambda c: CATALOG[c].is_add_on)  # primary first
    problems: list[str] = []
    dos: date | None = None
    try:
        dos = clinical_date(sr.occurrenceDateTime) or clinical_date(
            sr.occurrencePeriod.start if sr.occurrencePeriod else None
        )
    except MappingError as exc:
        problems.append(exc.reason)
    dos = dos or call_date
    structure = target_body_structure(sr)
    levels = levels_from_body_sites(sr.bodySite or [])
    region: Region | None = None
    try:
        region = region_of(
            body_sites=sr.bodySite or [], structure=structure, levels=levels, codes=codes
        )
    except MappingError as exc:
        problems.append(exc.reason)
    laterality = laterality_from_body_sites(sr.bodySite or []) or laterality_from_body_structure(
        structure
    )
    details = _sub_extensions(resource, PROCEDURE_DETAILS_URL)
    clinical = _sub_extensions(resource, ATTESTATION_URL)
    if "pain_score" not in clinical:
        score = latest_pain_score(observations, dos)
        if score is not None:
            clinical["pain_score"] = score
    return DraftOrder(
        resource=resource,
        reference=f"ServiceRequest/{sr.id}" if sr.id else where,
        codes=tuple(codes),
        date_of_service=dos,
        region=region,
        laterality=laterality.value if laterality else None,
        levels=tuple(levels),
        details={k: v for k, v in details.items() if k in DETAIL_FIELDS},
        clinical=clinical,
        problems=tuple(problems),
    )


def _sub_extensions(resource: Mapping[str, Any], url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ext in resource.get("extension") or []:
        if ext.get("url") != url:
            continue
        for part in ext.get("extension") or []:
            values = [v for k, v in part.items() if k.startswith("value")]
            if part.get("url") and values:
                out[part["url"]] = values[0]
    return out


def latest_pain_score(observations: list[Observation], on_or_before: date) -> float | None:
    best: tuple[date, float] | None = None
    for obs in observations:
        if obs.status in ("entered-in-error", "cancelled", "preliminary"):
            continue
        codes = {c.code for c in obs.code.coding or [] if c.system == LOINC_SYSTEM}
        if not codes & PAIN_LOINC:
            continue
        when = obs.effectiveDateTime or (obs.effectivePeriod.start if obs.effectivePeriod else None)
        day = clinical_date(when) if when is not None else None
        if day is None or day > on_or_before:
            continue
        if obs.valueInteger is not None:
            value = float(obs.valueInteger)
        elif obs.valueQuantity is not None and obs.valueQuantity.value is not None:
            value = float(obs.valueQuantity.value)
        else:
            continue
        if best is None or day >= best[0]:
            best = (day, value)
    return best[1] if best else None


# ----------------------------------------------------------------------- coverage, member


@dataclass(frozen=True, slots=True)
class CoverageFacts:
    reference: str  # "Coverage/<id>"
    payers: tuple[str, ...]  # payor references, identifier values and displays
    plans: tuple[str, ...]  # class values of type plan, group or subplan
    coverage: Coverage


def coverage_facts(resource: dict[str, Any], where: str) -> CoverageFacts:
    cov: Coverage = parse(Coverage, resource, where)
    payers: list[str] = []
    for payor in cov.payor or []:
        payers += [p for p in (payor.reference, payor.display) if p]
        if payor.identifier is not None and payor.identifier.value:
            payers.append(payor.identifier.value)
    plans = [
        c.value
        for c in cov.class_fhir or []
        if c.value and {cc.code for cc in c.type.coding or []} & {"plan", "group", "subplan"}
    ]
    return CoverageFacts(
        reference=f"Coverage/{cov.id}" if cov.id else "Coverage",
        payers=tuple(payers),
        plans=tuple(plans),
        coverage=cov,
    )


def member_patient_id(
    rule: PatientIdentityRule,
    coverage: CoverageFacts,
    patient_json: Any,
    patient_id: str,
) -> str:
    """Our patient id by the FHIR import's identity rule. With a member identifier system
    configured: the Coverage's identifier of that system (the member id), else the
    beneficiary reference's or the Patient resource's. Without one: the logical id of the
    Coverage's beneficiary (else the hook's ``patientId``). Raises :class:`MappingError`
    ("no patient: ...") when the rule finds none."""
    from fhir.resources.R4B.reference import Reference

    cov = coverage.coverage
    if rule.member_system is not None:
        for ident in cov.identifier or []:
            if ident.system == rule.member_system and ident.value:
                return rule.patient_id(Reference(identifier=ident))
    patients: dict[str, Any] = {}
    for where, resource in bundle_resources(patient_json, "prefetch.patient"):
        if resource.get("resourceType") == "Patient":
            patient: Patient = parse(Patient, resource, where)
            if patient.id:
                patients[f"Patient/{patient.id}"] = patient
    reference = cov.beneficiary or Reference(reference=f"Patient/{patient_id}")
    return rule.patient_id(reference, patients)
