"""Pure mapping primitives from FHIR R4 elements (``fhir.resources`` R4B models) to our
contract: billed codes, clinical dates, region, laterality, levels and patient identity.

Each primitive either returns a value of ours, returns ``None`` when the element says nothing,
or raises :class:`MappingError` with a reason fit to show a user ("no region: ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.bodystructure import BodyStructure
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference

from domain.catalog import CATALOG, Region, RegionRule
from domain.vocabulary import Laterality
from interop.fhir.codes import (
    BILLING_SYSTEMS,
    LEVEL_SYSTEM,
    MODIFIER_LATERALITY,
    SNOMED_LATERALITY,
    SNOMED_LATERALITY_ATTRIBUTE,
    SNOMED_REGION,
    SNOMED_SYSTEM,
    TARGET_BODY_STRUCTURE_URL,
)

PATIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LEVEL = re.compile(r"^([CTLS])(\d{1,2})\s*-\s*([CTLS])(\d{1,2})$", re.IGNORECASE)
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]+)?$")
_LEVEL_REGION = {"C": Region.CERVICAL, "T": Region.THORACIC, "L": Region.LUMBAR, "S": Region.LUMBAR}


class MappingError(ValueError):
    """A resource cannot become one of our events; ``reason`` says why, for the report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _codings(concepts: Iterable[CodeableConcept | None]) -> Iterable[Coding]:
    for concept in concepts:
        if concept is not None:
            yield from concept.coding or []


# ------------------------------------------------------------------------------ codes


def billed_codes(concepts: Iterable[CodeableConcept | None]) -> list[str]:
    """The catalog CPT codes among the CPT/HCPCS codings of these concepts, in order, once
    each. Other code systems (SNOMED procedure codes beside the CPT one) are ignored.

    Raises :class:`MappingError` when there is no CPT/HCPCS coding at all ("no CPT or HCPCS
    code") or none of them is in the catalog ("unknown code").
    """
    seen: list[str] = []
    unknown: list[str] = []
    for coding in _codings(concepts):
        if coding.system not in BILLING_SYSTEMS or not coding.code:
            continue
        code = coding.code.strip().upper()
        if code in CATALOG:
            if code not in seen:
                seen.append(code)
        elif code not in unknown:
            unknown.append(code)
    if seen:
        return seen
    if unknown:
        raise MappingError(f"unknown code: {', '.join(unknown)} not in the procedure catalog")
    raise MappingError("unknown code: no CPT or HCPCS coding")


def region_of_codes(codes: Sequence[str]) -> Region | None:
    """The region the codes themselves imply: only lumbar/sacral codes name one region."""
    rules = {CATALOG[code].regions for code in codes if code in CATALOG}
    if rules == {RegionRule.LUMBAR}:
        return Region.LUMBAR
    return None


# ------------------------------------------------------------------------------ dates


def clinical_date(value: Any) -> date | None:
    """The calendar date of a FHIR ``date``/``dateTime`` as the source wrote it (a
    ``dateTime`` keeps its own local date, it is not shifted to UTC). ``None`` when absent;
    :class:`MappingError` for a partial date (``2024`` or ``2024-05``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise MappingError(f"no date: {text!r} is not precise to the day") from None


# ------------------------------------------------------------------------------ body sites


def _snomed(coding: Coding) -> tuple[str, dict[str, str]] | None:
    """The focus concept and attribute refinements of a SNOMED coding (a plain concept id or
    a simple post-coordinated expression ``focus:attribute=value,...``)."""
    if coding.system != SNOMED_SYSTEM or not coding.code:
        return None
    focus, _, refinement = coding.code.partition(":")
    attributes: dict[str, str] = {}
    for part in refinement.replace("{", ",").replace("}", ",").split(","):
        name, sep, value = part.partition("=")
        if sep:
            attributes[_concept_id(name)] = _concept_id(value)
    return _concept_id(focus), attributes


def _concept_id(text: str) -> str:
    """``122496007 |Lumbar spine|`` -> ``122496007``."""
    return text.split("|", 1)[0].strip()


def _one(values: set[Any], what: str) -> Any:
    if len(values) > 1:
        raise MappingError(f"conflicting {what}: {', '.join(sorted(str(v) for v in values))}")
    return next(iter(values)) if values else None


def region_from_body_sites(body_sites: Iterable[CodeableConcept | None]) -> Region | None:
    """The region named by SNOMED body sites (lumbosacral and sacral sites are lumbar).
    ``None`` when no site names a spinal region; :class:`MappingError` when sites name
    several."""
    regions: set[Region] = set()
    for coding in _codings(body_sites):
        parsed = _snomed(coding)
        if parsed is not None and parsed[0] in SNOMED_REGION:
            regions.add(SNOMED_REGION[parsed[0]])
    region: Region | None = _one(regions, "body site regions")
    return region


def laterality_from_body_sites(body_sites: Iterable[CodeableConcept | None]) -> Laterality | None:
    """Laterality given as a SNOMED qualifier beside the site (an extra coding or an extra
    ``bodySite`` entry) or inside a post-coordinated expression. Left and right together
    are bilateral."""
    found: set[Laterality] = set()
    for coding in _codings(body_sites):
        parsed = _snomed(coding)
        if parsed is None:
            continue
        focus, attributes = parsed
        if focus in SNOMED_LATERALITY:
            found.add(SNOMED_LATERALITY[focus])
        value = attributes.get(SNOMED_LATERALITY_ATTRIBUTE)
        if value in SNOMED_LATERALITY:
            found.add(SNOMED_LATERALITY[value])
    return _combine(found)


def _combine(found: set[Laterality]) -> Laterality | None:
    if not found:
        return None
    if len(found) == 1:
        return next(iter(found))
    return Laterality.BILATERAL


def levels_from_body_sites(body_sites: Iterable[CodeableConcept | None]) -> list[str]:
    """Spinal levels (``L4-L5``) coded with our level code system or written as the site's
    text, normalised to upper case, in order, once each."""
    levels: list[str] = []
    for concept in body_sites:
        if concept is None:
            continue
        candidates = [c.code for c in concept.coding or [] if c.system == LEVEL_SYSTEM and c.code]
        if concept.text:
            candidates.append(concept.text)
        for text in candidates:
            match = LEVEL.match(text.strip())
            if match is None:
                continue
            level = f"{match[1].upper()}{match[2]}-{match[3].upper()}{match[4]}"
            if level not in levels:
                levels.append(level)
    return levels


def region_of_levels(levels: Sequence[str]) -> Region | None:
    """The region all the levels lie in (the upper vertebra decides, so L5-S1 is lumbar and
    C7-T1 cervical); ``None`` when there are none or they span regions."""
    regions = {_LEVEL_REGION[level[0].upper()] for level in levels if level}
    return next(iter(regions)) if len(regions) == 1 else None


# ------------------------------------------------------------------------------ body structure


def target_body_structure(
    resource: Any, resolve: Callable[[str], Any] | None = None
) -> BodyStructure | None:
    """The BodyStructure named by the ``procedure-targetBodyStructure`` extension of a
    resource: a contained one (``#bs1``) or, through ``resolve``, one elsewhere in the bundle
    or export. ``None`` when the extension is absent or the reference does not resolve."""
    for extension in getattr(resource, "extension", None) or []:
        if extension.url != TARGET_BODY_STRUCTURE_URL or extension.valueReference is None:
            continue
        reference = extension.valueReference.reference or ""
        target: Any = None
        if reference.startswith("#"):
            for contained in getattr(resource, "contained", None) or []:
                if getattr(contained, "id", None) == reference[1:]:
                    target = contained
        elif resolve is not None:
            target = resolve(reference)
        if isinstance(target, BodyStructure):
            return target
    return None


def region_from_body_structure(structure: BodyStructure | None) -> Region | None:
    return None if structure is None else region_from_body_sites([structure.location])


def laterality_from_body_structure(structure: BodyStructure | None) -> Laterality | None:
    if structure is None:
        return None
    return laterality_from_body_sites([structure.location, *(structure.locationQualifier or [])])


def laterality_from_modifiers(modifiers: Iterable[CodeableConcept | None]) -> Laterality | None:
    """Laterality from claim line modifiers: LT, RT, 50 (bilateral); LT with RT is
    bilateral. Modifiers are matched by code whatever system names them."""
    found: set[Laterality] = set()
    for coding in _codings(modifiers):
        code = (coding.code or "").strip().upper()
        if code in MODIFIER_LATERALITY:
            found.add(MODIFIER_LATERALITY[code])
    return _combine(found)


def region_of(
    *,
    body_sites: Sequence[CodeableConcept | None] = (),
    structure: BodyStructure | None = None,
    levels: Sequence[str] = (),
    codes: Sequence[str] = (),
) -> Region:
    """The procedure's region: from its SNOMED body site, else its target body structure,
    else its coded levels, else the code's own region (lumbar/sacral codes only). Raises
    :class:`MappingError` ("no region") when none of them decides."""
    for candidate in (
        region_from_body_sites(body_sites),
        region_from_body_structure(structure),
        region_of_levels(levels),
        region_of_codes(codes),
    ):
        if candidate is not None:
            return candidate
    raise MappingError(
        "no region: no spinal body site (SNOMED cervical/thoracic/lumbar spine), no levels, "
        f"and code {', '.join(codes) or '-'} is billed in more than one region"
    )


# ------------------------------------------------------------------------------ patient identity


@dataclass(frozen=True, slots=True)
class PatientIdentityRule:
    """How a FHIR patient becomes our ``patient_id``.

    With ``member_system`` set (``INJTRACK_FHIR_MEMBER_IDENTIFIER_SYSTEM``), the patient is
    the value of the member identifier of that system, taken from the reference itself
    (``subject.identifier``) or from the referenced Patient resource (in the bundle or the
    export's ``Patient.ndjson``); a patient without one is refused rather than filed under
    another id. Without it, the patient is the logical id of the ``Patient/<id>``
    reference (relative, absolute or versioned). Either way the result must be a valid
    ``patient_id`` (1-64 of ``A-Z a-z 0-9 . _ -``).
    """

    member_system: str | None = None

    def patient_id(
        self, reference: Reference | None, patients: Mapping[str, Any] | None = None
    ) -> str:
        """Our patient id for a ``subject``/``patient`` reference. ``patients`` maps the
        reference strings of known Patient resources (``Patient/1``, a ``fullUrl``) to them.
        Raises :class:`MappingError` ("no patient: ...")."""
        if reference is None:
            raise MappingError("no patient: no subject or patient reference")
        patients = patients or {}
        text = (reference.reference or "").strip()
        logical = _PATIENT_REFERENCE.search(text)
        patient = patients.get(text)
        if patient is None and logical is not None:
            patient = patients.get(f"Patient/{logical[1]}")
        if self.member_system is not None:
            value = self._member_id([reference.identifier])
            if value is None and patient is not None:
                value = self._member_id(getattr(patient, "identifier", None) or [])
            if value is None:
                raise MappingError(
                    f"no patient: {text or 'the reference'} carries no identifier of system "
                    f"{self.member_system}"
                )
            return _checked(value)
        if logical is not None:
            return _checked(logical[1])
        if patient is not None and getattr(patient, "id", None):
            return _checked(patient.id)
        raise MappingError(f"no patient: {text or 'the reference'} is not a Patient reference")

    def _member_id(self, identifiers: Iterable[Identifier | None]) -> str | None:
        for identifier in identifiers:
            if (
                identifier is not None
                and identifier.system == self.member_system
                and identifier.value
            ):
                return str(identifier.value).strip()
        return None


def _checked(patient_id: str) -> str:
    if not PATIENT_ID.match(patient_id):
        raise MappingError(
            f"no patient: {patient_id!r} is not a valid patient_id (1-64 letters, digits, '.', "
            "'_' or '-')"
        )
    return patient_id
