"""The event store application: validated, idempotent, all-or-nothing batch ingestion and
bitemporal reads of a patient's streams.

One :class:`InjectionLedger` (an eventsourcing ``Application``) per process. A batch is
validated as a whole against the patients' ledgers, then every touched aggregate is saved in
one ``app.save(...)`` call, which the library commits as one transaction. A version conflict
(another writer got there first) re-runs the whole batch against fresh state.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from adapters.transcodings import register_all
from domain.catalog import CatalogError, Region, classify
from domain.commands import (
    EventCommand,
    RecordPathology,
    RecordProcedure,
    RecordSurgery,
    ReportOutcome,
)
from domain.errors import EventIdConflict, FieldError, InvalidInput, WriteContention
from domain.events import (
    EVENT_TYPES,
    LedgerEntry,
    PatientLedger,
    PatientRegion,
    RecordedEvent,
    patient_ledger_id,
    patient_region_id,
)

Clock = Callable[[], datetime]
_T = TypeVar("_T")

REGIONS: tuple[Region, ...] = (Region.CERVICAL, Region.THORACIC, Region.LUMBAR)
FUTURE_GRACE = timedelta(days=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def fingerprint(payload: dict[str, Any]) -> str:
    """Content hash of a client event, defaults filled in, key order ignored."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IngestResult:
    event_id: str
    status: str  # "recorded" | "duplicate"


@dataclass
class _PatientWork:
    """The pending writes of one patient within a batch."""

    ledger: PatientLedger | None
    entries: dict[str, LedgerEntry] = field(default_factory=dict)  # accepted in this batch
    voided_by: dict[str, str] = field(default_factory=dict)
    regions: dict[str, list[tuple[type[Aggregate.Event], dict[str, Any]]]] = field(
        default_factory=dict
    )

    def known(self, event_id: str) -> LedgerEntry | None:
        if event_id in self.entries:
            return self.entries[event_id]
        if self.ledger is not None:
            return self.ledger.entries.get(event_id)
        return None

    def voided(self, event_id: str) -> str | None:
        if event_id in self.voided_by:
            return self.voided_by[event_id]
        if self.ledger is not None:
            return self.ledger.voided_by.get(event_id)
        return None


class InjectionLedger(Application[UUID]):
    """The event store of patient-region streams."""

    name = "InjectionLedger"

    def __init__(
        self, env: dict[str, str] | None = None, clock: Clock = utc_now, write_retries: int = 20
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.write_retries = write_retries
        # The library deep-copies a cached aggregate outside the lock under which another
        # thread fast-forwards that same object, so concurrent reads of one aggregate crash
        # ("dictionary changed size during iteration"). Reads of one aggregate take turns.
        self._read_locks = tuple(threading.Lock() for _ in range(64))
        # The store serialises writes anyway (SQLite's writer lock, the PostgreSQL table
        # lock); letting this process's threads validate and save one batch at a time stops
        # them failing each other's optimistic version checks until the retries run out.
        # Conflicts with other processes are still retried below.
        self._write_lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    # ------------------------------------------------------------------ writing

    def record_batch(self, events: Sequence[EventCommand]) -> list[IngestResult]:
        """Validate and store a batch, all or nothing. Raises :class:`InvalidInput`,
        :class:`EventIdConflict` or :class:`WriteContention` (retryable)."""
        return self._retrying(lambda: self._record_once(events))

    def _retrying(self, attempt_once: Callable[[], _T]) -> _T:
        """Run one validate-and-save attempt under this process's write lock, re-running it
        on the library's version conflict (another process wrote the same aggregates first)
        until ``write_retries`` is spent; then :class:`WriteContention` (503, retryable)."""
        attempt = 0
        while True:
            try:
                with self._write_lock:
                    return attempt_once()
            except IntegrityError:
                attempt += 1
                if attempt > self.write_retries:
                    raise WriteContention(
                        "concurrent writes to the same patients kept conflicting; "
                        "nothing was stored, retry the request"
                    ) from None
                time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))

    def _record_once(self, events: Sequence[EventCommand]) -> list[IngestResult]:
        today = self.clock().astimezone(UTC).date()
        latest_allowed = today + FUTURE_GRACE
        work: dict[str, _PatientWork] = {}
        errors: list[FieldError] = []
        conflicts: list[FieldError] = []
        results: list[IngestResult] = []

        for index, event in enumerate(events):
            patient = work.get(event.patient_id)
            if patient is None:
                patient = work[event.patient_id] = _PatientWork(self._ledger(event.patient_id))
            print_ = fingerprint(event.payload())
            existing = patient.known(event.event_id)
            if existing is not None:
                if existing.fingerprint == print_:
                    results.append(IngestResult(event.event_id, "duplicate"))
                else:
                    conflicts.append(
                        FieldError(
                            "event_id",
                            f"event_id {event.event_id!r} already names an event of this patient "
                            "with different content",
                            index,
                            event.event_id,
                        )
                    )
                continue
            try:
                region, event_class, fields_, entry = self._validate(
                    event, patient, print_, latest_allowed
                )
            except CatalogError as exc:
                errors.append(FieldError(exc.field, exc.message, index, event.event_id))
                continue
            except _Invalid as exc:
                errors.append(FieldError(exc.field, exc.message, index, event.event_id))
                continue
            patient.entries[event.event_id] = entry
            if entry.voided_event_id is not None:
                patient.voided_by[entry.voided_event_id] = event.event_id
            patient.regions.setdefault(region, []).append((event_class, fields_))
            results.append(IngestResult(event.event_id, "recorded"))

        if errors:
            raise InvalidInput(errors)
        if conflicts:
            raise EventIdConflict(conflicts)

        recorded_at = self.clock()
        aggregates: list[Aggregate] = []
        for patient_id, patient in work.items():
            if not patient.entries:
                continue
            ledger = patient.ledger or PatientLedger.open(patient_id, recorded_at)
            ledger.accept(list(patient.entries.values()), recorded_at)
            aggregates.append(ledger)
            for region, pending in patient.regions.items():
                stream = self._region(patient_id, Region(region))
                if stream is None:
                    stream = PatientRegion.open(patient_id, Region(region), recorded_at)
                for event_class, fields_ in pending:
                    stream.record(event_class, recorded_at, **fields_)
                aggregates.append(stream)
        if aggregates:
            self.save(*aggregates)
        return results

    def _validate(
        self, event: EventCommand, patient: _PatientWork, print_: str, latest_allowed: date
    ) -> tuple[str, type[Aggregate.Event], dict[str, Any], LedgerEntry]:
        base = {"event_id": event.event_id, "fingerprint": print_}
        if isinstance(event, RecordProcedure):
            proc = event.procedure
            _not_future("date_of_service", proc.date_of_service, latest_allowed)
            indication = proc.indication.value if proc.indication else None
            kind = classify([c.cpt for c in proc.codes], proc.region, indication)
            approach = proc.approach.value if proc.approach else kind.approach
            fields_ = base | {
                "date_of_service": proc.date_of_service,
                "codes": list(proc.codes),
                "family": kind.family.value,
                "intent": proc.intent.value,
                "laterality": proc.laterality.value if proc.laterality else None,
                "levels": list(proc.levels),
                "agent": proc.agent.value if proc.agent else None,
                "indication": indication,
                "approach": approach,
                "device_type": proc.device_type,
                "authorization_id": event.authorization_id,
                "provider_id": event.provider_id,
            }
            entry = LedgerEntry(
                event.event_id,
                event.type,
                proc.region.value,
                print_,
                date_of_service=proc.date_of_service,
            )
            return proc.region.value, PatientRegion.ProcedurePerformed, fields_, entry
        if isinstance(event, ReportOutcome):
            _not_future("assessed_on", event.assessed_on, latest_allowed)
            target = patient.known(event.procedure_event_id)
            if target is None or target.type != "procedure_performed":
                what = "no event" if target is None else f"a {target.type} event"
                raise _Invalid(
                    "procedure_event_id",
                    f"{event.procedure_event_id!r} names {what} of this patient, "
                    "not a recorded procedure",
                )
            assert target.date_of_service is not None
            if event.assessed_on < target.date_of_service:
                raise _Invalid(
                    "assessed_on",
                    f"assessed_on {event.assessed_on} is before the procedure's date of "
                    f"service {target.date_of_service}",
                )
            fields_ = base | {
                "procedure_event_id": event.procedure_event_id,
                "assessed_on": event.assessed_on,
                "pain_relief_percent": float(event.pain_relief_percent),
                "functional_improvement": event.functional_improvement,
            }
            entry = LedgerEntry(event.event_id, event.type, target.region, print_)
            return target.region, PatientRegion.OutcomeReported, fields_, entry
        if isinstance(event, RecordSurgery):
            _not_future("date", event.date, latest_allowed)
            fields_ = base | {
                "date": event.date,
                "levels": list(event.levels),
                "kind": event.kind.value if event.kind else None,
            }
            entry = LedgerEntry(event.event_id, event.type, event.region.value, print_)
            return event.region.value, PatientRegion.SurgeryPerformed, fields_, entry
        if isinstance(event, RecordPathology):
            _not_future("date", event.date, latest_allowed)
            fields_ = base | {"date": event.date, "icd10": event.icd10}
            entry = LedgerEntry(event.event_id, event.type, event.region.value, print_)
            return event.region.value, PatientRegion.PathologyDiagnosed, fields_, entry
        # VoidEvent
        target = patient.known(event.voided_event_id)
        if target is None:
            raise _Invalid(
                "voided_event_id",
                f"{event.voided_event_id!r} names no event of this patient",
            )
        if target.type == "event_voided":
            raise _Invalid("voided_event_id", "a void cannot be voided")
        if target.type.startswith("authorization_"):
            raise _Invalid("voided_event_id", "authorization records cannot be voided")
        earlier = patient.voided(event.voided_event_id)
        if earlier is not None:
            raise _Invalid(
                "voided_event_id",
                f"{event.voided_event_id!r} is already voided by {earlier!r}",
            )
        fields_ = base | {"voided_event_id": event.voided_event_id, "reason": event.reason}
        entry = LedgerEntry(
            event.event_id, event.type, target.region, print_, voided_event_id=event.voided_event_id
        )
        return target.region, PatientRegion.EventVoided, fields_, entry

    def record_authorization(
        self,
        patient_id: str,
        region: Region,
        requested: dict[str, Any],
        decided: dict[str, Any],
    ) -> bool:
        """Store an authorization request and its decision together, once per
        ``authorization_id``. Returns False when that id was already recorded (nothing is
        written). Retries version conflicts like :meth:`record_batch`."""
        return self._retrying(
            lambda: self._record_authorization_once(patient_id, region, requested, decided)
        )

    def _record_authorization_once(
        self,
        patient_id: str,
        region: Region,
        requested: dict[str, Any],
        decided: dict[str, Any],
    ) -> bool:
        authorization_id = requested["authorization_id"]
        ledger = self._ledger(patient_id)
        if ledger is not None and self.authorization_key(authorization_id) in ledger.entries:
            return False
        recorded_at = self.clock()
        ledger = ledger or PatientLedger.open(patient_id, recorded_at)
        stream = self._region(patient_id, region) or PatientRegion.open(
            patient_id, region, recorded_at
        )
        req_fields = {
            "event_id": self.authorization_key(authorization_id),
            "fingerprint": fingerprint(requested.get("request", {})),
        } | requested
        dec_fields = {
            "event_id": self.authorization_key(authorization_id) + "/decision",
            "fingerprint": req_fields["fingerprint"],
        } | decided
        stream.record(PatientRegion.AuthorizationRequested, recorded_at, **req_fields)
        stream.record(PatientRegion.AuthorizationDecided, recorded_at, **dec_fields)
        ledger.accept(
            [
                LedgerEntry(
                    req_fields["event_id"],
                    "authorization_requested",
                    region.value,
                    req_fields["fingerprint"],
                ),
                LedgerEntry(
                    dec_fields["event_id"],
                    "authorization_decided",
                    region.value,
                    dec_fields["fingerprint"],
                ),
            ],
            recorded_at,
        )
        self.save(ledger, stream)
        return True

    def record_authorizations(
        self,
        patient_id: str,
        items: Sequence[tuple[Region, dict[str, Any], dict[str, Any]]],
    ) -> list[bool]:
        """Store several authorization requests of one patient with their decisions (each
        ``(region, requested, decided)`` as in :meth:`record_authorization`) in one
        transaction. Returns, per item, False when its id was already recorded (then it is
        skipped). Retries version conflicts like :meth:`record_batch`."""
        return self._retrying(lambda: self._record_authorizations_once(patient_id, items))

    def _record_authorizations_once(
        self,
        patient_id: str,
        items: Sequence[tuple[Region, dict[str, Any], dict[str, Any]]],
    ) -> list[bool]:
        ledger = self._ledger(patient_id)
        recorded_at = self.clock()
        streams: dict[Region, PatientRegion] = {}
        entries: list[LedgerEntry] = []
        done: list[bool] = []
        seen: set[str] = set()
        for region, requested, decided in items:
            key = self.authorization_key(requested["authorization_id"])
            if key in seen or (ledger is not None and key in ledger.entries):
                done.append(False)
                continue
            seen.add(key)
            stream = streams.get(region)
            if stream is None:
                stream = streams[region] = self._region(patient_id, region) or PatientRegion.open(
                    patient_id, region, recorded_at
                )
            print_ = fingerprint(requested.get("request", {}))
            req_fields = {"event_id": key, "fingerprint": print_} | requested
            dec_fields = {"event_id": key + "/decision", "fingerprint": print_} | decided
            stream.record(PatientRegion.AuthorizationRequested, recorded_at, **req_fields)
            stream.record(PatientRegion.AuthorizationDecided, recorded_at, **dec_fields)
            entries += [
                LedgerEntry(key, "authorization_requested", region.value, print_),
                LedgerEntry(key + "/decision", "authorization_decided", region.value, print_),
            ]
            done.append(True)
        if entries:
            ledger = ledger or PatientLedger.open(patient_id, recorded_at)
            ledger.accept(entries, recorded_at)
            self.save(ledger, *streams.values())
        return done

    @staticmethod
    def authorization_key(authorization_id: str) -> str:
        """The ledger key of an authorization (kept apart from client event ids)."""
        return f"authorization:{authorization_id}"

    def find_authorization(
        self, patient_id: str, authorization_id: str
    ) -> PatientRegion.AuthorizationDecided | None:
        """The recorded decision of an authorization id, if any."""
        ledger = self._ledger(patient_id)
        key = self.authorization_key(authorization_id)
        if ledger is None or key not in ledger.entries:
            return None
        region = ledger.entries[key].region
        for event in self.events.get(patient_region_id(patient_id, region)):
            if (
                isinstance(event, PatientRegion.AuthorizationDecided)
                and event.authorization_id == authorization_id
            ):
                return event
        return None

    # ------------------------------------------------------------------ reading

    def _get(self, aggregate_id: UUID) -> Any:
        """A private copy of the aggregate, or None when it has no events yet."""
        with self._read_locks[aggregate_id.int % len(self._read_locks)]:
            try:
                cached = self.repository.get(aggregate_id, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                return None
            return _working_copy(cached)

    def _ledger(self, patient_id: str) -> PatientLedger | None:
        ledger: PatientLedger | None = self._get(patient_ledger_id(patient_id))
        return ledger

    def _region(self, patient_id: str, region: Region) -> PatientRegion | None:
        stream: PatientRegion | None = self._get(patient_region_id(patient_id, region))
        return stream

    def patient_events(
        self,
        patient_id: str,
        as_of: datetime | None = None,
        regions: Iterable[Region] = REGIONS,
    ) -> list[RecordedEvent]:
        """Every region event of the patient (all regions unless narrowed), as known at
        ``as_of`` (recorded at or before it), stream by stream in version order."""
        out: list[RecordedEvent] = []
        for region in regions:
            for event in self.events.get(patient_region_id(patient_id, region)):
                if type(event) not in EVENT_TYPES:
                    continue
                if as_of is not None and event.timestamp > as_of:
                    break
                out.append(RecordedEvent(patient_id, region.value, event))
        return out

    def recording_order(self, patient_id: str, as_of: datetime | None = None) -> list[str]:
        """Event ids of the patient in the order they were accepted (the ledger's order)."""
        order: list[str] = []
        for event in self.events.get(patient_ledger_id(patient_id)):
            if as_of is not None and event.timestamp > as_of:
                break
            if isinstance(event, PatientLedger.EventsAccepted):
                order.extend(entry.event_id for entry in event.entries)
        return order


def _working_copy(aggregate: Aggregate) -> Aggregate:
    """A copy of a cached aggregate that events may be triggered on without touching the
    cache. Ours hold only immutable values (str, dates, frozen dataclasses) in flat dicts,
    sets and lists, so copying the containers is a full copy; the library's generic deepcopy
    rebuilt every ledger entry and made each batch O(patient history) in Python objects."""
    if not isinstance(aggregate, (PatientLedger, PatientRegion)):
        return copy.deepcopy(aggregate)
    clone = object.__new__(type(aggregate))
    clone.__dict__.update(
        {
            name: copy.copy(value) if isinstance(value, (dict, set, list)) else value
            for name, value in vars(aggregate).items()
        }
    )
    return clone


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _not_future(field_name: str, value: date, latest_allowed: date) -> None:
    if value > latest_allowed:
        raise _Invalid(
            field_name,
            f"{value} is in the future (latest accepted is {latest_allowed}, "
            "today in UTC plus one day of grace)",
        )
