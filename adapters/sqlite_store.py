"""The library's SQLite persistence with a page cache sized for the store.

SQLite gives each connection a page cache of 2 MiB by default. A store of 100,000 patients
(~860,000 events, ~650 MB) has more B-tree interior pages than that, so a decision's lookups
in the events table and its primary-key index missed the cache and read pages from the OS
with a system call each: the decision's read cost grew with the store (growth, issue 12).
This factory is :class:`eventsourcing.sqlite.SQLiteFactory` whose connections set
``PRAGMA cache_size`` from ``SQLITE_CACHE_KIB`` (the setting ``INJTRACK_SQLITE_CACHE_MB``) as
they are opened. The cache is filled on demand, per connection, up to that size; it holds
file pages (never answers) and SQLite drops what another connection changed (WAL).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory
from eventsourcing.utils import Environment, EnvType

CACHE_KIB = "SQLITE_CACHE_KIB"


class SizedCachePool(SQLiteConnectionPool):
    """Connections with ``PRAGMA cache_size = -cache_kib`` (KiB; 0 keeps SQLite's own)."""

    def __init__(self, *, cache_kib: int, **kwargs: Any) -> None:
        self.cache_kib = cache_kib
        super().__init__(**kwargs)

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        if self.cache_kib > 0:
            raw: sqlite3.Connection = connection._sqlite_conn
            raw.execute(f"PRAGMA cache_size = -{int(self.cache_kib)}")
        return connection


class SizedCacheSQLiteFactory(SQLiteFactory):
    """``eventsourcing.sqlite`` whose connections' page cache is ``SQLITE_CACHE_KIB``."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        raw = (self.env.get(CACHE_KIB) or "").strip()
        try:
            cache_kib = int(raw) if raw else 0
        except ValueError:
            msg = f"{CACHE_KIB} must be a whole number of KiB, not {raw!r}"
            raise OSError(msg) from None
        if cache_kib < 0:
            msg = f"{CACHE_KIB} must not be negative"
            raise OSError(msg)
        # The library's datastore builds its pool itself; this one is the same pool (same
        # file, lock timeout and sizes) whose new connections get the cache size. The
        # library's pool has opened no connection yet (it opens them on first use).
        library_pool = self.datastore.pool
        self.datastore.pool = SizedCachePool(
            cache_kib=cache_kib,
            db_name=library_pool.db_name,
            lock_timeout=library_pool.lock_timeout,
            pool_size=library_pool.pool_size,
            max_overflow=library_pool.max_overflow,
            pool_timeout=library_pool.pool_timeout,
            max_age=library_pool.max_age,
            pre_ping=library_pool.pre_ping,
        )
        library_pool.close()


TOPIC = f"{__name__}:{SizedCacheSQLiteFactory.__qualname__}"
