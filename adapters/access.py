"""Database code of access control: API keys (salted hashes only) and the access trail.

Both live in the service's own database, beside the event store: the SQLite file
``INJTRACK_DB`` names, or the PostgreSQL database (and schema) of ``INJTRACK_DATABASE_URL``;
with the throwaway ``memory`` store, in an in-memory SQLite database. Tables:

- ``injtrack_api_keys``: one row per key: public ``key_id``, ``name``, ``roles``
  (comma-separated), ``salt`` and ``key_hash`` (hex), ``created_at``, ``revoked_at``;
- ``injtrack_access_log``: append-only, one row per (request, patient named by it); nothing
  here ever updates or deletes a row. With encryption at rest on, ``patient_id`` holds the
  id concealed by :class:`adapters.protect.Protector` (deterministic AES-SIV: the trail is
  still queried by it), so no patient id is stored in clear.

The service appends to the trail through :class:`GroupCommit`: the entries of concurrent
requests are committed together, in one transaction (one fsync), by one writer thread, and
each request waits for the commit of its own entries before it answers.

Nothing here knows HTTP or how a key's hash is computed (:mod:`application.access`).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.pg_schema import SCHEMA_LOCK, XACT_LOCK_SQL
from adapters.protect import NO_PROTECTION, Protector, create_private_file

log = logging.getLogger("injtrack.errors")

KEYS_TABLE = "injtrack_api_keys"
TRAIL_TABLE = "injtrack_access_log"


@dataclass(frozen=True, slots=True)
class StoredKey:
    key_id: str
    name: str
    roles: tuple[str, ...]
    salt: str
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One line of the access trail: who (key name and the role that allowed or was
    refused), what (method and route template, never the path), whom (patient id, when the
    request named one), how it ended (HTTP status and outcome), when and which request."""

    at: datetime
    request_id: str
    key_name: str | None
    role: str | None
    method: str
    route: str
    patient_id: str | None
    status: int
    outcome: str


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _key(row: Sequence[Any]) -> StoredKey:
    return StoredKey(
        key_id=row[0],
        name=row[1],
        roles=tuple(r for r in str(row[2]).split(",") if r),
        salt=row[3],
        key_hash=row[4],
        created_at=_instant(row[5]),
        revoked_at=_instant(row[6]) if row[6] is not None else None,
    )


def _entry(row: Sequence[Any], protector: Protector) -> AccessEntry:
    patient_id = protector.reveal(row[6]) if row[6] is not None else None
    return AccessEntry(
        at=_instant(row[0]),
        request_id=row[1],
        key_name=row[2],
        role=row[3],
        method=row[4],
        route=row[5],
        patient_id=patient_id,
        status=int(row[7]),
        outcome=row[8],
    )


_KEY_COLUMNS = "key_id, name, roles, salt, key_hash, created_at, revoked_at"
_TRAIL_COLUMNS = "at, request_id, key_name, role, method, route, patient_id, status, outcome"


class AccessStore(ABC):
    """Keys and the access trail in one database."""

    param = "?"

    def __init__(self, schema: str | None = None, protector: Protector = NO_PROTECTION) -> None:
        self.schema = schema
        self.protector = protector

    def _stored_patient(self, patient_id: str | None) -> str | None:
        return self.protector.conceal(patient_id) if patient_id is not None else None

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.schema else f'"{name}"'

    @abstractmethod
    @contextmanager
    def _cursor(self, write: bool) -> Iterator[Any]: ...

    @abstractmethod
    def _ddl(self) -> list[str]: ...

    @abstractmethod
    def _instant_param(self, value: datetime) -> Any: ...

    def close(self) -> None:  # noqa: B027 - optional for subclasses
        """Release connections."""

    def create_tables(self) -> None:
        with self._cursor(write=True) as cur:
            for statement in self._ddl():
                cur.execute(statement)

    # ------------------------------------------------------------------ keys

    def insert_key(self, key: StoredKey) -> None:
        p = self.param
        with self._cursor(write=True) as cur:
            cur.execute(
                f"INSERT INTO {self.table(KEYS_TABLE)} ({_KEY_COLUMNS}) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                (
                    key.key_id,
                    key.name,
                    ",".join(key.roles),
                    key.salt,
                    key.key_hash,
                    self._instant_param(key.created_at),
                    None,
                ),
            )

    def find_key(self, key_id: str) -> StoredKey | None:
        with self._cursor(write=False) as cur:
            cur.execute(
                f"SELECT {_KEY_COLUMNS} FROM {self.table(KEYS_TABLE)} WHERE key_id = {self.param}",
                (key_id,),
            )
            row = cur.fetchone()
        return _key(row) if row is not None else None

    def list_keys(self) -> list[StoredKey]:
        with self._cursor(write=False) as cur:
            cur.execute(
                f"SELECT {_KEY_COLUMNS} FROM {self.table(KEYS_TABLE)} ORDER BY created_at, name"
            )
            rows = cur.fetchall()
        return [_key(r) for r in rows]

    def active_key_count(self) -> int:
        with self._cursor(write=False) as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.table(KEYS_TABLE)} WHERE revoked_at IS NULL")
            row = cur.fetchone()
        return int(row[0])

    def revoke(self, key_id_or_name: str, at: datetime) -> list[str]:
        """Revoke the active keys whose id or name is ``key_id_or_name``; their ids."""
        p = self.param
        where = f"(key_id = {p} OR name = {p}) AND revoked_at IS NULL"
        with self._cursor(write=True) as cur:
            cur.execute(
                f"SELECT key_id FROM {self.table(KEYS_TABLE)} WHERE {where}",
                (key_id_or_name, key_id_or_name),
            )
            ids = [r[0] for r in cur.fetchall()]
            cur.execute(
                f"UPDATE {self.table(KEYS_TABLE)} SET revoked_at = {p} WHERE {where}",
                (self._instant_param(at), key_id_or_name, key_id_or_name),
            )
        return ids

    # ------------------------------------------------------------------ access trail

    def append(self, entries: Sequence[AccessEntry]) -> None:
        if not entries:
            return
        p = self.param
        rows = [
            (
                self._instant_param(e.at),
                e.request_id,
                e.key_name,
                e.role,
                e.method,
                e.route,
                self._stored_patient(e.patient_id),
                e.status,
                e.outcome,
            )
            for e in entries
        ]
        with self._cursor(write=True) as cur:
            cur.executemany(
                f"INSERT INTO {self.table(TRAIL_TABLE)} ({_TRAIL_COLUMNS}) "
                f"VALUES ({', '.join([p] * 9)})",
                rows,
            )

    def query(
        self,
        *,
        patient_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[int, list[AccessEntry]]:
        """Entries in recording order (``start`` inclusive, ``end`` exclusive) and the
        total that match."""
        p = self.param
        clauses: list[str] = []
        params: list[Any] = []
        if patient_id is not None:
            clauses.append(f"patient_id = {p}")
            params.append(self._stored_patient(patient_id))
        if start is not None:
            clauses.append(f"at >= {p}")
            params.append(self._instant_param(start))
        if end is not None:
            clauses.append(f"at < {p}")
            params.append(self._instant_param(end))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        table = self.table(TRAIL_TABLE)
        with self._cursor(write=False) as cur:
            cur.execute(f"SELECT COUNT(*) FROM {table}{where}", params)
            total = int(cur.fetchone()[0])
            cur.execute(
                f"SELECT {_TRAIL_COLUMNS} FROM {table}{where} ORDER BY id LIMIT {p} OFFSET {p}",
                [*params, limit, offset],
            )
            rows = cur.fetchall()
        return total, [_entry(r, self.protector) for r in rows]


class SQLiteAccessStore(AccessStore):
    """In the event store's SQLite file (WAL), or in memory. Reads and writes each have a
    connection of their own, so key checks never queue behind a trail write."""

    def __init__(self, path: Path | str, protector: Protector = NO_PROTECTION) -> None:
        super().__init__(protector=protector)
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self._connections: dict[bool, sqlite3.Connection] = {}
        lock = threading.Lock()
        # In memory both roles share the one connection that holds the database.
        self._locks = {True: lock, False: lock if self.memory else threading.Lock()}
        if not self.memory:
            create_private_file(Path(self.path))  # readable by its owner only
        self.create_tables()

    def _connection(self, write: bool) -> sqlite3.Connection:
        """Opened on first use, so a closed store (an app shut down and started again, as
        test clients do) opens again."""
        key = write and not self.memory
        conn = self._connections.get(key)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, check_same_thread=False, isolation_level=None
            )
            if not self.memory:
                conn.execute("PRAGMA journal_mode=WAL")
            self._connections[key] = conn
        return conn

    @contextmanager
    def _cursor(self, write: bool) -> Iterator[sqlite3.Cursor]:
        with self._locks[write]:
            conn = self._connection(write)
            cur = conn.cursor()
            if write:
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            else:
                yield cur

    def _ddl(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table(KEYS_TABLE)} ("
            "key_id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, "
            "salt TEXT NOT NULL, key_hash TEXT NOT NULL, created_at TEXT NOT NULL, "
            "revoked_at TEXT)",
            f"CREATE TABLE IF NOT EXISTS {self.table(TRAIL_TABLE)} ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, request_id TEXT NOT NULL, "
            "key_name TEXT, role TEXT, method TEXT NOT NULL, route TEXT NOT NULL, "
            "patient_id TEXT, status INTEGER NOT NULL, outcome TEXT NOT NULL)",
            f'CREATE INDEX IF NOT EXISTS "{TRAIL_TABLE}_patient" '
            f"ON {self.table(TRAIL_TABLE)} (patient_id, at)",
            f'CREATE INDEX IF NOT EXISTS "{TRAIL_TABLE}_at" ON {self.table(TRAIL_TABLE)} (at)',
        ]

    def _instant_param(self, value: datetime) -> str:
        # Fixed-width UTC text sorts in time order (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``).
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def close(self) -> None:
        if self.memory:
            return  # the connection is the database
        for write in (True, False):
            with self._locks[write]:
                conn = self._connections.pop(write, None)
                if conn is not None:
                    conn.close()


class PostgresAccessStore(AccessStore):
    """In the PostgreSQL database and schema of the event store, through a small pool."""

    param = "%s"

    def __init__(
        self,
        conninfo: dict[str, str],
        schema: str | None = None,
        protector: Protector = NO_PROTECTION,
    ) -> None:
        super().__init__(schema or "public", protector)
        self.conninfo = {**conninfo, "connect_timeout": 10}
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self.create_tables()

    def _open_pool(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    kwargs=self.conninfo, min_size=1, max_size=8, open=True, name="injtrack-access"
                )
            return self._pool

    @contextmanager
    def _cursor(self, write: bool) -> Iterator[Any]:
        pool = self._pool or self._open_pool()
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    def _ddl(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table(KEYS_TABLE)} ("
            "key_id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, "
            "salt TEXT NOT NULL, key_hash TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, "
            "revoked_at TIMESTAMPTZ)",
            f"CREATE TABLE IF NOT EXISTS {self.table(TRAIL_TABLE)} ("
            "id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, request_id TEXT NOT NULL, "
            "key_name TEXT, role TEXT, method TEXT NOT NULL, route TEXT NOT NULL, "
            "patient_id TEXT, status INTEGER NOT NULL, outcome TEXT NOT NULL)",
            f'CREATE INDEX IF NOT EXISTS "{TRAIL_TABLE}_patient" '
            f"ON {self.table(TRAIL_TABLE)} (patient_id, at)",
            f'CREATE INDEX IF NOT EXISTS "{TRAIL_TABLE}_at" ON {self.table(TRAIL_TABLE)} (at)',
        ]

    def create_tables(self) -> None:
        # One process at a time creates tables in the database (adapters.pg_schema).
        with self._cursor(write=True) as cur:
            cur.execute(XACT_LOCK_SQL, (SCHEMA_LOCK,))
            for statement in self._ddl():
                cur.execute(statement)

    def _instant_param(self, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


Committed = Callable[[BaseException | None], None]
"""Told once its entries are committed (``None``) or failed to commit (the error)."""


class GroupCommit:
    """Group commit of the access trail: one writer thread takes every entry waiting (up to
    ``max_entries``), appends them in ONE transaction, then tells each submitter how its
    entries fared. A request's entries are committed with those of its group or not at
    all, and a submitter hears "committed" only after the commit returned, so waiting for
    it keeps the trail durable before the response (the store's own durability: SQLite
    ``synchronous=FULL`` fsyncs the WAL at every commit). Concurrent requests share one
    commit and its fsync instead of queueing for one each; a lone request costs what a
    direct append costs."""

    def __init__(self, store: AccessStore, max_entries: int = 500) -> None:
        self.store = store
        self.max_entries = max_entries
        self._queue: queue.SimpleQueue[tuple[Sequence[AccessEntry], Committed] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0  # commits made (tests and the bench read it)

    def submit(self, entries: Sequence[AccessEntry], committed: Committed) -> None:
        """Queue ``entries``; ``committed`` is called from the writer thread."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="injtrack-trail-writer", daemon=True
                    )
                    self._thread.start()
        self._queue.put((entries, committed))

    def append(self, entries: Sequence[AccessEntry]) -> None:
        """Submit and wait (for callers that are not on an event loop)."""
        done = threading.Event()
        failure: list[BaseException] = []

        def committed(error: BaseException | None) -> None:
            if error is not None:
                failure.append(error)
            done.set()

        self.submit(entries, committed)
        done.wait()
        if failure:
            raise failure[0]

    def close(self) -> None:
        """Commit what is queued, then stop the writer (a later submit starts it again)."""
        with self._lock:
            thread = self._thread
            if thread is not None and thread.is_alive():
                self._queue.put(None)
                thread.join()
            self._thread = None

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            count = len(item[0])
            while count < self.max_entries:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
                count += len(item[0])
            self._commit(group)

    def _commit(self, group: list[tuple[Sequence[AccessEntry], Committed]]) -> None:
        error: BaseException | None = None
        try:
            self.store.append([e for entries, _ in group for e in entries])
            self.groups += 1
        except Exception as exc:  # every submitter of the group hears of it
            error = exc
        for _, committed in group:
            try:
                committed(error)
            except Exception:  # a submitter gone (its event loop closed) stops nobody else
                log.exception("access trail: a request could not be told of its commit")
