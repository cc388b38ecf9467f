"""Builders of client events (the JSON ``POST /v1/events`` takes) and store probes.

Each builder returns a plain dict with sensible defaults; keyword arguments override or add
fields, and ``None`` removes one (``procedure(region=None)`` sends no region). The same dicts
feed the HTTP API (``{"events": [...]}``) and, through :func:`parse`, the ledger directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import TypeAdapter

from api.schemas.events import EventBatchIn
from domain.commands import EventCommand

DEFAULT_PATIENT = "p-001"


def _event(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = base | overrides
    return {k: v for k, v in merged.items() if v is not None}


def _iso(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _code(code: str | tuple[str, int] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(code, str):
        return {"cpt": code}
    if isinstance(code, tuple):
        return {"cpt": code[0], "units": code[1]}
    return code


def procedure(
    event_id: str = "proc-1",
    *,
    on: date | str = "2025-03-03",
    region: str | None = "lumbar",
    codes: Sequence[str | tuple[str, int] | dict[str, Any]] = ("64483",),
    patient_id: str = DEFAULT_PATIENT,
    **fields: Any,
) -> dict[str, Any]:
    """A ``procedure_performed``; codes are ``"64483"``, ``("64484", 2)`` (cpt, units) or a
    raw dict sent as is."""
    billed = [_code(c) for c in codes]
    return _event(
        {
            "type": "procedure_performed",
            "event_id": event_id,
            "patient_id": patient_id,
            "date_of_service": _iso(on),
            "region": region,
            "codes": billed,
        },
        fields,
    )


def outcome(
    event_id: str = "out-1",
    *,
    of: str = "proc-1",
    on: date | str = "2025-03-05",
    relief: float = 60,
    patient_id: str = DEFAULT_PATIENT,
    **fields: Any,
) -> dict[str, Any]:
    """An ``outcome_reported`` of procedure ``of``, assessed ``on``."""
    return _event(
        {
            "type": "outcome_reported",
            "event_id": event_id,
            "patient_id": patient_id,
            "procedure_event_id": of,
            "assessed_on": _iso(on),
            "pain_relief_percent": relief,
        },
        fields,
    )


def surgery(
    event_id: str = "surg-1",
    *,
    on: date | str = "2025-02-01",
    region: str = "lumbar",
    patient_id: str = DEFAULT_PATIENT,
    **fields: Any,
) -> dict[str, Any]:
    return _event(
        {
            "type": "surgery_performed",
            "event_id": event_id,
            "patient_id": patient_id,
            "date": _iso(on),
            "region": region,
        },
        fields,
    )


def pathology(
    event_id: str = "path-1",
    *,
    on: date | str = "2025-02-01",
    region: str = "lumbar",
    patient_id: str = DEFAULT_PATIENT,
    **fields: Any,
) -> dict[str, Any]:
    return _event(
        {
            "type": "pathology_diagnosed",
            "event_id": event_id,
            "patient_id": patient_id,
            "date": _iso(on),
            "region": region,
        },
        fields,
    )


def void(
    event_id: str = "void-1",
    *,
    of: str = "proc-1",
    reason: str = "entered in error",
    patient_id: str = DEFAULT_PATIENT,
    **fields: Any,
) -> dict[str, Any]:
    """An ``event_voided`` of event ``of``."""
    return _event(
        {
            "type": "event_voided",
            "event_id": event_id,
            "patient_id": patient_id,
            "voided_event_id": of,
            "reason": reason,
        },
        fields,
    )


_BATCH = TypeAdapter(EventBatchIn)


def parse(*events: dict[str, Any]) -> list[EventCommand]:
    """The commands these events become, validated as the API validates a request."""
    return _BATCH.validate_python({"events": list(events)}).to_commands()
