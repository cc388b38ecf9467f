"""The materialized population read model: a thin storage shell around the fold.

The view is one of the library's tracking recorders (:class:`SQLiteReadModel` or
:class:`PostgresReadModel`) extended with four tables:

- ``streams``: which patient and region each patient-region stream belongs to (learnt from
  the stream's ``Created`` event);
- ``events``: the view's own copy of every patient-region event it has processed, as stored
  (topic and encoded state), so that re-folding a patient uses exactly the events up to the
  tracked position and never reads ahead in the event store;
- ``procedures``: one row per non-voided procedure (:class:`projections.rows.ProcedureRow`);
- ``authorizations``: one row per authorization request.

:func:`catch_up` reads the event store's notification log a page at a time
(``select_notifications``) and, per page, in ONE transaction of the view's datastore: stores
the page's events, re-folds every patient the page touched with
:func:`projections.state.fold`, replaces those patients' rows, and records the page's last
notification id with the library's ``_insert_tracking``. A crash loses at most the
uncommitted page, which the next run processes again from the tracked position: each
notification counts exactly once. The library's single-row tracking refuses to move the
position backwards, so two runners racing over one view cannot both commit a page.

On SQLite the view lives in its own database file (the library's ``tracking`` table is not
prefixed, so one view per file); on PostgreSQL its tables are prefixed ``injtrack_view_`` in
the configured schema. Nothing here imports the API: the caller passes the notification
source and the application's mapper.
"""

from __future__ import annotations

import json
import multiprocessing
from abc import abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import (
    InfrastructureFactory,
    Mapper,
    Notification,
    StoredEvent,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from adapters.pg_schema import creating_schema
from adapters.protect import NO_PROTECTION, Protector, create_private_file
from domain.events import EVENT_TYPES, PatientRegion, RecordedEvent
from projections.rows import AuthorizationRow, ProcedureRow, patient_rows
from projections.state import fold

VIEW_NAME = "INJTRACK_VIEW"  # environment name: PostgreSQL tables are prefixed injtrack_view_
REGION_TOPIC_PREFIX = PatientRegion.TOPIC + "."
CREATED_TOPIC = PatientRegion.Created.TOPIC
# What the view projects: a rebuild asks the store for these topics only.
REGION_TOPICS: tuple[str, ...] = (CREATED_TOPIC, *(cls.TOPIC for cls in EVENT_TYPES))
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 100_000
REFOLD_CHUNK = 200  # patients read with one query when their rows are recomputed
REBUILD_COMMIT_EVERY = 10_000  # notifications copied per transaction by a rebuild
REBUILD_CHUNK = 1_000  # patients folded per transaction by a rebuild
BESIDE_PREFIX = "next_"  # the tables a rebuild fills before swapping them in
VIEW_TABLES = ("streams", "events", "procedures", "authorizations")
VIEW_INDEXES = ("events_patient", "procedures_family")

PROCEDURE_COLUMNS: tuple[str, ...] = tuple(ProcedureRow.__slots__)  # type: ignore[attr-defined]
AUTHORIZATION_COLUMNS: tuple[str, ...] = tuple(AuthorizationRow.__slots__)  # type: ignore[attr-defined]
JSON_COLUMNS = frozenset({"levels", "outcomes", "authorizations", "policy"})
DATE_COLUMNS = frozenset({"date_of_service", "episode_start", "next_eligible_date"})
BOOL_COLUMNS = frozenset({"first_year"})


# A region event as the view stores it: notification id, patient (as stored), region,
# originator id, originator version, topic, state.
RawEvent = tuple[int, str, str, str, int, str, bytes]


class NotificationSource(Protocol):
    """What the view reads from the event store (an ``ApplicationRecorder``)."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...

    def max_notification_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """The little SQL that differs between SQLite and PostgreSQL."""

    param: str  # "?" | "%s"
    prefix: str  # table prefix ("" on SQLite: the file is the view's own)
    schema: str | None
    text: str
    integer: str
    blob: str
    day: str  # column type of calendar dates
    json: str
    boolean: str

    def table(self, name: str) -> str:
        qualified = f'"{self.prefix}{name}"'
        return f'"{self.schema}".{qualified}' if self.schema else qualified

    def column_type(self, column: str) -> str:
        if column in JSON_COLUMNS:
            return self.json
        if column in DATE_COLUMNS:
            return self.day
        if column in BOOL_COLUMNS:
            return self.boolean
        if column in (
            "episode_number",
            "position",
            "first_year_count",
            "count_6m",
            "count_12m",
            "counted_6m",
            "counted_12m",
        ):
            return self.integer
        return self.text


SQLITE = Dialect(
    param="?",
    prefix="",
    schema=None,
    text="TEXT",
    integer="INTEGER",
    blob="BLOB",
    day="TEXT",
    json="TEXT",
    boolean="INTEGER",
)


@dataclass(frozen=True, slots=True)
class PageResult:
    notifications: int
    events: int
    patients: int
    position: int


@dataclass(frozen=True, slots=True)
class ViewStatus:
    """How far the view lags the event store."""

    max_notification_id: int
    position: int
    procedures: int
    authorizations: int
    patients: int

    @property
    def lag(self) -> int:
        return max(0, self.max_notification_id - self.position)


class ReadModel(TrackingRecorder):
    """The read model's tables and page transaction, on any library datastore. Concrete
    classes mix this with the library's tracking recorder of their database."""

    dialect: Dialect
    datastore: SQLiteDatastore | PostgresDatastore
    # Patient ids are stored concealed (deterministic AES-SIV) when the store is encrypted.
    protector: Protector = NO_PROTECTION

    # -- schema

    def view_table_statements(self, d: Dialect | None = None, *, indexes: bool = True) -> list[str]:
        """The view's tables (and, unless ``indexes`` is false, their secondary indexes: a
        rebuild creates those once its tables are loaded, which is faster than keeping
        them up to date row by row)."""
        d = d or self.dialect
        procedure_columns = ", ".join(
            f"{c} {d.column_type(c)}" + (" NOT NULL" if c in ("patient_id", "event_id") else "")
            for c in PROCEDURE_COLUMNS
        )
        authorization_columns = ", ".join(f"{c} {d.column_type(c)}" for c in AUTHORIZATION_COLUMNS)
        tables = [
            f"CREATE TABLE IF NOT EXISTS {d.table('streams')} ("
            f"originator_id {d.text} PRIMARY KEY, patient_id {d.text} NOT NULL, "
            f"region {d.text} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {d.table('events')} ("
            f"notification_id {d.integer} PRIMARY KEY, patient_id {d.text} NOT NULL, "
            f"region {d.text} NOT NULL, originator_id {d.text} NOT NULL, "
            f"originator_version {d.integer} NOT NULL, topic {d.text} NOT NULL, "
            f"state {d.blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {d.table('procedures')} ({procedure_columns}, "
            "PRIMARY KEY (patient_id, event_id))",
            f"CREATE TABLE IF NOT EXISTS {d.table('authorizations')} ({authorization_columns}, "
            "PRIMARY KEY (patient_id, authorization_id))",
        ]
        return tables + self.view_index_statements(d) if indexes else tables

    def view_index_statements(self, d: Dialect | None = None) -> list[str]:
        d = d or self.dialect
        return [
            f"CREATE INDEX IF NOT EXISTS {d.prefix}events_patient ON {d.table('events')} "
            "(patient_id, notification_id)",
            f"CREATE INDEX IF NOT EXISTS {d.prefix}procedures_family ON "
            f"{d.table('procedures')} (region, family, date_of_service)",
        ]

    def view_drop_statements(self, d: Dialect | None = None) -> list[str]:
        d = d or self.dialect
        return [
            f"DROP TABLE IF EXISTS {d.table(t)}"
            for t in ("procedures", "authorizations", "events", "streams")
        ]

    def create_view_tables(self) -> None:
        with self._transaction() as c:
            for statement in self.view_table_statements():
                c.execute(statement)

    def reset(self, application_name: str) -> None:
        """Drop the view's tables and forget its position, in one transaction; the tables
        are created again empty."""
        with self._transaction() as c:
            for statement in self.view_drop_statements() + self.view_table_statements():
                c.execute(statement)
            c.execute(
                f"DELETE FROM {self.tracking_table()} WHERE application_name = "
                f"{self.dialect.param}",
                (application_name,),
            )

    @abstractmethod
    def tracking_table(self) -> str:
        """The qualified name of the library's tracking table in this dialect."""

    @contextmanager
    def _transaction(self, commit: bool = True) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    # -- processing

    def process_page(
        self,
        application_name: str,
        notifications: Sequence[Notification],
        mapper: Mapper[UUID],
        streams: dict[str, tuple[str, str]] | None = None,
    ) -> PageResult:
        """Apply one page of notifications and record its last id, in one transaction. An
        event that cannot be projected raises :class:`ProjectionError` naming its
        notification; nothing of the page is kept and the position does not move.
        ``streams`` remembers the owners of streams already stored (for the next pages of
        one run: they never change)."""
        if not notifications:
            raise ValueError("an empty page has no position to record")
        d = self.dialect
        with self._transaction() as c:
            stored, touched = self._store_page(
                c, d, notifications, mapper, {} if streams is None else streams
            )
            self._refold(c, d, sorted(touched), mapper)
            position = notifications[-1].id
            self._insert_tracking(c, Tracking(application_name, position))  # type: ignore[attr-defined]
        return PageResult(len(notifications), stored, len(touched), position)

    def _store_page(
        self,
        c: Any,
        d: Dialect,
        notifications: Sequence[Notification],
        mapper: Mapper[UUID],
        streams: dict[str, tuple[str, str]],
    ) -> tuple[int, set[str]]:
        """Copy a page's region events into the view's ``events`` table (and new streams
        into ``streams``); returns how many and the patients they belong to. ``streams``
        remembers the owners of the streams seen so far (the caller's, across pages)."""
        p = d.param
        new_streams: list[tuple[str, str, str]] = []
        rows: list[tuple[Any, ...]] = []
        touched: set[str] = set()
        for n in notifications:
            if not n.topic.startswith(REGION_TOPIC_PREFIX):
                continue
            originator_id = str(n.originator_id)
            if n.topic == CREATED_TOPIC:
                created = _decode_event(mapper, n, n.id)
                _check_storable(created, n.id)
                if not isinstance(created, PatientRegion.Created):
                    raise ProjectionError(n.id, n.topic, "is not a stream's Created event")
                patient_key = self.protector.conceal(created.patient_id)
                streams[originator_id] = (patient_key, created.region)
                new_streams.append((originator_id, patient_key, created.region))
            owner = streams.get(originator_id) or self._stream(c, d, originator_id)
            if owner is None:
                raise ProjectionError(
                    n.id, n.topic, "belongs to a stream whose Created event was never seen"
                )
            streams[originator_id] = owner
            rows.append(
                (n.id, owner[0], owner[1], originator_id, n.originator_version, n.topic, n.state)
            )
            touched.add(owner[0])
        if new_streams:
            c.executemany(
                f"INSERT INTO {d.table('streams')} VALUES ({p}, {p}, {p}) "
                "ON CONFLICT (originator_id) DO NOTHING",
                new_streams,
            )
        if rows:
            c.executemany(
                f"INSERT INTO {d.table('events')} VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                rows,
            )
        return len(rows), touched

    def _stream(self, c: Any, d: Dialect, originator_id: str) -> tuple[str, str] | None:
        c.execute(
            f"SELECT patient_id, region FROM {d.table('streams')} WHERE originator_id = {d.param}",
            (originator_id,),
        )
        row = c.fetchone()
        return (row["patient_id"], row["region"]) if row is not None else None

    def _refold(self, c: Any, d: Dialect, patient_ids: Sequence[str], mapper: Mapper[UUID]) -> None:
        """Fold each patient once from the view's copy of its events and replace its rows;
        a chunk of patients is read with one query and written with one statement per
        table."""
        for start in range(0, len(patient_ids), REFOLD_CHUNK):
            chunk = list(patient_ids[start : start + REFOLD_CHUNK])
            raw = self._raw_events(c, d, chunk)
            procedures, authorizations = chunk_rows(chunk, raw, mapper, self.protector)
            self._write_rows(c, d, chunk, procedures, authorizations, replace=True)

    def _raw_events(self, c: Any, d: Dialect, patient_ids: Sequence[str]) -> list[RawEvent]:
        """The view's copy of these patients' region events (not their streams' Created
        events), as stored, by patient then notification order."""
        marks = ", ".join([d.param] * len(patient_ids))
        c.execute(
            "SELECT notification_id, patient_id, region, originator_id, originator_version, "
            f"topic, state FROM {d.table('events')} WHERE patient_id IN ({marks}) "
            f"AND topic <> {d.param} ORDER BY patient_id, notification_id",
            [*patient_ids, CREATED_TOPIC],
        )
        return [
            (
                row["notification_id"],
                row["patient_id"],
                row["region"],
                row["originator_id"],
                row["originator_version"],
                row["topic"],
                bytes(row["state"]),
            )
            for row in c.fetchall()
        ]

    def _write_rows(
        self,
        c: Any,
        d: Dialect,
        patient_ids: Sequence[str],
        procedures: list[tuple[Any, ...]],
        authorizations: list[tuple[Any, ...]],
        *,
        replace: bool,
    ) -> None:
        """Write these patients' rows (``replace``: instead of the ones they had)."""
        p = d.param
        if replace:
            for start in range(0, len(patient_ids), REFOLD_CHUNK):
                chunk = list(patient_ids[start : start + REFOLD_CHUNK])
                marks = ", ".join([p] * len(chunk))
                for table in ("procedures", "authorizations"):
                    c.execute(f"DELETE FROM {d.table(table)} WHERE patient_id IN ({marks})", chunk)
        for table, columns, rows in (
            ("procedures", PROCEDURE_COLUMNS, procedures),
            ("authorizations", AUTHORIZATION_COLUMNS, authorizations),
        ):
            if rows:
                c.executemany(
                    f"INSERT INTO {d.table(table)} ({', '.join(columns)}) "
                    f"VALUES ({', '.join([p] * len(columns))})",
                    rows,
                )

    # -- rebuilding beside the live view

    def beside(self) -> Dialect:
        """The dialect of the tables a rebuild fills before it swaps them in."""
        return replace(self.dialect, prefix=self.dialect.prefix + BESIDE_PREFIX)

    def rebuild(
        self,
        application_name: str,
        source: NotificationSource,
        mapper: Mapper[UUID],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        on_page: Callable[[PageResult], None] | None = None,
        workers: int = 1,
    ) -> int:
        """Build the view again from the whole log in tables beside the live ones, then
        swap them in, in one transaction, with the position they reached. The live view
        stays readable (and unchanged) throughout; if anything fails, including an event
        that cannot be projected (:class:`ProjectionError`), the live view is kept as it
        was. Returns how many notifications were read.

        Linear in the log whatever the order of its patients: first the log's region
        events are copied beside, a few pages per transaction; then each patient is folded
        once, from the copy, :data:`REBUILD_CHUNK` patients per transaction. With
        ``workers`` > 1, that many worker processes decode and fold the chunks (this
        process reads and writes the view); the rows are the same."""
        _check_page_size(page_size)
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        b = self.beside()
        with self._transaction() as c:
            for statement in self.view_drop_statements(b) + self.view_table_statements(
                b, indexes=False
            ):
                c.execute(statement)
        try:
            streams: dict[str, tuple[str, str]] = {}
            patients: set[str] = set()
            position, done, more = 0, 0, True
            while more:
                with self._transaction() as c:
                    in_transaction = 0
                    while more and in_transaction < REBUILD_COMMIT_EVERY:
                        page = source.select_notifications(
                            position + 1, page_size, topics=REGION_TOPICS
                        )
                        if not page:
                            break
                        stored, touched = self._store_page(c, b, page, mapper, streams)
                        patients |= touched
                        position = page[-1].id
                        done += len(page)
                        in_transaction += len(page)
                        more = len(page) == page_size
                        if on_page is not None:
                            on_page(PageResult(len(page), stored, 0, position))
                    more = more and in_transaction > 0
            with self._transaction() as c:
                c.execute(self.view_index_statements(b)[0])  # events by patient, to fold
            self._fold_beside(b, sorted(patients), mapper, workers)
            with self._transaction() as c:
                for statement in self.view_index_statements(b)[1:]:
                    c.execute(statement)
            with self._transaction() as c:
                # What arrived while rebuilding, then the swap, under one write lock.
                while True:
                    page = source.select_notifications(
                        position + 1, page_size, topics=REGION_TOPICS
                    )
                    if not page:
                        break
                    _, touched = self._store_page(c, b, page, mapper, streams)
                    self._refold(c, b, sorted(touched), mapper)
                    position = page[-1].id
                    done += len(page)
                self._swap(c, b)
                c.execute(
                    f"DELETE FROM {self.tracking_table()} WHERE application_name = "
                    f"{self.dialect.param}",
                    (application_name,),
                )
                if position:
                    self._insert_tracking(c, Tracking(application_name, position))  # type: ignore[attr-defined]
        except BaseException:
            with suppress(Exception), self._transaction() as c:
                for statement in self.view_drop_statements(b):
                    c.execute(statement)
            raise
        return done

    def _fold_beside(
        self, b: Dialect, patients: Sequence[str], mapper: Mapper[UUID], workers: int
    ) -> None:
        """Fold every patient once from the copy beside and write its rows there: a chunk
        of patients is read with one query, folded (here or by a worker process) and
        written in one transaction."""

        def chunks() -> Iterator[tuple[list[str], list[RawEvent]]]:
            for start in range(0, len(patients), REBUILD_CHUNK):
                chunk = list(patients[start : start + REBUILD_CHUNK])
                with self._transaction(commit=False) as c:
                    raw = self._raw_events(c, b, chunk)
                yield chunk, raw

        for chunk, procedures, authorizations in _folded(chunks(), mapper, self.protector, workers):
            with self._transaction() as c:
                self._write_rows(c, b, chunk, procedures, authorizations, replace=False)

    def _swap(self, c: Any, b: Dialect) -> None:
        """Replace the live tables by the rebuilt ones (inside the caller's transaction)."""
        d = self.dialect
        for statement in self.view_drop_statements(d):
            c.execute(statement)
        for name in VIEW_TABLES:
            c.execute(f'ALTER TABLE {b.table(name)} RENAME TO "{d.prefix}{name}"')
        for old, new in self.index_renames(b):
            self.rename_index(c, old, new)

    def index_renames(self, b: Dialect) -> list[tuple[str, str]]:
        d = self.dialect
        return [(f"{b.prefix}{i}", f"{d.prefix}{i}") for i in VIEW_INDEXES]

    @abstractmethod
    def rename_index(self, c: Any, old: str, new: str) -> None:
        """Give a rebuilt table's index its live name."""

    def _encode(self, record: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
        return tuple(
            json.dumps(record[c], sort_keys=True) if c in JSON_COLUMNS else record[c]
            for c in columns
        )

    # -- reading

    def procedure_rows(self, patient_id: str | None = None) -> list[dict[str, Any]]:
        """Procedure rows (all, or one patient's) as plain records, ordered by patient,
        region, family, date of service and event id."""
        return self._select(
            "procedures",
            PROCEDURE_COLUMNS,
            patient_id,
            "patient_id, region, family, date_of_service, event_id",
        )

    def authorization_rows(self, patient_id: str | None = None) -> list[dict[str, Any]]:
        return self._select(
            "authorizations",
            AUTHORIZATION_COLUMNS,
            patient_id,
            "patient_id, date_of_service, authorization_id",
        )

    def _select(
        self, table: str, columns: Sequence[str], patient_id: str | None, order: str
    ) -> list[dict[str, Any]]:
        where, params = "", ()
        if patient_id is not None:
            where = f" WHERE patient_id = {self.dialect.param}"
            params = (self.protector.conceal(patient_id),)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {', '.join(columns)} FROM {self.dialect.table(table)}"
                f"{where} ORDER BY {order}",
                params,
            )
            records = [{col: _decode(col, row[col]) for col in columns} for row in c.fetchall()]
        if self.protector.enabled:
            for record in records:
                record["patient_id"] = self.protector.reveal(record["patient_id"])
            keys = [k.strip() for k in order.split(",")]
            records.sort(key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in keys))
        return records

    def procedure_keys(self, batch: int = 10_000) -> Iterator[tuple[str, str, str, str]]:
        """(patient_id, region, family, date of service as ISO text) of every procedure
        row, read ``batch`` rows at a time (by key), in stored patient order: what a
        plain-SQL copy of the caps needs, without holding the whole table as records."""
        param = self.dialect.param
        table = self.dialect.table("procedures")
        after: tuple[str, str] | None = None
        while True:
            where = f" WHERE (patient_id, event_id) > ({param}, {param})" if after else ""
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT patient_id, event_id, region, family, date_of_service FROM {table}"
                    f"{where} ORDER BY patient_id, event_id LIMIT {int(batch)}",
                    after or (),
                )
                rows = c.fetchall()
            if not rows:
                return
            for row in rows:
                day = row["date_of_service"]
                yield (
                    self.protector.reveal(row["patient_id"]),
                    row["region"],
                    row["family"],
                    day if isinstance(day, str) else day.isoformat(),
                )
            after = (rows[-1]["patient_id"], rows[-1]["event_id"])

    def count(self, table: str, distinct: str | None = None) -> int:
        what = f"COUNT(DISTINCT {distinct})" if distinct else "COUNT(*)"
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {what} AS n FROM {self.dialect.table(table)}")
            return int(c.fetchone()["n"])

    def status(self, application_name: str, source: NotificationSource) -> ViewStatus:
        return ViewStatus(
            max_notification_id=source.max_notification_id() or 0,
            position=self.max_tracking_id(application_name) or 0,
            procedures=self.count("procedures"),
            authorizations=self.count("authorizations"),
            patients=self.count("procedures", distinct="patient_id"),
        )


class ProjectionError(Exception):
    """An event the read model cannot project: the view stops before it."""

    def __init__(self, notification_id: int, topic: str, reason: str) -> None:
        super().__init__(
            f"the read model cannot project notification {notification_id} ({topic}): {reason}; "
            "the view keeps what it had and stays before it"
        )
        self.notification_id = notification_id
        self.topic = topic
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a rebuild's worker process, it crosses back to the caller intact.
        return (type(self), (self.notification_id, self.topic, self.reason))


def _decode_event(mapper: Mapper[UUID], stored: StoredEvent, notification_id: int) -> Any:
    try:
        return mapper.to_domain_event(stored)
    except Exception as exc:
        raise ProjectionError(
            notification_id, stored.topic, f"it cannot be decoded ({exc})"
        ) from exc


_JSON_TEXT = json.JSONEncoder(sort_keys=True).encode  # json.dumps(..., sort_keys=True)


def _column_plan(
    columns: Sequence[str],
) -> tuple[Callable[[Any], tuple[Any, ...]], int, tuple[int, ...]]:
    """How to read a row's column values: one getter, where the patient id goes and which
    values are JSON-encoded."""
    return (
        attrgetter(*columns),
        columns.index("patient_id"),
        tuple(i for i, c in enumerate(columns) if c in JSON_COLUMNS),
    )


_PLANS = {
    PROCEDURE_COLUMNS: _column_plan(PROCEDURE_COLUMNS),
    AUTHORIZATION_COLUMNS: _column_plan(AUTHORIZATION_COLUMNS),
}


def _values(
    row: ProcedureRow | AuthorizationRow, columns: Sequence[str], patient_key: str
) -> tuple[Any, ...]:
    """A row's column values, JSON columns encoded and the patient id as the view stores it
    (no copy of the row: ``asdict`` deep copies and was a third of a rebuild's time)."""
    get, patient_index, json_indexes = _PLANS.get(columns) or _column_plan(columns)  # type: ignore[call-overload]
    values = list(get(row))
    values[patient_index] = patient_key
    for i in json_indexes:
        values[i] = _JSON_TEXT(values[i])
    return tuple(values)


def chunk_rows(
    patient_keys: Sequence[str],
    raw: Sequence[RawEvent],
    mapper: Mapper[UUID],
    protector: Protector,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The procedure and authorization rows (column values as stored) of these patients,
    from their events as the view stores them (:meth:`ReadModel._raw_events`): each event
    decoded and checked once, each patient folded once."""
    # Without a cipher or compressor the state is the transcoder's JSON, where a NUL
    # character can only appear escaped: only such states need the field by field check.
    plain = mapper.cipher is None and mapper.compressor is None
    uuids: dict[str, UUID] = {}
    revealed: dict[str, str] = {}
    events: dict[str, list[tuple[int, RecordedEvent]]] = {}
    for notification_id, key, region, originator_id, version, topic, state in raw:
        uuid = uuids.get(originator_id)
        if uuid is None:
            uuid = uuids[originator_id] = UUID(originator_id)
        event = _decode_event(mapper, StoredEvent(uuid, version, topic, state), notification_id)
        if not plain or b"\\u0000" in state:
            _check_storable(event, notification_id)
        if type(event) in EVENT_TYPES:
            patient_id = revealed.get(key)
            if patient_id is None:
                patient_id = revealed[key] = protector.reveal(key)
            events.setdefault(key, []).append(
                (notification_id, RecordedEvent(patient_id, region, event))
            )
    procedures: list[tuple[Any, ...]] = []
    authorizations: list[tuple[Any, ...]] = []
    for key in patient_keys:
        own = events.get(key)
        if not own:
            continue
        procs, auths = _rows_of(own[0][1].patient_id, own)
        procedures += [_values(r, PROCEDURE_COLUMNS, key) for r in procs]
        authorizations += [_values(r, AUTHORIZATION_COLUMNS, key) for r in auths]
    return procedures, authorizations


# What a rebuild's worker process folds with (set once in each worker).
_WORKER: dict[str, Any] = {}


def _start_worker(mapper: Mapper[UUID], protector: Protector) -> None:
    _WORKER["mapper"] = mapper
    _WORKER["protector"] = protector


def _worker_chunk_rows(
    patient_keys: list[str], raw: list[RawEvent]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return chunk_rows(patient_keys, raw, _WORKER["mapper"], _WORKER["protector"])


def _folded(
    chunks: Iterable[tuple[list[str], list[RawEvent]]],
    mapper: Mapper[UUID],
    protector: Protector,
    workers: int,
) -> Iterator[tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Each chunk's patients with their rows, in the chunks' order. With several workers
    (where processes can be forked: the mapper and its keys are inherited, never sent) a
    few chunks are folded at once while the next are read."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for keys, raw in chunks:
            yield keys, *chunk_rows(keys, raw, mapper, protector)
        return
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(mapper, protector),
    ) as pool:
        pending: deque[tuple[list[str], Future[Any]]] = deque()
        try:
            for keys, raw in chunks:
                pending.append((keys, pool.submit(_worker_chunk_rows, keys, raw)))
                if len(pending) > workers:
                    done_keys, future = pending.popleft()
                    yield done_keys, *future.result()
            while pending:
                done_keys, future = pending.popleft()
                yield done_keys, *future.result()
        finally:
            for _, future in pending:
                future.cancel()


def _check_storable(event: Any, notification_id: int) -> None:
    """Text the view's databases cannot hold (PostgreSQL refuses NUL characters)."""
    for name, value in vars(event).items():
        if isinstance(value, str) and "\x00" in value:
            raise ProjectionError(
                notification_id,
                getattr(event, "TOPIC", type(event).__name__),
                f"its {name} holds a NUL character, which the view cannot store",
            )


def _rows_of(
    patient_id: str, events: Sequence[tuple[int, RecordedEvent]]
) -> tuple[list[ProcedureRow], list[AuthorizationRow]]:
    """The patient's rows; if the fold fails, the first event whose addition makes it fail
    is named (found by bisecting the history)."""
    recorded = [e for _, e in events]
    try:
        return patient_rows(fold(recorded, patient_id=patient_id))
    except Exception as exc:
        low, high = 1, len(recorded)  # the shortest failing prefix is within (low, high]
        while low < high:
            middle = (low + high) // 2
            try:
                patient_rows(fold(recorded[:middle], patient_id=patient_id))
            except Exception:
                high = middle
            else:
                low = middle + 1
        notification_id, culprit = events[high - 1]
        raise ProjectionError(
            notification_id, culprit.event.TOPIC, f"the fold fails on it ({exc})"
        ) from exc


def _check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")


def _decode(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in JSON_COLUMNS:
        return json.loads(value) if isinstance(value, (str, bytes)) else value
    if column in BOOL_COLUMNS:
        return bool(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


class SQLiteReadModel(ReadModel, SQLiteTrackingRecorder):
    """The read model in its own SQLite file."""

    dialect = SQLITE

    def create_table(self) -> None:
        super().create_table()
        self.create_view_tables()

    def tracking_table(self) -> str:
        return "tracking"

    def rename_index(self, c: Any, old: str, new: str) -> None:
        # SQLite cannot rename an index: build it again under its live name.
        c.execute(f'DROP INDEX IF EXISTS "{old}"')
        for statement in self.view_table_statements():
            if statement.startswith(f"CREATE INDEX IF NOT EXISTS {new} "):
                c.execute(statement)


class PostgresReadModel(ReadModel, PostgresTrackingRecorder):
    """The read model in PostgreSQL: ``injtrack_view_*`` tables in the configured schema."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.dialect = Dialect(
            param="%s",
            prefix=VIEW_NAME.lower() + "_",
            schema=datastore.schema,
            text="TEXT",
            integer="BIGINT",
            blob="BYTEA",
            day="DATE",
            json="JSONB",
            boolean="BOOLEAN",
        )

    def create_table(self) -> None:
        super().create_table()
        self.create_view_tables()

    def tracking_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.tracking_table_name}"'

    def rename_index(self, c: Any, old: str, new: str) -> None:
        schema = self.datastore.schema
        c.execute(f'ALTER INDEX IF EXISTS "{schema}"."{old}" RENAME TO "{new}"')

    def index_renames(self, b: Dialect) -> list[tuple[str, str]]:
        # Primary keys are indexes named after their table at creation.
        d = self.dialect
        keys = [
            (f"{b.prefix}{t}_pkey", f"{d.prefix}{t}_pkey")
            for t in ("streams", "events", "procedures", "authorizations")
        ]
        return super().index_renames(b) + keys


@dataclass
class OpenedView:
    """A read model and the library factory that owns its connections."""

    view: ReadModel
    factory: InfrastructureFactory[Any]

    def close(self) -> None:
        self.factory.close()


def open_view(env: Mapping[str, str]) -> OpenedView:
    """Open (creating tables if needed) the read model the library ``env`` names:
    ``PERSISTENCE_MODULE`` eventsourcing.sqlite with ``SQLITE_DBNAME`` (the view's own file)
    or eventsourcing.postgres with the ``POSTGRES_*`` variables."""
    module = env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        create_private_file(Path(env.get("SQLITE_DBNAME", "")))
    factory = InfrastructureFactory.construct(Environment(name=VIEW_NAME, env=dict(env)))
    view_class: type[ReadModel]
    if module == "eventsourcing.sqlite":
        view_class = SQLiteReadModel
    elif module == "eventsourcing.postgres":
        view_class = PostgresReadModel
    else:
        factory.close()
        raise ValueError(f"the read model needs SQLite or PostgreSQL, not {module!r}")
    with creating_schema(factory):
        view = factory.tracking_recorder(view_class)  # type: ignore[arg-type]
    assert isinstance(view, ReadModel)
    view.protector = Protector(env.get("CIPHER_KEY") or None)
    return OpenedView(view, factory)


def catch_up(
    view: ReadModel,
    source: NotificationSource,
    mapper: Mapper[UUID],
    application_name: str,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_page: Callable[[PageResult], None] | None = None,
    max_pages: int | None = None,
) -> int:
    """Process every notification after the view's tracked position, a page per
    transaction; returns how many notifications were processed."""
    _check_page_size(page_size)
    done = 0
    pages = 0
    streams: dict[str, tuple[str, str]] = {}  # owners of the streams stored by this run
    while max_pages is None or pages < max_pages:
        position = view.max_tracking_id(application_name) or 0
        page = source.select_notifications(position + 1, page_size)
        if not page:
            break
        result = view.process_page(application_name, page, mapper, streams)
        done += result.notifications
        pages += 1
        if on_page is not None:
            on_page(result)
        if len(page) < page_size:
            break
    return done
