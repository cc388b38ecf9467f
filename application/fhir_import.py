"""FHIR R4 import: map the resources (:mod:`interop.fhir.resources`), then record the events
through the bulk import (:mod:`application.bulk_import`), so FHIR data gets exactly the
validation, ordering, idempotency and rejection reporting of a JSONL import."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from application.bulk_import import Importer, ImportSummary, Parser, Rejection, TrackerTarget
from interop.fhir.mapping import PatientIdentityRule
from interop.fhir.resources import Entry, FhirMapper, NotImported, iter_lines


@dataclass
class FhirImportResult:
    """What became of every clinical resource: the events stored (with their source) and
    every resource or event not imported, with why."""

    summary: ImportSummary
    imported: list[dict[str, str]] = field(default_factory=list)
    not_imported: list[NotImported] = field(default_factory=list)
    resources_used: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary.as_json(),
            "imported": self.imported,
            "not_imported": [n.as_json() for n in self.not_imported],
            "resources_used": self.resources_used,
        }


def stored_ids(tracker: Any) -> Callable[[str], tuple[set[str], set[str]]]:
    """What the store holds of a patient: its event ids and the ids voided."""

    def read(patient_id: str) -> tuple[set[str], set[str]]:
        ids: set[str] = set()
        voided: set[str] = set()
        for recorded in tracker.ledger.patient_events(patient_id):
            event = recorded.event
            ids.add(event.event_id)
            target = getattr(event, "voided_event_id", None)
            if target is not None:
                voided.add(target)
        return ids, voided

    return read


def import_fhir(
    tracker: Any,
    entries: Iterable[Entry],
    *,
    identity: PatientIdentityRule,
    parse: Parser,
    present: Callable[[Any], dict[str, Any]],
    batch_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
) -> FhirImportResult:
    """Map and import; nothing about the input stops it except an unreadable source."""
    mapping = FhirMapper(identity, stored_ids(tracker)).map(entries)
    result = FhirImportResult(ImportSummary(), resources_used=mapping.used)
    result.not_imported.extend(mapping.not_imported)
    handle, name = tempfile.mkstemp(prefix="injtrack-fhir-", suffix=".jsonl")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for text in iter_lines(mapping):
                out.write(text + "\n")

        def rejected(rejection: Rejection) -> None:
            mapped = mapping.events[rejection.line - 1]
            reasons = "; ".join(f"{r.field}: {r.message}" for r in rejection.reasons)
            status = "conflict" if rejection.status == 409 else "invalid"
            result.not_imported.append(
                NotImported(mapped.source, mapped.resource, f"{status}: {reasons}")
            )

        def stored(line: int, status: str) -> None:
            mapped = mapping.events[line - 1]
            result.imported.append(
                {
                    "source": mapped.source,
                    "resource": mapped.resource,
                    "type": mapped.line["type"],
                    "event_id": mapped.line["event_id"],
                    "patient_id": mapped.line["patient_id"],
                    "status": status,
                }
            )

        importer = Importer(
            TrackerTarget(tracker, present),
            parse,
            batch_size=batch_size,
            on_reject=rejected,
            on_progress=on_progress,
            on_stored=stored,
        )
        result.summary = importer.run(path)
    finally:
        path.unlink(missing_ok=True)
    result.imported.sort(key=lambda item: item["source"])
    return result
