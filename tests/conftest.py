"""Shared fixtures for every test package: stores, a settable clock, the app.

How to use them
---------------
* ``backend`` is parametrized over the three event stores the service supports:
  ``memory`` (the library's POPO recorder), ``sqlite`` (a file in ``tmp_path``) and
  ``postgres`` (a fresh schema on the server named by ``INJTRACK_TEST_POSTGRES_URL``, default
  ``postgresql://postgres@127.0.0.1:5432/test``, dropped after the test). A test that asks for
  ``backend`` (or ``ledger``/``client``, which build on it) runs once per store. Decorate it
  with ``@on_backends("sqlite", "postgres")`` (from :mod:`tests.support`) to narrow that.
* PostgreSQL tests carry the ``postgres`` marker. They are skipped, with the reason, only when
  no server answers; with ``INJTRACK_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail instead.
* ``clock`` is a :class:`tests.support.FakeClock`: ``clock.now()`` is the service's "now" (UTC),
  ``clock.advance(hours=1)`` moves it, ``clock.set(instant)`` jumps. It is callable, so it can
  be passed wherever a ``Callable[[], datetime]`` clock is expected. Never use freezegun for the
  service's clock: the eventsourcing library's timestamps break under it.
* ``make_settings(**overrides)`` gives the :class:`~api.settings.Settings` of the current
  backend (with the read model's SQLite file in ``tmp_path``), overridden as asked.
* ``make_ledger()`` opens an :class:`~adapters.eventstore.InjectionLedger` on the current backend (call
  it twice for two "processes" on one database); ``ledger`` is the first one. All are closed
  at teardown.
* ``make_client(ledger=None, clock=None)`` builds a ``TestClient`` over
  ``create_app(settings, clock, ledger)``; ``client`` shares ``ledger`` and ``clock`` so a
  test can post through HTTP and inspect the store directly.

Event builders (``procedure(...)``, ``outcome(...)``, ...) live in :mod:`tests.builders`;
``FakeClock``, ``on_backends`` and ``store_size(ledger)`` in :mod:`tests.support`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from api.app import build_ledger, create_app
from api.settings import Settings, postgres_env
from tests.support import BACKENDS, Backend, FakeClock, backend_params

DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


# --------------------------------------------------------------------------------- clock


@pytest.fixture
def clock() -> FakeClock:
    """The service's clock, starting at 2025-03-10T14:30:00Z."""
    return FakeClock()


# ------------------------------------------------------------------------------ postgres


def postgres_url() -> str:
    return os.environ.get("INJTRACK_TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


def postgres_required() -> bool:
    return os.environ.get("INJTRACK_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no")


_pg_unreachable: list[str] = []  # the reason, once a connection attempt has failed


def _connect_postgres() -> psycopg.Connection[Any]:
    """A connection to the test server; skips (or fails when required) if none answers."""
    url = postgres_url()
    if not _pg_unreachable:
        try:
            return psycopg.connect(url, connect_timeout=5, autocommit=True)
        except psycopg.OperationalError as exc:
            _pg_unreachable.append(str(exc).strip().splitlines()[0] if str(exc) else repr(exc))
    reason = (
        f"no PostgreSQL server answers at {_redact(url)} ({_pg_unreachable[0]}); "
        "set INJTRACK_TEST_POSTGRES_URL to run the PostgreSQL tests"
    )
    if postgres_required():
        pytest.fail(f"INJTRACK_REQUIRE_POSTGRES is set but {reason}", pytrace=False)
    pytest.skip(reason)


def _redact(url: str) -> str:
    env = postgres_env(url)
    return (
        f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:"
        f"{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"
    )


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema on the test server, dropped (with its tables) afterwards."""
    name = f"t_{uuid.uuid4().hex}"
    with _connect_postgres() as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with _connect_postgres() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


# ------------------------------------------------------------------------------ backends


@pytest.fixture(params=backend_params(*BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each event store in turn: memory, sqlite, postgres. Narrow it for one test with
    ``@on_backends("sqlite", "postgres")`` (indirect parametrization)."""
    name: str = request.param
    base: dict[str, Any] = {
        "db": tmp_path / "store.sqlite",
        "view_db": tmp_path / "view.sqlite",
        "persistence": name,
        "database_url": None,
        "postgres_schema": None,
    }
    if name == "postgres":
        base["database_url"] = postgres_url()
        base["postgres_schema"] = request.getfixturevalue("postgres_schema")
    return Backend(name=name, settings=Settings(**base))


class SettingsFactory(Protocol):
    def __call__(self, **overrides: Any) -> Settings: ...


@pytest.fixture
def make_settings(backend: Backend) -> SettingsFactory:
    """``make_settings(**overrides)``: the current backend's settings with overrides."""

    def make(**overrides: Any) -> Settings:
        return backend.settings.model_copy(update=overrides)

    return make


class LedgerFactory(Protocol):
    def __call__(
        self, settings: Settings | None = None, clock: Callable[[], datetime] | None = None
    ) -> InjectionLedger: ...


@pytest.fixture
def make_ledger(make_settings: SettingsFactory, clock: FakeClock) -> Iterator[LedgerFactory]:
    """``make_ledger(settings=None, clock=None)``: a new InjectionLedger application on the
    current backend (each call is a separate "process" on the same database)."""
    opened: list[InjectionLedger] = []
    default_clock = clock

    def make(
        settings: Settings | None = None, clock: Callable[[], datetime] | None = None
    ) -> InjectionLedger:
        s = settings or make_settings()
        app = build_ledger(s, clock or default_clock)
        opened.append(app)
        return app

    yield make
    for app in reversed(opened):
        app.close()


@pytest.fixture
def ledger(make_ledger: LedgerFactory) -> InjectionLedger:
    """The event store application of the current backend, on the ``clock`` fixture."""
    return make_ledger()


class ClientFactory(Protocol):
    def __call__(
        self,
        ledger: InjectionLedger | None = None,
        clock: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
    ) -> TestClient: ...


@pytest.fixture
def make_client(
    make_settings: SettingsFactory, make_ledger: LedgerFactory, clock: FakeClock
) -> Iterator[ClientFactory]:
    """``make_client(ledger=None, clock=None, settings=None)``: a TestClient over
    ``create_app(settings, clock, ledger)``; a new ledger is opened when none is given."""
    clients: list[TestClient] = []
    default_clock = clock

    def make(
        ledger: InjectionLedger | None = None,
        clock: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
    ) -> TestClient:
        s = settings or make_settings()
        the_clock = clock or default_clock
        app = create_app(s, the_clock, ledger or make_ledger(s, the_clock))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory, ledger: InjectionLedger) -> TestClient:
    """The HTTP API over ``ledger`` and ``clock``."""
    return make_client(ledger=ledger)
