"""The event store application: validated, idempotent, all-or-nothing batch ingestion and
bitemporal reads of a patient's streams.

One :class:`InjectionLedger` (an eventsourcing ``Application``) per process. A batch is
validated as a whole against the patients' ledgers, then every touched aggregate is saved in
one ``app.save(...)`` call, which the library commits as one transaction. A version conflict
(another writer got there first) re-runs the whole batch against fresh state.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Transcoder,
)
from eventsourcing.utils import get_topic

from adapters.pg_schema import creating_schema
from adapters.protect import StoreKeyMismatch
from adapters.streams import StreamReader
from adapters.transcodings import OrjsonTranscoder, register_all
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
    PUBLIC_STREAM_IDS,
    REGION_CODES,
    REGIONS_BY_CODE,
    LedgerEntry,
    PatientLedger,
    PatientRegion,
    RecordedEvent,
    StreamIds,
    entry_row,
)

Clock = Callable[[], datetime]
_T = TypeVar("_T")

REGIONS: tuple[Region, ...] = (Region.CERVICAL, Region.THORACIC, Region.LUMBAR)
_REGION_TOPIC = get_topic(PatientRegion)
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
    # How stored events are encoded and decoded: the library's JSON transcoder, decoding
    # with orjson (the same values from the same bytes, a third of the time). The bench's
    # ceilings use the library's own, JSONTranscoder.
    transcoder_class: type[JSONTranscoder] = OrjsonTranscoder

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Clock = utc_now,
        write_retries: int = 20,
        stream_ids: StreamIds = PUBLIC_STREAM_IDS,
    ) -> None:
        super().__init__(env=env)
        self.ids = stream_ids
        self.clock = clock
        self.write_retries = write_retries
        self.streams = StreamReader(self.recorder)
        # The store serialises writes anyway (SQLite's writer lock, the PostgreSQL table
        # lock); letting this process's threads validate and save one batch at a time stops
        # them failing each other's optimistic version checks until the retries run out.
        # Conflicts with other processes are still retried below. The ledger cache is only
        # touched under this lock.
        self._write_lock = threading.RLock()
        self._ledgers: OrderedDict[UUID, PatientLedger] = OrderedDict()
        self._ledger_cache_size = int((env or {}).get("AGGREGATE_CACHE_MAXSIZE", "10000") or 0)

    def verify_keys(self) -> None:
        """Refuse (:class:`~adapters.protect.StoreKeyMismatch`) a store this process cannot
        read correctly: the first patient ledger stored must decode with the configured
        cipher (or its absence) and its id must derive from the configured stream-id
        secret (or the public namespace). An empty store passes."""
        first = self.recorder.select_notifications(None, 1, topics=[PatientLedger.Created.TOPIC])
        if not first:
            return
        try:
            created: Any = self.mapper.to_domain_event(first[0])
            patient_id = created.patient_id
        except Exception:
            raise StoreKeyMismatch(
                "the event store cannot be decoded with the configured INJTRACK_CIPHER_KEY "
                "(a wrong key, or a store written with encryption switched the other way); "
                "refusing to start"
            ) from None
        if self.ids.ledger(patient_id) != first[0].originator_id:
            raise StoreKeyMismatch(
                "the event store's stream ids do not derive from the configured "
                "INJTRACK_STREAM_ID_SECRET (or were written without it); refusing to start"
            )

    def construct_recorder(self) -> ApplicationRecorder:
        # Several processes may open a new PostgreSQL store at once (serve's workers).
        with creating_schema(self.factory):
            return super().construct_recorder()

    def construct_transcoder(self) -> Transcoder:
        if self.env.get(self.factory.TRANSCODER_TOPIC):
            return super().construct_transcoder()  # a transcoder named in the environment
        transcoder = self.transcoder_class()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    # ------------------------------------------------------------------ writing

    def record_batch(self, events: Sequence[EventCommand]) -> list[IngestResult]:
        """Validate and store a batch, all or nothing. Raises :class:`InvalidInput`,
        :class:`EventIdConflict` or :class:`WriteContention` (retryable).

        The first attempt trusts this process's cached ledgers without reading the store:
        a ledger another process has written since is stale, and saving against it fails
        the library's version check (the attempt is re-run on fresh state). What a stale
        ledger cannot be trusted with is a refusal (a reference it does not know yet), so a
        batch refused on cached state is validated again on fresh state before answering."""
        try:
            return self._retrying(lambda: self._record_once(events, fresh=False))
        except (InvalidInput, EventIdConflict):
            return self._retrying(lambda: self._record_once(events, fresh=True))

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
                if attempt > 1:  # the first conflict may only be a stale cached ledger
                    time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))

    def _record_once(self, events: Sequence[EventCommand], fresh: bool) -> list[IngestResult]:
        today = self.clock().astimezone(UTC).date()
        latest_allowed = today + FUTURE_GRACE
        work: dict[str, _PatientWork] = {}
        errors: list[FieldError] = []
        conflicts: list[FieldError] = []
        results: list[IngestResult] = []

        ledgers = self._load_ledgers({event.patient_id for event in events}, refresh=fresh)
        for index, event in enumerate(events):
            patient = work.get(event.patient_id)
            if patient is None:
                patient = work[event.patient_id] = _PatientWork(ledgers[event.patient_id])
            print_ = fingerprint(event.payload())
            existing = patient.known(event.event_id)
            if existing is not None:
                if existing.same_content(print_):
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
        ledgers_written: list[PatientLedger] = []
        stored: list[Any] = []
        try:
            for patient_id, patient in work.items():
                if not patient.entries:
                    continue
                ledger = patient.ledger or PatientLedger.open(patient_id, recorded_at, self.ids)
                versions = dict(ledger.region_versions)  # before this batch's entries
                ledger.accept(list(patient.entries.values()), recorded_at)
                ledgers_written.append(ledger)
                stored.extend(ledger.collect_events())
                for region, pending in patient.regions.items():
                    stored.extend(
                        self._region_events(
                            patient_id, region, versions.get(region), pending, recorded_at
                        )
                    )
        except BaseException:
            # A cached ledger may have accepted entries that will not be stored.
            self._forget(patient.ledger for patient in work.values() if patient.ledger)
            raise
        self._put(stored, ledgers_written)
        return results

    def _region_events(
        self,
        patient_id: str,
        region: str,
        version: int | None,
        pending: list[tuple[type[Aggregate.Event], dict[str, Any]]],
        recorded_at: datetime,
    ) -> list[Aggregate.Event]:
        """The events appending ``pending`` to the patient's stream of a region, whose
        version the ledger counts (``None``: not yet created), built straight as the
        library's aggregate would trigger them, without loading or building the stream; a
        stale version fails the save's version check."""
        stream_id = self.ids.region(patient_id, region)
        out: list[Aggregate.Event] = []
        if version is None:
            out.append(
                PatientRegion.Created(
                    originator_topic=_REGION_TOPIC,
                    originator_id=stream_id,
                    originator_version=1,
                    timestamp=recorded_at,
                    patient_id=patient_id,
                    region=region,
                )
            )
            version = 1
        for event_class, fields_ in pending:
            version += 1
            out.append(
                event_class(
                    originator_id=stream_id,
                    originator_version=version,
                    timestamp=recorded_at,
                    **fields_,
                )
            )
        return out

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
                "intent": proc.intent.value if proc.intent else "therapeutic",
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
        return self.record_authorizations([(patient_id, region, requested, decided)])[0]

    def record_authorizations(
        self, items: Sequence[tuple[str, Region, dict[str, Any], dict[str, Any]]]
    ) -> list[bool]:
        """Store several (patient, region, request, decision) in one transaction, each once
        per ``authorization_id``: False for those already recorded (or repeated earlier in
        ``items``), which write nothing. Retries version conflicts like
        :meth:`record_batch`."""
        return self._retrying(lambda: self._record_authorizations_once(items))

    def _record_authorizations_once(
        self, items: Sequence[tuple[str, Region, dict[str, Any], dict[str, Any]]]
    ) -> list[bool]:
        recorded_at = self.clock()
        # Cached ledgers are trusted as they are: one another process has written since
        # fails the save's version check and the attempt is re-run on fresh state. What
        # they say is recorded stays recorded, so their refusals need no second look.
        ledgers = self._load_ledgers({patient_id for patient_id, *_ in items}, refresh=False)
        pending: dict[str, dict[str, list[tuple[type[Aggregate.Event], dict[str, Any]]]]] = {}
        accepted: dict[str, list[LedgerEntry]] = {}
        written: list[bool] = []
        for patient_id, region, requested, decided in items:
            ledger = ledgers[patient_id]
            key = self.authorization_key(requested["authorization_id"])
            new = accepted.setdefault(patient_id, [])
            taken = _entry(ledger, new, key)
            if taken is not None and taken.type == "authorization_requested":
                written.append(False)
                continue
            if taken is not None or _entry(ledger, new, key + "/decision") is not None:
                # Stores written before event ids were checked may hold a client event
                # named "authorization:<id>"; and "<id>/decision" names another
                # authorization's decision record. Either way the key is not free.
                raise EventIdConflict(
                    [
                        FieldError(
                            "authorization_id",
                            f"authorization_id {requested['authorization_id']!r} collides "
                            "with another record of this patient; use another id",
                        )
                    ]
                )
            req_fields = {
                "event_id": key,
                "fingerprint": fingerprint(requested.get("request", {})),
            } | requested
            dec_fields = {
                "event_id": key + "/decision",
                "fingerprint": req_fields["fingerprint"],
            } | decided
            pending.setdefault(patient_id, {}).setdefault(region.value, []).extend(
                [
                    (PatientRegion.AuthorizationRequested, req_fields),
                    (PatientRegion.AuthorizationDecided, dec_fields),
                ]
            )
            fingerprint_ = req_fields["fingerprint"]
            new.append(LedgerEntry(key, "authorization_requested", region.value, fingerprint_))
            new.append(
                LedgerEntry(
                    dec_fields["event_id"], "authorization_decided", region.value, fingerprint_
                )
            )
            written.append(True)
        written_ledgers: list[PatientLedger] = []
        stored: list[Any] = []
        try:
            for patient_id, new in accepted.items():
                if not new:
                    continue
                ledger = ledgers[patient_id] or PatientLedger.open(
                    patient_id, recorded_at, self.ids
                )
                versions = dict(ledger.region_versions)  # before these entries
                ledger.accept(new, recorded_at)
                written_ledgers.append(ledger)
                stored.extend(ledger.collect_events())
                for region_, events in pending[patient_id].items():
                    stored.extend(
                        self._region_events(
                            patient_id, region_, versions.get(region_), events, recorded_at
                        )
                    )
        except BaseException:
            self._forget(ledger for ledger in ledgers.values() if ledger is not None)
            raise
        self._put(stored, written_ledgers)
        return written

    @staticmethod
    def authorization_key(authorization_id: str) -> str:
        """The ledger key of an authorization (kept apart from client event ids)."""
        return f"authorization:{authorization_id}"

    def find_authorization(
        self, patient_id: str, authorization_id: str
    ) -> PatientRegion.AuthorizationDecided | None:
        """The recorded decision of an authorization id, if any."""
        return self.find_authorizations([(patient_id, authorization_id)]).get(
            (patient_id, authorization_id)
        )

    def find_authorizations(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], PatientRegion.AuthorizationDecided]:
        """The recorded decisions of several (patient, authorization id): the patients'
        ledgers in one query, then each recorded decision read where the ledger says it
        sits (its version in the region stream; the run of versions between a stream's
        first and last wanted) in one more query. Keys not recorded are absent."""
        wanted = set(keys)
        # (stream id, version) of each recorded decision, (patient, authorization id)
        where: list[tuple[tuple[UUID, int], tuple[str, str]]] = []
        with self._write_lock:  # ledgers change under it: read their entries under it too
            ledgers = self._load_ledgers({patient_id for patient_id, _ in wanted})
            for patient_id, authorization_id in wanted:
                ledger = ledgers[patient_id]
                key = self.authorization_key(authorization_id)
                entry = ledger.entries.get(key) if ledger else None
                if ledger is None or entry is None or entry.type != "authorization_requested":
                    continue  # not recorded, or a colliding record (recording will answer 409)
                version = _version_in_region(ledger, key + "/decision", entry.region)
                stream_id = self.ids.region(patient_id, entry.region)
                where.append(((stream_id, version), (patient_id, authorization_id)))
        found: dict[tuple[str, str], PatientRegion.AuthorizationDecided] = {}
        if not where:
            return found
        runs: dict[UUID, tuple[int, int]] = {}  # the versions between a stream's first and last
        for (stream_id, version), _ in where:
            low, high = runs.get(stream_id, (version, version))
            runs[stream_id] = (min(low, version), max(high, version))
        stored = {
            (record.originator_id, record.originator_version): record
            for records in self.streams.select_runs(runs).values()
            for record in records
        }
        for at, (patient_id, authorization_id) in where:
            record = stored.get(at)
            event: Any = self.mapper.to_domain_event(record) if record is not None else None
            if (
                not isinstance(event, PatientRegion.AuthorizationDecided)
                or event.authorization_id != authorization_id
            ):
                # Not where the ledger's order puts it: look through the whole stream.
                event = next(
                    (
                        e
                        for e in self.events.get(at[0])
                        if isinstance(e, PatientRegion.AuthorizationDecided)
                        and e.authorization_id == authorization_id
                    ),
                    None,
                )
            if event is not None:
                found[(patient_id, authorization_id)] = event
        return found

    # ------------------------------------------------------------------ reading

    def _load_ledgers(
        self, patient_ids: Iterable[str], refresh: bool = True
    ) -> dict[str, PatientLedger | None]:
        """The current ledger of each patient (``None`` for a patient never seen), read in
        one query: cached ledgers are brought forward with only their newer events (with
        ``refresh`` false they are taken as they are, possibly stale: only for a write,
        whose version check catches that). Call under the write lock; a caller that
        changes a ledger and then fails must :meth:`_forget` it."""
        ids = {self.ids.ledger(p): p for p in patient_ids}
        cached = {i: self._ledgers.get(i) for i in ids}
        wanted = {i: (c.version if c else 0) for i, c in cached.items() if refresh or c is None}
        newer = self.streams.select(wanted) if wanted else {}
        out: dict[str, PatientLedger | None] = {}
        for ledger_id, patient_id in ids.items():
            ledger = cached[ledger_id]
            for stored in newer.get(ledger_id, ()):
                event: Any = self.mapper.to_domain_event(stored)
                ledger = event.mutate(ledger)
            out[patient_id] = ledger
        self._remember(ledger for ledger in out.values() if ledger is not None)
        return out

    def _forget(self, aggregates: Iterable[Aggregate]) -> None:
        for aggregate in aggregates:
            self._ledgers.pop(aggregate.id, None)

    def _put(self, events: Sequence[Any], ledgers: Sequence[PatientLedger]) -> None:
        """Save the events in one transaction; on any failure the ``ledgers`` changed in
        memory are dropped from the cache (they are read again)."""
        if not events:
            return
        try:
            self.events.put(events)
        except BaseException:
            self._forget(ledgers)
            raise
        self._remember(ledgers)

    def _remember(self, ledgers: Iterable[PatientLedger]) -> None:
        """Cache ledgers as just saved (a patient's first ledger too, so its next batch
        reads nothing), dropping the least recently used beyond the cache size."""
        for ledger in ledgers:
            self._ledgers[ledger.id] = ledger
            self._ledgers.move_to_end(ledger.id)
        while len(self._ledgers) > self._ledger_cache_size:
            self._ledgers.popitem(last=False)

    def patient_events(
        self,
        patient_id: str,
        as_of: datetime | None = None,
        regions: Iterable[Region] = REGIONS,
    ) -> list[RecordedEvent]:
        """Every region event of the patient (all regions unless narrowed), as known at
        ``as_of`` (recorded at or before it), stream by stream in version order, read in
        one query."""
        wanted = {self.ids.region(patient_id, region): region for region in regions}
        stored = self.streams.select(dict.fromkeys(wanted, 0))
        out: list[RecordedEvent] = []
        for stream_id, region in wanted.items():
            for record in stored.get(stream_id, ()):
                event: Any = self.mapper.to_domain_event(record)
                if type(event) not in EVENT_TYPES:
                    continue
                if as_of is not None and event.timestamp > as_of:
                    break
                out.append(RecordedEvent(patient_id, region.value, event))
        return out

    def recording_order(self, patient_id: str, as_of: datetime | None = None) -> list[str]:
        """Event ids of the patient in the order they were accepted (the ledger's order)."""
        return [str(row[0]) for row in self._ledger_rows(patient_id, as_of)]

    def _ledger_rows(self, patient_id: str, as_of: datetime | None) -> Iterator[Sequence[Any]]:
        """The ledger's compact rows (see :func:`domain.events.entry_row`) of the patient's
        accepted events in order, as known ``as_of``."""
        ledger_id = self.ids.ledger(patient_id)
        for record in self.streams.select({ledger_id: 0}).get(ledger_id, ()):
            event: Any = self.mapper.to_domain_event(record)
            if as_of is not None and event.timestamp > as_of:
                return
            if isinstance(event, PatientLedger.EventsIndexed):
                yield from event.rows
            elif isinstance(event, PatientLedger.EventsAccepted):
                for e in event.entries:
                    yield entry_row(e)

    def history_page(
        self,
        patient_id: str,
        as_of: datetime | None = None,
        region: Region | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> HistoryPage:
        """A page of the patient's events in recording order as known ``as_of`` (of one
        region, or all), each with the void recorded against it by then. The ledger alone
        gives the order, the total and the voids, and where each event sits: its region
        stream's Created event is version 1 and each accepted entry of the region one more.
        Only the page's events are read from the region streams (a run of versions on
        each) and decoded."""
        only = REGION_CODES[region.value] if region is not None else None
        end = offset + limit if limit is not None else None
        versions: dict[str, int] = {}
        voided_by: dict[str, str] = {}
        page: list[tuple[str, str, int]] = []  # (event id, region code, version)
        total = 0
        for row in self._ledger_rows(patient_id, as_of):
            code = str(row[2])
            version = versions[code] = versions.get(code, 1) + 1
            if row[5] is not None:
                voided_by[str(row[5])] = str(row[0])
            if only is None or code == only:
                if total >= offset and (end is None or total < end):
                    page.append((str(row[0]), code, version))
                total += 1
        stream_of = {
            code: self.ids.region(patient_id, REGIONS_BY_CODE[code]) for _, code, _ in page
        }
        runs: dict[UUID, tuple[int, int]] = {}
        for _, code, version in page:
            low, high = runs.get(stream_of[code], (version, version))
            runs[stream_of[code]] = (min(low, version), max(high, version))
        found = {
            (stream_id, record.originator_version): record
            for stream_id, records in self.streams.select_runs(runs).items()
            for record in records
        }
        events: list[tuple[RecordedEvent, str | None]] = []
        for event_id, code, version in page:
            record = found.get((stream_of[code], version))
            decoded: Any = self.mapper.to_domain_event(record) if record is not None else None
            if decoded is None or getattr(decoded, "event_id", None) != event_id:
                raise LookupError(
                    f"the ledger of {patient_id!r} names {event_id!r} at version {version} "
                    f"of its {REGIONS_BY_CODE[code]} stream, which holds another event"
                )
            events.append(
                (RecordedEvent(patient_id, REGIONS_BY_CODE[code], decoded), voided_by.get(event_id))
            )
        return HistoryPage(total=total, events=events)


class LibraryTranscoderLedger(InjectionLedger):
    """The event store with the library's own JSON transcoder (and our transcodings), which
    the bench's ceilings use: they measure the library's own speed. Same name, so the same
    tables (the library names them after the application)."""

    name = "InjectionLedger"
    transcoder_class = JSONTranscoder


def library_mapper(ledger: InjectionLedger) -> Mapper[UUID]:
    """A mapper reading the ledger's store with the library's own JSON transcoder (our
    transcodings registered) and the ledger's cipher and compressor: what the library alone
    would do to read the same events (the bench's rebuild ceiling)."""
    transcoder = JSONTranscoder()
    ledger.register_transcodings(transcoder)
    return Mapper(
        transcoder=transcoder, compressor=ledger.mapper.compressor, cipher=ledger.mapper.cipher
    )


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """A page of a patient's history: the events (each with the void recorded against it,
    if any) and how many the whole history (of the region asked) holds."""

    total: int
    events: list[tuple[RecordedEvent, str | None]]


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


def _entry(
    ledger: PatientLedger | None, pending: list[LedgerEntry], key: str
) -> LedgerEntry | None:
    """The ledger entry of ``key``, stored or pending in this transaction."""
    for entry in pending:
        if entry.event_id == key:
            return entry
    return ledger.entries.get(key) if ledger is not None else None


def _version_in_region(ledger: PatientLedger, key: str, region: str) -> int:
    """Where the ledger's entry ``key`` sits in its region stream: the stream's Created
    event is version 1 and each entry of the region, in the ledger's order, one more
    (0 when the entry is not in the ledger)."""
    version = 1
    for event_id, entry in ledger.entries.items():
        if entry.region == region:
            version += 1
            if event_id == key:
                return version
    return 0
