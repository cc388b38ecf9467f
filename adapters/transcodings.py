"""JSON transcodings for the value types carried on events, and the transcoder that reads
stored events.

The library's JSON transcoder knows only UUID, Decimal and datetime; clinical dates and the
small value objects on events need these. Applications register them all via
:func:`register_all`. :class:`OrjsonTranscoder` is the library's transcoder with a faster
decoder (the same values from the same bytes).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
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


# orjson reads an integer beyond 64 bits as the nearest float (the library's decoder keeps
# the int): every such float is at least this large, so a state holding one is left to the
# library's decoder.
_LARGE = float(2**63)


ORJSON_MAX_BYTES = 2048
"""Larger payloads go to the library's decoder: the walk over every parsed value in Python
costs more than it saves once a payload is mostly arrays of plain values (a ledger's
compact rows: 2-2.5x slower above 2 KiB), while region events (0.3-1 KiB) decode faster
through orjson (measured on a 30,000-event patient's stored events)."""


class _Undecided(Exception):
    """The fast path cannot tell the library's answer: ask the library's decoder."""


class OrjsonTranscoder(JSONTranscoder):
    """The library's JSON transcoder, decoding with orjson.

    Encoding is the library's own (the same bytes). Decoding gives exactly the values the
    library's decoder gives for the same bytes: orjson parses the JSON, then every object,
    innermost first as the library's ``object_hook`` sees them, that is exactly
    ``{"_type_": name, "_data_": data}`` becomes the registered transcoding's
    ``decode(data)``. Whatever orjson refuses or might read differently (``NaN`` and
    ``Infinity``, integers beyond 64 bits, lone surrogates, anything but ``bytes``) and
    any error on the way goes to the library's decoder, which answers (or raises) as it
    always did; so do payloads over :data:`ORJSON_MAX_BYTES`."""

    def decode(self, data: bytes) -> Any:
        if type(data) is bytes and len(data) <= ORJSON_MAX_BYTES:
            try:
                return self._value(orjson.loads(data))
            except Exception:
                pass  # the library's decoder answers, or raises its own error
        return super().decode(data)

    def _value(self, value: Any) -> Any:
        """``value`` as the library's decoder reads it (containers converted in place)."""
        kind = type(value)
        if kind is dict:
            return self._object(value)
        if kind is list:
            for index, item in enumerate(value):
                inner = type(item)
                if not (inner is str or inner is int or inner is bool or item is None):
                    value[index] = self._value(item)
        elif kind is float and not -_LARGE < value < _LARGE:
            raise _Undecided
        return value

    def _object(self, obj: dict[str, Any]) -> Any:
        for key, item in obj.items():
            kind = type(item)
            if not (kind is str or kind is int or kind is bool or item is None):
                obj[key] = self._value(item)
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self.names[obj["_type_"]].decode(obj["_data_"])
        return obj
