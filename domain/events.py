"""The patient-region aggregate, the patient ledger, and their immutable events.

Every clinical fact lives on a :class:`PatientRegion` stream, one per (patient, spinal region),
whose id is a uuid5 of both so every writer finds the same stream. Each event carries its
clinical date (date of service, assessment date or date) as data; the library's event
``timestamp`` is the instant it was recorded, used only to read history ``as_of``.

The :class:`PatientLedger` is the patient's index of accepted event ids: every batch that
touches a patient appends to it in the same transaction as the region events, so an event id
is unique per patient across regions even when two writers race (the second gets the
library's version conflict and retries).

Every aggregate and event class has an explicit stable ``TOPIC`` so that renaming or moving a
class never breaks replay. Apply methods only assign fields: decisions are made before an
event is triggered.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.catalog import Region

NAMESPACE = uuid.UUID("6f1b2f0e-5a4c-4f7e-9c1e-0d7f3b2a9e11")


def patient_region_id(patient_id: str, region: Region | str) -> uuid.UUID:
    """The deterministic id of a patient-region stream."""
    return uuid.uuid5(NAMESPACE, f"patient-region/{patient_id}/{Region(region).value}")


def patient_ledger_id(patient_id: str) -> uuid.UUID:
    """The deterministic id of a patient's ledger index."""
    return uuid.uuid5(NAMESPACE, f"patient-ledger/{patient_id}")


@dataclass(frozen=True, slots=True)
class StreamIds:
    """How a patient's stream ids are derived from the patient id, so every writer finds the
    same streams. Without a secret: uuid5 under the public :data:`NAMESPACE` (anyone holding
    a patient id can compute them). With a secret (configured beside the cipher key): the
    first 128 bits of HMAC-SHA256 keyed with it, so the stored ids cannot be recomputed, or
    matched to a guessed patient id, without the secret."""

    secret: bytes | None = field(default=None, repr=False)

    def _derive(self, name: str) -> uuid.UUID:
        return _derive(self.secret, name)

    def region(self, patient_id: str, region: Region | str) -> uuid.UUID:
        return self._derive(f"patient-region/{patient_id}/{Region(region).value}")

    def ledger(self, patient_id: str) -> uuid.UUID:
        return self._derive(f"patient-ledger/{patient_id}")


PUBLIC_STREAM_IDS = StreamIds()


@functools.lru_cache(maxsize=1 << 15)
def _derive(secret: bytes | None, name: str) -> uuid.UUID:
    """A stream id (see :class:`StreamIds`), remembered for the patients written or read
    lately: every batch derives the ids of each patient it touches."""
    if secret is None:
        return uuid.uuid5(NAMESPACE, name)
    digest = hmac.new(secret, name.encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def forget_derived_ids() -> None:
    """Empty the memo of derived stream ids (what a process finds for a patient it has not
    seen lately)."""
    _derive.cache_clear()


@dataclass(frozen=True, slots=True)
class BilledCode:
    """One CPT code on a procedure with the units billed."""

    cpt: str
    units: int = 1


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger remembers of one accepted event, enough to validate later batches
    (references, dates, voids) without loading the region streams."""

    event_id: str
    type: str
    region: str
    fingerprint: str  # the content hash, or its first FINGERPRINT_CHARS characters
    date_of_service: date | None = None  # procedures only
    voided_event_id: str | None = None  # voids only

    def same_content(self, fingerprint: str) -> bool:
        """Whether an event with this full fingerprint is this entry resent."""
        return bool(self.fingerprint) and fingerprint.startswith(self.fingerprint)


class PatientRegion(Aggregate):
    """All recorded facts about one patient in one spinal region."""

    TOPIC = "injtrack:PatientRegion"

    class Created(Aggregate.Created):
        """The patient's first event in this region was recorded."""

        TOPIC = "injtrack:PatientRegion.Created"
        patient_id: str
        region: str

    class ProcedurePerformed(Aggregate.Event):
        """A spinal interventional procedure was performed on ``date_of_service``."""

        TOPIC = "injtrack:PatientRegion.ProcedurePerformed"
        event_id: str
        fingerprint: str
        date_of_service: date
        codes: list[BilledCode]
        family: str
        intent: str
        laterality: str | None
        levels: list[str]
        agent: str | None
        indication: str | None
        approach: str | None
        device_type: str | None
        authorization_id: str | None
        # Optional and last: events stored before it existed read it as None.
        provider_id: str | None = None

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    class OutcomeReported(Aggregate.Event):
        """The outcome of a procedure was assessed on ``assessed_on``."""

        TOPIC = "injtrack:PatientRegion.OutcomeReported"
        event_id: str
        fingerprint: str
        procedure_event_id: str
        assessed_on: date
        pain_relief_percent: float
        functional_improvement: bool

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    class SurgeryPerformed(Aggregate.Event):
        """Spine surgery was performed in the region on ``date`` (starts a new episode)."""

        TOPIC = "injtrack:PatientRegion.SurgeryPerformed"
        event_id: str
        fingerprint: str
        date: date
        levels: list[str]
        kind: str | None

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    class PathologyDiagnosed(Aggregate.Event):
        """A new pathology was diagnosed in the region on ``date`` (starts a new episode)."""

        TOPIC = "injtrack:PatientRegion.PathologyDiagnosed"
        event_id: str
        fingerprint: str
        date: date
        icd10: str | None

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    class EventVoided(Aggregate.Event):
        """An earlier event was declared void; it stays in history but counts for nothing."""

        TOPIC = "injtrack:PatientRegion.EventVoided"
        event_id: str
        fingerprint: str
        voided_event_id: str
        reason: str

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    class AuthorizationRequested(Aggregate.Event):
        """A payer system asked to authorize a procedure under a policy set."""

        TOPIC = "injtrack:PatientRegion.AuthorizationRequested"
        event_id: str
        fingerprint: str
        authorization_id: str
        policy_set: str
        date_of_service: date
        codes: list[BilledCode]
        family: str
        request: dict[str, Any]

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    class AuthorizationDecided(Aggregate.Event):
        """The authorization request was decided under a named policy version."""

        TOPIC = "injtrack:PatientRegion.AuthorizationDecided"
        event_id: str
        fingerprint: str
        authorization_id: str
        decision: str
        policy: dict[str, Any]
        reasons: list[dict[str, Any]]
        next_eligible_date: date | None
        response: dict[str, Any]

        def apply(self, aggregate: PatientRegion) -> None:
            aggregate.event_ids.add(self.event_id)

    def __init__(self, patient_id: str, region: str) -> None:
        self.patient_id = patient_id
        self.region = region
        self.event_ids: set[str] = set()

    @classmethod
    def open(
        cls,
        patient_id: str,
        region: Region,
        recorded_at: datetime,
        ids: StreamIds = PUBLIC_STREAM_IDS,
    ) -> PatientRegion:
        return cls._create(
            cls.Created,
            id=ids.region(patient_id, region),
            timestamp=recorded_at,
            patient_id=patient_id,
            region=region.value,
        )

    def record(
        self, event_class: type[Aggregate.Event], recorded_at: datetime, **fields: Any
    ) -> None:
        """Append one already-validated fact, stamped with its recording instant."""
        self.trigger_event(event_class, timestamp=recorded_at, **fields)


class PatientLedger(Aggregate):
    """The patient's index of accepted event ids, across regions."""

    TOPIC = "injtrack:PatientLedger"

    class Created(Aggregate.Created):
        """The patient's first event was recorded."""

        TOPIC = "injtrack:PatientLedger.Created"
        patient_id: str

    class EventsAccepted(Aggregate.Event):
        """A batch of the patient's events was accepted into region streams."""

        TOPIC = "injtrack:PatientLedger.EventsAccepted"
        entries: list[LedgerEntry]

        def apply(self, aggregate: PatientLedger) -> None:
            aggregate.index(self.entries)

    class EventsIndexed(Aggregate.Event):
        """A batch of the patient's events was accepted into region streams (compact form:
        one row ``[event_id, type code, region code, fingerprint prefix, date of service,
        voided event id]`` per event; see :func:`entry_row`)."""

        TOPIC = "injtrack:PatientLedger.EventsIndexed"
        rows: list[list[str | None]]

        def apply(self, aggregate: PatientLedger) -> None:
            aggregate.index([entry_of_row(row) for row in self.rows])

    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self.entries: dict[str, LedgerEntry] = {}
        self.voided_by: dict[str, str] = {}
        # The version of each region stream: its Created event is 1 and every accepted
        # entry of the region is one more event on it, so writers append without reading it.
        self.region_versions: dict[str, int] = {}

    def index(self, entries: list[LedgerEntry]) -> None:
        for entry in entries:
            self.entries[entry.event_id] = entry
            if entry.voided_event_id is not None:
                self.voided_by[entry.voided_event_id] = entry.event_id
            self.region_versions[entry.region] = self.region_versions.get(entry.region, 1) + 1

    @classmethod
    def open(
        cls, patient_id: str, recorded_at: datetime, ids: StreamIds = PUBLIC_STREAM_IDS
    ) -> PatientLedger:
        return cls._create(
            cls.Created,
            id=ids.ledger(patient_id),
            timestamp=recorded_at,
            patient_id=patient_id,
        )

    def accept(self, entries: list[LedgerEntry], recorded_at: datetime) -> None:
        self.trigger_event(
            self.EventsIndexed, timestamp=recorded_at, rows=[entry_row(e) for e in entries]
        )


# One-letter codes of the compact ledger rows.
TYPE_CODES: dict[str, str] = {
    "procedure_performed": "p",
    "outcome_reported": "o",
    "surgery_performed": "s",
    "pathology_diagnosed": "d",
    "event_voided": "v",
    "authorization_requested": "q",
    "authorization_decided": "a",
}
TYPES_BY_CODE: dict[str, str] = {v: k for k, v in TYPE_CODES.items()}
REGION_CODES: dict[str, str] = {r.value: r.value[0] for r in Region}
REGIONS_BY_CODE: dict[str, str] = {v: k for k, v in REGION_CODES.items()}
# The fingerprint prefix kept in the ledger: 64 bits, compared only between two events
# with the same event id of the same patient.
FINGERPRINT_CHARS = 16


def entry_row(entry: LedgerEntry) -> list[str | None]:
    """The compact row of a ledger entry."""
    return [
        entry.event_id,
        TYPE_CODES[entry.type],
        REGION_CODES[entry.region],
        entry.fingerprint[:FINGERPRINT_CHARS],
        entry.date_of_service.isoformat() if entry.date_of_service is not None else None,
        entry.voided_event_id,
    ]


def entry_of_row(row: list[str | None]) -> LedgerEntry:
    event_id, type_code, region_code, print_, day, voided = row
    assert event_id is not None and type_code is not None and region_code is not None
    return LedgerEntry(
        event_id,
        TYPES_BY_CODE[type_code],
        REGIONS_BY_CODE[region_code],
        print_ or "",
        date_of_service=date.fromisoformat(day) if day is not None else None,
        voided_event_id=voided,
    )


# Client-visible ``type`` of each region event class, and back.
EVENT_TYPES: dict[type[Aggregate.Event], str] = {
    PatientRegion.ProcedurePerformed: "procedure_performed",
    PatientRegion.OutcomeReported: "outcome_reported",
    PatientRegion.SurgeryPerformed: "surgery_performed",
    PatientRegion.PathologyDiagnosed: "pathology_diagnosed",
    PatientRegion.EventVoided: "event_voided",
    PatientRegion.AuthorizationRequested: "authorization_requested",
    PatientRegion.AuthorizationDecided: "authorization_decided",
}
EVENT_CLASSES: dict[str, type[Aggregate.Event]] = {v: k for k, v in EVENT_TYPES.items()}

# The fields of each region event that are clinical content (not bookkeeping).
BOOKKEEPING_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "fingerprint"}
)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A region event with the stream it belongs to: the unit projections fold. The
    recording instant is ``event.timestamp``."""

    patient_id: str
    region: str
    event: Aggregate.Event
