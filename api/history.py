"""A patient's history as it was known at an instant: the auditor's view."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from api.ledger import REGIONS, InjectionLedger
from domain.catalog import Region
from domain.events import BOOKKEEPING_FIELDS, EVENT_TYPES, PatientRegion


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def event_fields(event: Any) -> dict[str, Any]:
    """The clinical fields of an event (no bookkeeping, no event_id), JSON-ready."""
    return {
        name: _plain(value)
        for name, value in vars(event).items()
        if name not in BOOKKEEPING_FIELDS and name != "event_id"
    }


def history(
    ledger: InjectionLedger,
    patient_id: str,
    as_of: datetime | None = None,
    region: Region | None = None,
) -> list[dict[str, Any]]:
    """The patient's events in recording order, each with type, event_id, region, fields,
    ``recorded_at`` and ``voided_by`` (a void recorded by ``as_of``)."""
    regions = (region,) if region is not None else REGIONS
    # Voids may sit in another region than what they void: look at every region for them.
    recorded = ledger.patient_events(patient_id, as_of=as_of)
    voided_by = {
        r.event.voided_event_id: r.event.event_id
        for r in recorded
        if isinstance(r.event, PatientRegion.EventVoided)
    }
    wanted = {r.value for r in regions}
    by_id = {r.event.event_id: r for r in recorded if r.region in wanted}
    items: list[dict[str, Any]] = []
    for event_id in ledger.recording_order(patient_id, as_of=as_of):
        r = by_id.get(event_id)
        if r is None:
            continue
        items.append(
            {
                "type": EVENT_TYPES[type(r.event)],
                "event_id": event_id,
                "region": r.region,
                "recorded_at": r.event.timestamp,
                "voided_by": voided_by.get(event_id),
                "fields": event_fields(r.event),
            }
        )
    return items
