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
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
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

from domain.events import EVENT_TYPES, PatientRegion, RecordedEvent
from projections.rows import AuthorizationRow, ProcedureRow, patient_rows
from projections.state import fold

VIEW_NAME = "INJTRACK_VIEW"  # environment name: PostgreSQL tables are prefixed injtrack_view_
REGION_TOPIC_PREFIX = PatientRegion.TOPIC + "."
CREATED_TOPIC = PatientRegion.Created.TOPIC
DEFAULT_PAGE_SIZE = 500

PROCEDURE_COLUMNS: tuple[str, ...] = tuple(ProcedureRow.__slots__)  # type: ignore[attr-defined]
AUTHORIZATION_COLUMNS: tuple[str, ...] = tuple(AuthorizationRow.__slots__)  # type: ignore[attr-defined]
JSON_COLUMNS = frozenset({"levels", "outcomes", "authorizations", "policy"})
DATE_COLUMNS = frozenset({"date_of_service", "episode_start", "next_eligible_date"})
BOOL_COLUMNS = frozenset({"first_year"})


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

    # -- schema

    def view_table_statements(self) -> list[str]:
        d = self.dialect
        procedure_columns = ", ".join(
            f"{c} {d.column_type(c)}" + (" NOT NULL" if c in ("patient_id", "event_id") else "")
            for c in PROCEDURE_COLUMNS
        )
        authorization_columns = ", ".join(f"{c} {d.column_type(c)}" for c in AUTHORIZATION_COLUMNS)
        return [
            f"CREATE TABLE IF NOT EXISTS {d.table('streams')} ("
            f"originator_id {d.text} PRIMARY KEY, patient_id {d.text} NOT NULL, "
            f"region {d.text} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {d.table('events')} ("
            f"notification_id {d.integer} PRIMARY KEY, patient_id {d.text} NOT NULL, "
            f"region {d.text} NOT NULL, originator_id {d.text} NOT NULL, "
            f"originator_version {d.integer} NOT NULL, topic {d.text} NOT NULL, "
            f"state {d.blob} NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {d.prefix}events_patient ON {d.table('events')} "
            "(patient_id, notification_id)",
            f"CREATE TABLE IF NOT EXISTS {d.table('procedures')} ({procedure_columns}, "
            "PRIMARY KEY (patient_id, event_id))",
            f"CREATE INDEX IF NOT EXISTS {d.prefix}procedures_family ON "
            f"{d.table('procedures')} (region, family, date_of_service)",
            f"CREATE TABLE IF NOT EXISTS {d.table('authorizations')} ({authorization_columns}, "
            "PRIMARY KEY (patient_id, authorization_id))",
        ]

    def view_drop_statements(self) -> list[str]:
        d = self.dialect
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
    def _transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as c:
            yield c

    # -- processing

    def process_page(
        self, application_name: str, notifications: Sequence[Notification], mapper: Mapper[UUID]
    ) -> PageResult:
        """Apply one page of notifications and record its last id, in one transaction."""
        if not notifications:
            raise ValueError("an empty page has no position to record")
        p = self.dialect.param
        with self._transaction() as c:
            streams: dict[str, tuple[str, str]] = {}
            new_streams: list[tuple[str, str, str]] = []
            rows: list[tuple[Any, ...]] = []
            touched: set[str] = set()
            for n in notifications:
                if not n.topic.startswith(REGION_TOPIC_PREFIX):
                    continue
                originator_id = str(n.originator_id)
                if n.topic == CREATED_TOPIC:
                    created = mapper.to_domain_event(n)
                    assert isinstance(created, PatientRegion.Created)
                    streams[originator_id] = (created.patient_id, created.region)
                    new_streams.append((originator_id, created.patient_id, created.region))
                owner = streams.get(originator_id) or self._stream(c, originator_id)
                if owner is None:
                    raise LookupError(
                        f"notification {n.id} belongs to stream "
                        f"{originator_id}, whose Created event was never seen"
                    )
                streams[originator_id] = owner
                rows.append(
                    (
                        n.id,
                        owner[0],
                        owner[1],
                        originator_id,
                        n.originator_version,
                        n.topic,
                        n.state,
                    )
                )
                touched.add(owner[0])
            if new_streams:
                c.executemany(
                    f"INSERT INTO {self.dialect.table('streams')} VALUES ({p}, {p}, {p}) "
                    "ON CONFLICT (originator_id) DO NOTHING",
                    new_streams,
                )
            if rows:
                c.executemany(
                    f"INSERT INTO {self.dialect.table('events')} VALUES "
                    f"({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                    rows,
                )
            for patient_id in sorted(touched):
                self._refold(c, patient_id, mapper)
            position = notifications[-1].id
            self._insert_tracking(c, Tracking(application_name, position))  # type: ignore[attr-defined]
        return PageResult(len(notifications), len(rows), len(touched), position)

    def _stream(self, c: Any, originator_id: str) -> tuple[str, str] | None:
        c.execute(
            f"SELECT patient_id, region FROM {self.dialect.table('streams')} "
            f"WHERE originator_id = {self.dialect.param}",
            (originator_id,),
        )
        row = c.fetchone()
        return (row["patient_id"], row["region"]) if row is not None else None

    def _refold(self, c: Any, patient_id: str, mapper: Mapper[UUID]) -> None:
        p = self.dialect.param
        events = self._patient_events(c, patient_id, mapper)
        procedures, authorizations = patient_rows(fold(events, patient_id=patient_id))
        for table in ("procedures", "authorizations"):
            c.execute(
                f"DELETE FROM {self.dialect.table(table)} WHERE patient_id = {p}", (patient_id,)
            )
        for table, columns, rows in (
            ("procedures", PROCEDURE_COLUMNS, procedures),
            ("authorizations", AUTHORIZATION_COLUMNS, authorizations),
        ):
            if rows:
                c.executemany(
                    f"INSERT INTO {self.dialect.table(table)} ({', '.join(columns)}) "
                    f"VALUES ({', '.join([p] * len(columns))})",
                    [self._encode(r.as_record(), columns) for r in rows],
                )

    def _patient_events(self, c: Any, patient_id: str, mapper: Mapper[UUID]) -> list[RecordedEvent]:
        c.execute(
            "SELECT region, originator_id, originator_version, topic, state FROM "
            f"{self.dialect.table('events')} WHERE patient_id = {self.dialect.param} "
            "ORDER BY notification_id",
            (patient_id,),
        )
        out: list[RecordedEvent] = []
        for row in c.fetchall():
            if row["topic"] == CREATED_TOPIC:
                continue
            event = mapper.to_domain_event(
                StoredEvent(
                    originator_id=UUID(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
            if type(event) in EVENT_TYPES:
                out.append(RecordedEvent(patient_id, row["region"], event))  # type: ignore[arg-type]
        return out

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
            where, params = f" WHERE patient_id = {self.dialect.param}", (patient_id,)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {', '.join(columns)} FROM {self.dialect.table(table)}"
                f"{where} ORDER BY {order}",
                params,
            )
            return [{col: _decode(col, row[col]) for col in columns} for row in c.fetchall()]

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
    factory = InfrastructureFactory.construct(Environment(name=VIEW_NAME, env=dict(env)))
    module = env.get("PERSISTENCE_MODULE", "")
    view_class: type[ReadModel]
    if module == "eventsourcing.sqlite":
        view_class = SQLiteReadModel
    elif module == "eventsourcing.postgres":
        view_class = PostgresReadModel
    else:
        factory.close()
        raise ValueError(f"the read model needs SQLite or PostgreSQL, not {module!r}")
    view = factory.tracking_recorder(view_class)  # type: ignore[arg-type]
    assert isinstance(view, ReadModel)
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
    done = 0
    pages = 0
    while max_pages is None or pages < max_pages:
        position = view.max_tracking_id(application_name) or 0
        page = source.select_notifications(position + 1, page_size)
        if not page:
            break
        result = view.process_page(application_name, page, mapper)
        done += result.notifications
        pages += 1
        if on_page is not None:
            on_page(result)
        if len(page) < page_size:
            break
    return done
