"""Shared fixtures for every test package: stores, a settable clock, the app.

How to use them
---------------
* ``backend`` is parametrized over the three event stores the service supports:
  ``memory`` (the library's POPO recorder), ``sqlite`` (a file in ``tmp_path``) and
  ``postgres`` (a fresh schema on the server named by ``INJTRACK_TEST_POSTGRES_URL``, default
  ``postgresql://postgres@127.0.0.1:5432/test``, dropped after the test). A test that asks for
  ``backend`` (or ``ledger``/``client``, which build on it) runs once per store. Ask for
  ``durable_backend`` instead to run on SQLite and PostgreSQL only.
* PostgreSQL tests carry the ``postgres`` marker. They are skipped, with the reason, only when
  no server answers; with ``INJTRACK_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail instead.
* ``clock`` is a :class:`FakeClock`: ``clock.now()`` is the service's "now" (UTC),
  ``clock.advance(hours=1)`` moves it, ``clock.set(instant)`` jumps. It is callable, so it can
  be passed wherever a ``Callable[[], datetime]`` clock is expected. Never use freezegun for the
  service's clock: the eventsourcing library's timestamps break under it.
* ``make_settings(**overrides)`` gives the :class:`~api.settings.Settings` of the current
  backend (with the read model's SQLite file in ``tmp_path``), overridden as asked.
* ``make_ledger()`` opens an :class:`~api.ledger.InjectionLedger` on the current backend (call
  it twice for two "processes" on one database); ``ledger`` is the first one. All are closed
  at teardown.
* ``make_client(ledger=None, clock=None)`` builds a ``TestClient`` over
  ``create_app(settings, clock, ledger)``; ``client`` shares ``ledger`` and ``clock`` so a
  test can post through HTTP and inspect the store directly.

Event builders (``procedure(...)``, ``outcome(...)``, ...) and ``store_size(ledger)`` live in
:mod:`tests.builders`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import build_ledger, create_app
from api.ledger import InjectionLedger
from api.settings import Settings, postgres_env

DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("memory", "sqlite", "postgres")
DURABLE_BACKENDS = ("sqlite", "postgres")
START = datetime(2025, 3, 10, 14, 30, tzinfo=timezone.utc)


# --------------------------------------------------------------------------------- clock


@dataclass
class FakeClock:
    """A settable UTC clock. ``clock()`` and ``clock.now()`` both read it."""

    current: datetime = START

    def now(self) -> datetime:
        return self.current

    __call__ = now

    def today(self) -> date:
        """Today's date in UTC, as the service sees it."""
        return self.current.astimezone(timezone.utc).date()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a clock does not run backwards; use set() to jump")
        self.current += step
        return self.current

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock is timezone-aware (UTC); give an aware datetime")
        self.current = instant.astimezone(timezone.utc)


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
    return (f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:"
            f"{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}")


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


@dataclass(frozen=True)
class Backend:
    """One event store configuration: ``name`` is memory | sqlite | postgres."""

    name: str
    settings: Settings

    @property
    def durable(self) -> bool:
        return self.name != "memory"


def _backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
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


def _params(names: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(n, id=n, marks=[pytest.mark.postgres] if n == "postgres" else [])
        for n in names
    ]


@pytest.fixture(params=_params(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each of the three event stores in turn (memory, sqlite, postgres)."""
    return _backend(request.param, request, tmp_path)


@pytest.fixture(params=_params(DURABLE_BACKENDS))
def durable_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The stores that outlive a process and are shared between processes: sqlite, postgres."""
    return _backend(request.param, request, tmp_path)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> Backend:
    """Whichever of ``backend`` / ``durable_backend`` the test asked for (``backend`` when
    it asked for neither)."""
    if "durable_backend" in request.fixturenames:
        return request.getfixturevalue("durable_backend")
    return request.getfixturevalue("backend")


class SettingsFactory(Protocol):
    def __call__(self, **overrides: Any) -> Settings: ...


@pytest.fixture
def make_settings(store_backend: Backend) -> SettingsFactory:
    """``make_settings(**overrides)``: the current backend's settings with overrides."""

    def make(**overrides: Any) -> Settings:
        return store_backend.settings.model_copy(update=overrides)

    return make


class LedgerFactory(Protocol):
    def __call__(self, settings: Settings | None = None,
                 clock: Callable[[], datetime] | None = None) -> InjectionLedger: ...


@pytest.fixture
def make_ledger(make_settings: SettingsFactory, clock: FakeClock) -> Iterator[LedgerFactory]:
    """``make_ledger(settings=None, clock=None)``: a new InjectionLedger application on the
    current backend (each call is a separate "process" on the same database)."""
    opened: list[InjectionLedger] = []
    default_clock = clock

    def make(settings: Settings | None = None,
             clock: Callable[[], datetime] | None = None) -> InjectionLedger:
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
    def __call__(self, ledger: InjectionLedger | None = None,
                 clock: Callable[[], datetime] | None = None,
                 settings: Settings | None = None) -> TestClient: ...


@pytest.fixture
def make_client(
    make_settings: SettingsFactory, make_ledger: LedgerFactory, clock: FakeClock
) -> Iterator[ClientFactory]:
    """``make_client(ledger=None, clock=None, settings=None)``: a TestClient over
    ``create_app(settings, clock, ledger)``; a new ledger is opened when none is given."""
    clients: list[TestClient] = []
    default_clock = clock

    def make(ledger: InjectionLedger | None = None,
             clock: Callable[[], datetime] | None = None,
             settings: Settings | None = None) -> TestClient:
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
