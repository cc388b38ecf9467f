"""FHIR R4 resources -> our events (JSON lines of the contract), with a reason for every
resource that does not become one.

Input is a Bundle (collection, transaction, batch, searchset) or a Bulk Data export folder
(one NDJSON file per resource type). Every resource is validated with the ``fhir.resources``
R4B model of its type; nothing past :func:`read_resources` sees raw JSON.

- ``Procedure`` (status completed) -> ``procedure_performed``; ``entered-in-error`` -> a void
  of what was imported for it.
- ``Observation`` (final, amended, corrected) linked to a procedure by ``partOf`` or
  ``focus`` -> ``outcome_reported``: percent relief coded ``pain-relief-percent`` in
  :data:`OUTCOME_SYSTEM` with a UCUM ``%`` quantity (a ``functional-improvement`` boolean
  component, or a sibling Observation of that code, sets ``functional_improvement``); or
  pain scores (LOINC 72514-3, 0-10) before and after the procedure, converted to relief as
  ``(pre - post) / pre * 100`` where ``pre`` is the latest score dated on or before the date
  of service and each later score is one outcome.
- ``ExplanationOfBenefit`` / ``Claim`` items -> one ``procedure_performed`` per group of
  lines of one service date: ``productOrService`` CPT codes (catalog codes only, others on
  the claim ignored) with ``quantity`` as units, ``modifier`` LT/RT/50 as laterality,
  ``bodySite``/``subSite`` as region and levels. A Claim an imported EOB answers is skipped,
  and so is a claim line group that an imported Procedure of the same patient, date and
  primary code already records.
- ``Patient`` and ``BodyStructure`` resources are used to resolve references.

Event ids come from the resource's identity: ``Type/id/version`` (``meta.versionId``,
``1`` when absent), a claim group adding its date. Re-importing the same version is
idempotent; the same version with other content is a 409; a new version voids what the
previous versions imported and records the new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from domain.catalog import CATALOG
from interop.fhir.codes import LOINC_SYSTEM, UCUM_SYSTEM
from interop.fhir.mapping import (
    MappingError,
    PatientIdentityRule,
    billed_codes,
    clinical_date,
    laterality_from_body_sites,
    laterality_from_body_structure,
    laterality_from_modifiers,
    levels_from_body_sites,
    region_of,
    target_body_structure,
)

OUTCOME_SYSTEM = "https://injection-tracker.example/fhir/CodeSystem/outcome"
RELIEF_CODE = "pain-relief-percent"
FUNCTION_CODE = "functional-improvement"
PAIN_SCORE_LOINC = "72514-3"
BUNDLE_TYPES = frozenset({"collection", "transaction", "batch", "searchset"})
CLINICAL_TYPES = ("Procedure", "Observation", "ExplanationOfBenefit", "Claim")
SUPPORT_TYPES = ("Patient", "BodyStructure")
BULK_FILES = (
    "Patient",
    "BodyStructure",
    "Procedure",
    "Observation",
    "ExplanationOfBenefit",
    "Claim",
)
DONE_OBSERVATION = frozenset({"final", "amended", "corrected"})
VOIDING_CLAIM = frozenset({"entered-in-error", "cancelled"})


class UsedAsBaseline(MappingError):
    """A pre-procedure pain score: used to compute later scores' relief, not an event."""


class SourceError(ValueError):
    """The input as a whole cannot be read (not a Bundle, no such folder, bad JSON)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of the input and where it was found (``bundle.json#entry[3]``,
    ``Procedure.ndjson:12``)."""

    source: str
    raw: dict[str, Any]
    full_url: str | None = None

    @property
    def label(self) -> str:
        kind = self.raw.get("resourceType", "?")
        return f"{kind}/{self.raw.get('id', '?')}"


@dataclass(frozen=True, slots=True)
class NotImported:
    source: str
    resource: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "resource": self.resource, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Mapped:
    """One of our events (a JSON line of the contract) and the resource it came from."""

    source: str
    resource: str
    line: dict[str, Any]


@dataclass
class Mapping:
    events: list[Mapped] = field(default_factory=list)
    not_imported: list[NotImported] = field(default_factory=list)
    used: int = 0  # Patient / BodyStructure resources used to resolve references


# ------------------------------------------------------------------------------ reading


def read_bundle(body: Any, source: str) -> list[Entry]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise SourceError(f"{source}: not a FHIR Bundle")
    kind = body.get("type")
    if kind not in BUNDLE_TYPES:
        raise SourceError(
            f"{source}: Bundle type {kind!r} is not imported (only {', '.join(sorted(BUNDLE_TYPES))})"
        )
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise SourceError(f"{source}: Bundle.entry is not a list")
    out: list[Entry] = []
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        where = f"{source}#entry[{n}]"
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        out.append(Entry(where, resource if isinstance(resource, dict) else {}, full_url))
    return out


def read_path(path: Path) -> list[Entry]:
    """A Bundle JSON file, or a Bulk Data export folder of ``<Type>.ndjson`` files (any
    ``*.ndjson``; a line's type is its ``resourceType``)."""
    if path.is_dir():
        files = sorted(path.glob("*.ndjson"), key=_bulk_order)
        if not files:
            raise SourceError(f"{path}: no .ndjson files in the folder")
        out: list[Entry] = []
        for file in files:
            with file.open(encoding="utf-8") as lines:
                for n, text in enumerate(lines, start=1):
                    if not text.strip():
                        continue
                    try:
                        raw = json.loads(text)
                    except ValueError as exc:
                        raw = {"resourceType": "?", "_error": f"invalid JSON: {exc}"}
                    out.append(Entry(f"{file.name}:{n}", raw if isinstance(raw, dict) else {}))
        return out
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: {exc}") from None
    return read_bundle(body, path.name)


def _bulk_order(file: Path) -> tuple[int, str]:
    stem = file.name.split(".")[0]
    return (BULK_FILES.index(stem) if stem in BULK_FILES else len(BULK_FILES), file.name)


# ------------------------------------------------------------------------------ identity


def event_id(raw_or_model: Any, *extra: str) -> str:
    """``Type/id/version`` (+ extra parts), at most 128 characters."""
    kind, ident, version = _identity(raw_or_model)
    value = "/".join((kind, ident, version, *extra))
    if len(value) <= 128:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{kind}/{digest}/{version}"[:128]


def _identity(model: Any) -> tuple[str, str, str]:
    meta = getattr(model, "meta", None)
    version = getattr(meta, "versionId", None) if meta is not None else None
    return model.get_resource_type(), str(model.id), str(version or "1")


def resource_prefix(model: Any) -> str:
    kind, ident, _ = _identity(model)
    return f"{kind}/{ident}/"


# ------------------------------------------------------------------------------ mapping


StoredIds = Callable[[str], tuple[set[str], set[str]]]
"""``patient_id -> (event ids stored, event ids voided)``: what a previous import left."""


class FhirMapper:
    """Maps a list of entries to events; ``stored`` tells what earlier imports stored, for
    new versions and entered-in-error resources."""

    def __init__(self, identity: PatientIdentityRule, stored: StoredIds) -> None:
        self.identity = identity
        self.stored = stored
        self._stored_cache: dict[str, tuple[set[str], set[str]]] = {}

    def map(self, entries: Iterable[Entry]) -> Mapping:
        result = Mapping()
        models: list[tuple[Entry, Any]] = []
        for entry in entries:
            model = self._parse(entry, result)
            if model is not None:
                models.append((entry, model))
        self.patients: dict[str, Any] = {}
        self.structures: dict[str, Any] = {}
        for entry, model in models:
            kind = model.get_resource_type()
            if kind in SUPPORT_TYPES:
                target = self.patients if kind == "Patient" else self.structures
                target[f"{kind}/{model.id}"] = model
                if entry.full_url:
                    target[entry.full_url] = model
                result.used += 1
        latest = self._latest_versions(models, result)
        # reference -> (patient, event id, date of service), and its codes
        self.procedures: dict[str, tuple[str, str, date | None]] = {}
        self.procedure_codes: dict[str, list[str]] = {}
        self.answered_claims = {
            model.claim.reference: f"ExplanationOfBenefit/{model.id}"
            for _, model in latest
            if model.get_resource_type() == "ExplanationOfBenefit"
            and model.claim is not None
            and model.claim.reference
        }
        for kind in CLINICAL_TYPES:
            if kind == "Observation":
                self._prepare_observations(latest)
            for entry, model in latest:
                if model.get_resource_type() != kind:
                    continue
                try:
                    getattr(self, f"_{kind.lower()}")(entry, model, result)
                except UsedAsBaseline:
                    result.used += 1
                except MappingError as exc:
                    result.not_imported.append(NotImported(entry.source, entry.label, exc.reason))
        return result

    # -- parsing

    def _parse(self, entry: Entry, result: Mapping) -> Any:
        raw = entry.raw
        kind = raw.get("resourceType")
        if "_error" in raw:
            result.not_imported.append(NotImported(entry.source, "?", raw["_error"]))
            return None
        if kind not in CLINICAL_TYPES + SUPPORT_TYPES:
            reason = f"unsupported resource type {kind}" if kind else "no resource"
            result.not_imported.append(NotImported(entry.source, entry.label, reason))
            return None
        try:
            model = get_fhir_model_class(kind).model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            reason = f"not a valid R4 {kind}: {where}: {first.get('msg')}"
            result.not_imported.append(NotImported(entry.source, entry.label, reason))
            return None
        if kind in CLINICAL_TYPES and not model.id:
            result.not_imported.append(
                NotImported(entry.source, entry.label, "no id: event ids come from Type/id/version")
            )
            return None
        return model

    def _latest_versions(
        self, models: list[tuple[Entry, Any]], result: Mapping
    ) -> list[tuple[Entry, Any]]:
        """One version of each clinical resource: the highest; older ones are reported."""
        best: dict[str, tuple[Entry, Any]] = {}
        for entry, model in models:
            if model.get_resource_type() not in CLINICAL_TYPES:
                continue
            key = resource_prefix(model)
            current = best.get(key)
            if current is None or _version_key(model) > _version_key(current[1]):
                if current is not None:
                    result.not_imported.append(_superseded(current, model))
                best[key] = (entry, model)
            else:
                result.not_imported.append(_superseded((entry, model), current[1]))
        return list(best.values())

    # -- helpers

    def _patient(self, reference: Any) -> str:
        return self.identity.patient_id(reference, self.patients)

    def _known(self, patient_id: str) -> tuple[set[str], set[str]]:
        if patient_id not in self._stored_cache:
            self._stored_cache[patient_id] = self.stored(patient_id)
        return self._stored_cache[patient_id]

    def _supersede(
        self, entry: Entry, model: Any, patient_id: str, new_ids: set[str], result: Mapping
    ) -> None:
        """Void what earlier versions of this resource imported (not the ids of this one)."""
        stored, voided = self._known(patient_id)
        prefix = resource_prefix(model)
        for old in sorted(stored):
            if old.startswith(prefix) and old not in new_ids and old not in voided:
                result.events.append(
                    Mapped(
                        entry.source,
                        entry.label,
                        {
                            "type": "event_voided",
                            "event_id": f"void:{old}"[:128],
                            "patient_id": patient_id,
                            "voided_event_id": old,
                            "reason": f"superseded by {entry.label} version {_identity(model)[2]}",
                        },
                    )
                )

    def _void_all(
        self, entry: Entry, model: Any, patient_id: str, status: str, result: Mapping
    ) -> None:
        before = len(result.events)
        self._supersede(entry, model, patient_id, set(), result)
        for mapped in result.events[before:]:
            mapped.line["reason"] = f"{entry.label} is {status}"
        if len(result.events) == before:
            raise MappingError(f"unsupported status {status}: nothing imported for it to void")

    # -- Procedure

    def _procedure(self, entry: Entry, model: Any, result: Mapping) -> None:
        status = model.status
        patient_id = self._patient(model.subject)
        if status == "entered-in-error":
            self._void_all(entry, model, patient_id, status, result)
            return
        if status != "completed":
            raise MappingError(f"unsupported status {status} (only completed procedures)")
        codes = billed_codes([model.code])
        performed = clinical_date(model.performedDateTime)
        if performed is None and model.performedPeriod is not None:
            performed = clinical_date(model.performedPeriod.start)
        if performed is None:
            raise MappingError("no date: neither performedDateTime nor performedPeriod.start")
        sites = list(model.bodySite or [])
        structure = target_body_structure(model, self.structures.get)
        levels = levels_from_body_sites(sites)
        region = region_of(body_sites=sites, structure=structure, levels=levels, codes=codes)
        laterality = laterality_from_body_sites(sites) or laterality_from_body_structure(structure)
        ident = event_id(model)
        line: dict[str, Any] = {
            "type": "procedure_performed",
            "event_id": ident,
            "patient_id": patient_id,
            "date_of_service": performed.isoformat(),
            "region": region.value,
            "codes": [{"cpt": c} for c in codes],
        }
        if laterality is not None:
            line["laterality"] = laterality.value
        if levels:
            line["levels"] = levels
        provider = _provider([p.actor for p in model.performer or []])
        if provider:
            line["provider_id"] = provider
        self._supersede(entry, model, patient_id, {ident}, result)
        result.events.append(Mapped(entry.source, entry.label, line))
        for reference in filter(None, (f"Procedure/{model.id}", entry.full_url)):
            self.procedures[reference] = (patient_id, ident, performed)
            self.procedure_codes[reference] = codes

    # -- Observation

    def _observation(self, entry: Entry, model: Any, result: Mapping) -> None:
        patient_id = self._patient(model.subject)
        if model.status == "entered-in-error":
            self._void_all(entry, model, patient_id, model.status, result)
            return
        if model.status not in DONE_OBSERVATION:
            raise MappingError(
                f"unsupported status {model.status} (only final, amended, corrected)"
            )
        codes = {(c.system, c.code) for c in model.code.coding or []}
        if (OUTCOME_SYSTEM, FUNCTION_CODE) in codes and (OUTCOME_SYSTEM, RELIEF_CODE) not in codes:
            raise MappingError("functional improvement only: read with its relief observation")
        target = self._linked_procedure(model, patient_id)
        assessed = _effective(model)
        if (OUTCOME_SYSTEM, RELIEF_CODE) in codes:
            relief = _percent(model)
            improved = _functional(model) or self._sibling_function(model, target[1])
        elif (LOINC_SYSTEM, PAIN_SCORE_LOINC) in codes:
            relief = self._relief_from_scores(model, target, assessed)
            improved = False
        else:
            raise MappingError(
                "unknown code: not percent pain relief nor a LOINC 72514-3 pain score"
            )
        ident = event_id(model)
        line = {
            "type": "outcome_reported",
            "event_id": ident,
            "patient_id": patient_id,
            "procedure_event_id": target[1],
            "assessed_on": assessed.isoformat(),
            "pain_relief_percent": relief,
            "functional_improvement": improved,
        }
        self._supersede(entry, model, patient_id, {ident}, result)
        result.events.append(Mapped(entry.source, entry.label, line))

    def _linked_procedure(self, model: Any, patient_id: str) -> tuple[str, str, date | None]:
        references = [
            r.reference for r in (model.partOf or []) + (model.focus or []) if r.reference
        ]
        for reference in references:
            found = self.procedures.get(reference)
            if found is not None:
                return found
        for reference in references:
            if reference.startswith("Procedure/"):
                ident = reference.split("/")[1]
                stored, voided = self._known(patient_id)
                prior = sorted(
                    i for i in stored if i.startswith(f"Procedure/{ident}/") and i not in voided
                )
                if prior:
                    return (patient_id, prior[-1], None)
        if not references:
            raise MappingError("no procedure: neither partOf nor focus names a Procedure")
        raise MappingError(f"no procedure: {', '.join(references)} was not imported")

    def _relief_from_scores(
        self, model: Any, target: tuple[str, str, date | None], assessed: date
    ) -> float:
        dos = target[2]
        if dos is None:
            raise MappingError(
                "pain score of a procedure imported earlier: no date of service to compare"
            )
        if assessed <= dos:
            raise UsedAsBaseline("pre-procedure pain score: the baseline of later scores")
        baseline = [(d, v) for d, v, ref in self.pain_scores if ref == target[1] and d <= dos]
        if not baseline:
            raise MappingError("no pre-procedure pain score (LOINC 72514-3) to compare with")
        pre = max(baseline)[1]
        post = _score(model)
        if pre <= 0:
            raise MappingError("pre-procedure pain score is 0: relief is undefined")
        return round(max(0.0, min(100.0, (pre - post) / pre * 100)), 1)

    def _sibling_function(self, model: Any, procedure_event_id: str) -> bool:
        return (procedure_event_id, _effective(model)) in self.functional

    def _prepare_observations(self, models: list[tuple[Entry, Any]]) -> None:
        """Pain scores (date, score, procedure event id) and functional-improvement
        observations (procedure event id, date), once the procedures are mapped."""
        self.pain_scores: list[tuple[date, float, str]] = []
        self.functional: set[tuple[str, date]] = set()
        for _, model in models:
            if model.get_resource_type() != "Observation":
                continue
            if model.status not in DONE_OBSERVATION:
                continue
            codes = {(c.system, c.code) for c in model.code.coding or []}
            try:
                patient_id = self._patient(model.subject)
                target = self._linked_procedure(model, patient_id)
                if (LOINC_SYSTEM, PAIN_SCORE_LOINC) in codes:
                    self.pain_scores.append((_effective(model), _score(model), target[1]))
                elif (OUTCOME_SYSTEM, FUNCTION_CODE) in codes and model.valueBoolean:
                    self.functional.add((target[1], _effective(model)))
            except MappingError:
                continue  # reported when the observation itself is mapped

    # -- Claims and EOBs

    def _explanationofbenefit(self, entry: Entry, model: Any, result: Mapping) -> None:
        self._claim_lines(entry, model, result)

    def _claim(self, entry: Entry, model: Any, result: Mapping) -> None:
        answered = self.answered_claims.get(f"Claim/{model.id}")
        if answered is not None:
            raise MappingError(f"answered by {answered}, which is imported instead")
        self._claim_lines(entry, model, result)

    def _claim_lines(self, entry: Entry, model: Any, result: Mapping) -> None:
        patient_id = self._patient(model.patient)
        if model.status in VOIDING_CLAIM:
            self._void_all(entry, model, patient_id, model.status, result)
            return
        if model.status != "active":
            raise MappingError(f"unsupported status {model.status} (only active claims)")
        groups: dict[date, list[Any]] = {}
        undated = 0
        for item in model.item or []:
            served = clinical_date(item.servicedDate)
            if served is None and item.servicedPeriod is not None:
                served = clinical_date(item.servicedPeriod.start)
            if served is None:
                undated += 1
                continue
            groups.setdefault(served, []).append(item)
        if not groups:
            raise MappingError(
                "no date: no item has servicedDate or servicedPeriod.start"
                if undated
                else "no items"
            )
        provider = _provider([model.provider])
        new_ids: set[str] = set()
        lines: list[dict[str, Any]] = []
        problems: list[str] = []
        for served, items in sorted(groups.items()):
            try:
                line = self._claim_group(model, patient_id, served, items)
            except MappingError as exc:
                problems.append(f"{served}: {exc.reason}")
                continue
            if provider:
                line["provider_id"] = provider
            new_ids.add(line["event_id"])
            lines.append(line)
        self._supersede(entry, model, patient_id, new_ids, result)
        for line in lines:
            result.events.append(Mapped(entry.source, entry.label, line))
        if problems:
            raise MappingError("; ".join(problems))

    def _claim_group(
        self, model: Any, patient_id: str, served: date, items: list[Any]
    ) -> dict[str, Any] | None:
        codes: list[dict[str, Any]] = []
        for item in sorted(items, key=lambda i: i.sequence or 0):
            try:
                (code,) = billed_codes([item.productOrService])[:1]
            except MappingError:
                continue  # drugs, imaging guidance, visits on the same claim
            units = int(item.quantity.value) if item.quantity and item.quantity.value else 1
            codes.append({"cpt": code, "units": max(1, units)})
        if not codes:
            raise MappingError("unknown code: no item code is in the procedure catalog")
        primary = next(
            (c["cpt"] for c in codes if not CATALOG[c["cpt"]].is_add_on), codes[0]["cpt"]
        )
        for reference, (patient, _, dos) in self.procedures.items():
            if (
                patient == patient_id
                and dos == served
                and primary in self.procedure_codes.get(reference, ())
            ):
                raise MappingError(f"already imported as {reference}")
        sites = [
            s for i in items for s in ([i.bodySite] if i.bodySite else []) + list(i.subSite or [])
        ]
        levels = levels_from_body_sites(sites)
        region = region_of(body_sites=sites, levels=levels, codes=[c["cpt"] for c in codes])
        laterality = laterality_from_modifiers([m for i in items for m in i.modifier or []])
        line: dict[str, Any] = {
            "type": "procedure_performed",
            "event_id": event_id(model, served.isoformat()),
            "patient_id": patient_id,
            "date_of_service": served.isoformat(),
            "region": region.value,
            "codes": codes,
        }
        if laterality is not None:
            line["laterality"] = laterality.value
        if levels:
            line["levels"] = levels
        return line


def _version_key(model: Any) -> tuple[int, str]:
    version = _identity(model)[2]
    return (int(version), version) if version.isdigit() else (0, version)


def _superseded(old: tuple[Entry, Any], newer: Any) -> NotImported:
    entry, model = old
    return NotImported(
        entry.source,
        entry.label,
        f"version {_identity(model)[2]} superseded by version {_identity(newer)[2]} in the same input",
    )


def _provider(references: Iterable[Any]) -> str | None:
    for reference in references:
        if reference is None:
            continue
        if reference.identifier is not None and reference.identifier.value:
            return str(reference.identifier.value)[:128]
        if reference.reference:
            return reference.reference.rstrip("/").split("/")[-1][:128]
    return None


def _effective(model: Any) -> date:
    found = clinical_date(model.effectiveDateTime)
    if found is None and model.effectivePeriod is not None:
        found = clinical_date(model.effectivePeriod.start)
    if found is None:
        found = clinical_date(model.issued)
    if found is None:
        raise MappingError("no date: no effectiveDateTime, effectivePeriod.start or issued")
    return found


def _percent(model: Any) -> float:
    quantity = model.valueQuantity
    if quantity is None or quantity.value is None:
        raise MappingError("no value: percent relief needs valueQuantity")
    if quantity.system not in (None, UCUM_SYSTEM) or (quantity.code or quantity.unit) != "%":
        raise MappingError("wrong unit: percent relief is a UCUM '%' quantity")
    value = float(quantity.value)
    if not 0 <= value <= 100:
        raise MappingError(f"percent relief {value} is outside 0-100")
    return value


def _functional(model: Any) -> bool:
    for component in model.component or []:
        for coding in component.code.coding or []:
            if coding.system == OUTCOME_SYSTEM and coding.code == FUNCTION_CODE:
                return bool(component.valueBoolean)
    return False


def _score(model: Any) -> float:
    if model.valueInteger is not None:
        value = float(model.valueInteger)
    elif model.valueQuantity is not None and model.valueQuantity.value is not None:
        value = float(model.valueQuantity.value)
    else:
        raise MappingError("no value: a pain score needs valueInteger or valueQuantity")
    if not 0 <= value <= 10:
        raise MappingError(f"pain score {value} is outside 0-10")
    return value


def iter_lines(mapping: Mapping) -> Iterator[str]:
    for mapped in mapping.events:
        yield json.dumps(mapped.line, separators=(",", ":"))
