"""JSON transcodings for the value types carried on events.

The library's JSON transcoder knows only UUID, Decimal and datetime; clinical dates and the
small value objects on events need these. Applications register them all via
:func:`register_all`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.events import BilledCode, LedgerEntry


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class BilledCodeAsDict(Transcoding):
    type = BilledCode
    name = "billed_code"

    def encode(self, obj: BilledCode) -> dict[str, Any]:
        return {"cpt": obj.cpt, "units": obj.units}

    def decode(self, data: dict[str, Any]) -> BilledCode:
        return BilledCode(cpt=data["cpt"], units=data["units"])


class LedgerEntryAsDict(Transcoding):
    type = LedgerEntry
    name = "ledger_entry"

    def encode(self, obj: LedgerEntry) -> dict[str, Any]:
        return {
            "event_id": obj.event_id,
            "type": obj.type,
            "region": obj.region,
            "fingerprint": obj.fingerprint,
            "date_of_service": obj.date_of_service,
            "voided_event_id": obj.voided_event_id,
        }

    def decode(self, data: dict[str, Any]) -> LedgerEntry:
        return LedgerEntry(**data)


def register_all(transcoder: JSONTranscoder) -> None:
    for transcoding in (DateAsISO(), BilledCodeAsDict(), LedgerEntryAsDict()):
        transcoder.register(transcoding)
