"""Creating the store's PostgreSQL tables one process at a time.

Every process that opens a store creates what is missing: the library's event and
tracking tables (``CREATE TABLE IF NOT EXISTS``), its composite type (``CREATE TYPE``, no
``IF NOT EXISTS``) and insert function (``CREATE OR REPLACE FUNCTION``, on every start),
the read model's and the access store's tables. PostgreSQL does not serialise DDL on the
same catalog rows across sessions: two processes starting at once (``injtrack serve
--workers 2``, two service replicas, an import beside a starting server) failed one of
them with "tuple concurrently updated" or a duplicate key in ``pg_type``, and that process
refused to start. Every schema creation of ours first takes :data:`SCHEMA_LOCK`, one
advisory lock per database: the others wait for it, then find everything created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresFactory

SCHEMA_LOCK = 0x696E6A7472616B  # "injtrak": the advisory lock key of schema creation
LOCK_SQL = "SELECT pg_advisory_lock(%s)"
XACT_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"
"""For DDL run in one transaction of one's own: held until it commits or rolls back."""


@contextmanager
def creating_schema(factory: Any) -> Iterator[None]:
    """Hold :data:`SCHEMA_LOCK` while the body creates tables through ``factory`` (a library
    infrastructure factory); nothing to hold for other stores (SQLite serialises DDL by its
    writer lock). The lock is held by a connection of its own, outside the library's pool
    (whose size may be one), and released when that connection closes, even if the body
    fails or the process dies."""
    if not isinstance(factory, PostgresFactory):
        yield
        return
    pool = factory.datastore.pool  # the library's datastore connects with kwargs only
    given = pool.kwargs() if callable(pool.kwargs) else pool.kwargs
    kwargs = dict(given or {})
    kwargs.pop("row_factory", None)
    if pool.get_password_func is not None:
        kwargs["password"] = pool.get_password_func()
    with psycopg.connect(autocommit=True, **kwargs) as conn:
        conn.execute(LOCK_SQL, (SCHEMA_LOCK,))
        yield
