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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from domain.catalog import CATALOG, Region, RegionRule

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
FHIR_BASE = "https://injection-tracker.example/fhir"
ATTESTATION_URL = f"{FHIR_BASE}/StructureDefinition/attested-clinical-facts"
PROCEDURE_DETAILS_URL = f"{FHIR_BASE}/StructureDefinition/proposed-procedure-details"
LEVEL_SYSTEM = f"{FHIR_BASE}/CodeSystem/spinal-level"
MEMBER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
COVERAGE_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"

SNOMED_REGIONS: dict[str, Region] = {
    "122494005": Region.CERVICAL,
    "122495006": Region.THORACIC,
    "122496007": Region.LUMBAR,
    "1217253001": Region.LUMBAR,
}
SNOMED_LATERALITY: dict[str, str] = {
    "7771000": "left",
    "24028007": "right",
    "51440002": "bilateral",
}
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


def _codings(concepts: Iterable[Any] | None) -> list[Any]:
    return [c for concept in concepts or [] for c in (concept.coding or [])]


def map_order(
    resource: dict[str, Any], where: str, call_date: date, observations: list[Observation]
) -> DraftOrder | None:
    """The order as a proposed procedure, or None when none of its codes is a CPT code of
    the catalog (an order this service has nothing to say about)."""
    sr: ServiceRequest = parse(ServiceRequest, resource, where)
    cpts = [
        c.code
        for c in (sr.code.coding or [] if sr.code else [])
        if c.system == CPT_SYSTEM and c.code
    ]
    known = [c for c in dict.fromkeys(cpts) if c in CATALOG]
    if not known:
        return None
    known.sort(key=lambda c: CATALOG[c].is_add_on)  # primary first
    problems: list[str] = []
    if sr.occurrenceDateTime is not None:
        dos = _as_date(sr.occurrenceDateTime)
    elif sr.occurrencePeriod is not None and sr.occurrencePeriod.start is not None:
        dos = _as_date(sr.occurrencePeriod.start)
    else:
        dos = call_date
    site_codings = _codings(sr.bodySite)
    regions = {
        SNOMED_REGIONS[c.code]
        for c in site_codings
        if c.system == SNOMED and c.code in SNOMED_REGIONS
    }
    region: Region | None = None
    if len(regions) > 1:
        problems.append("bodySite names more than one spinal region")
    elif regions:
        region = regions.pop()
    else:
        rules = {CATALOG[c].regions for c in known}
        if rules == {RegionRule.LUMBAR}:
            region = Region.LUMBAR
        else:
            problems.append(
                "bodySite does not code the spinal region (SNOMED CT 122494005 cervical, "
                "122495006 thoracic or 122496007 lumbar) and the code allows more than one"
            )
    sides = {
        SNOMED_LATERALITY[c.code]
        for c in site_codings
        if c.system == SNOMED and c.code in SNOMED_LATERALITY
    }
    laterality = sides.pop() if len(sides) == 1 else ("bilateral" if sides else None)
    levels = tuple(c.code for c in site_codings if c.system == LEVEL_SYSTEM and c.code)
    details = _sub_extensions(resource, PROCEDURE_DETAILS_URL)
    clinical = _sub_extensions(resource, ATTESTATION_URL)
    if "pain_score" not in clinical:
        score = latest_pain_score(observations, dos)
        if score is not None:
            clinical["pain_score"] = score
    return DraftOrder(
        resource=resource,
        reference=f"ServiceRequest/{sr.id}" if sr.id else where,
        codes=tuple(known),
        date_of_service=dos,
        region=region,
        laterality=laterality,
        levels=levels,
        details={k: v for k, v in details.items() if k in DETAIL_FIELDS},
        clinical=clinical,
        problems=tuple(problems),
    )


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


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
        codes = {c.code for c in _codings([obs.code]) if c.system == LOINC}
        if not codes & PAIN_LOINC:
            continue
        when = obs.effectiveDateTime or (obs.effectivePeriod.start if obs.effectivePeriod else None)
        if when is None or _as_date(when) > on_or_before:
            continue
        if obs.valueInteger is not None:
            value = float(obs.valueInteger)
        elif obs.valueQuantity is not None and obs.valueQuantity.value is not None:
            value = float(obs.valueQuantity.value)
        else:
            continue
        if best is None or _as_date(when) >= best[0]:
            best = (_as_date(when), value)
    return best[1] if best else None


# ----------------------------------------------------------------------- coverage, member


@dataclass(frozen=True, slots=True)
class CoverageFacts:
    reference: str  # "Coverage/<id>"
    payers: tuple[str, ...]  # payor references, identifier values and displays
    plans: tuple[str, ...]  # class values of type plan or group
    member_ids: tuple[tuple[str | None, str], ...]  # (identifier system, value)
    subscriber_id: str | None
    beneficiary: str | None


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
    members = [(i.system, i.value) for i in cov.identifier or [] if i.value]
    return CoverageFacts(
        reference=f"Coverage/{cov.id}" if cov.id else "Coverage",
        payers=tuple(payers),
        plans=tuple(plans),
        member_ids=tuple(members),
        subscriber_id=cov.subscriberId,
        beneficiary=cov.beneficiary.reference if cov.beneficiary else None,
    )


def patient_identifiers(
    resource: dict[str, Any] | None, where: str
) -> tuple[tuple[str | None, str], ...]:
    if resource is None:
        return ()
    patient: Patient = parse(Patient, resource, where)
    return tuple((i.system, i.value) for i in patient.identifier or [] if i.value)


def member_type_identifiers(resource: dict[str, Any]) -> tuple[str, ...]:
    """Coverage identifiers typed MB (member number) in the v2-0203 table."""
    out = []
    for ident in resource.get("identifier") or []:
        codings = (ident.get("type") or {}).get("coding") or []
        member = any(
            c.get("system") == MEMBER_TYPE_SYSTEM and c.get("code") == "MB" for c in codings
        )
        if member and ident.get("value"):
            out.append(ident["value"])
    return tuple(out)
