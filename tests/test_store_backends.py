"""The store chosen by configuration, durability across restarts, and two processes on one
database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from adapters.sqlite_store import TOPIC as SQLITE_TOPIC
from api.app import build_ledger
from api.settings import Settings
from domain.errors import EventIdConflict
from domain.events import PatientRegion
from tests.builders import outcome, parse, procedure, void
from tests.conftest import LedgerFactory, SettingsFactory, postgres_url
from tests.support import Backend, on_backends


@pytest.mark.parametrize(
    ("env", "module"),
    [
        pytest.param({}, SQLITE_TOPIC, id="by default the store is an SQLite file"),
        pytest.param(
            {"INJTRACK_DATABASE_URL": "postgresql://u:pw@db.example:6543/injtrack"},
            "eventsourcing.postgres",
            id="a database url selects PostgreSQL",
        ),
        pytest.param(
            {"INJTRACK_DATABASE_URL": "postgresql://u@h/d", "INJTRACK_PERSISTENCE": "memory"},
            "eventsourcing.popo",
            id="persistence memory wins over a database url",
        ),
        pytest.param(
            {"INJTRACK_PERSISTENCE": "sqlite", "INJTRACK_DATABASE_URL": "postgresql://u@h/d"},
            SQLITE_TOPIC,
            id="persistence sqlite wins over a database url",
        ),
    ],
)
def test_the_store_is_chosen_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], module: str
) -> None:
    for name in list(os.environ):
        if name.startswith("INJTRACK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().library_env()["PERSISTENCE_MODULE"] == module


def test_sqlite_settings_name_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INJTRACK_DB", str(tmp_path / "x.sqlite"))
    monkeypatch.delenv("INJTRACK_DATABASE_URL", raising=False)
    monkeypatch.delenv("INJTRACK_PERSISTENCE", raising=False)
    monkeypatch.delenv("INJTRACK_VIEW_DB", raising=False)
    settings = Settings()
    assert settings.library_env()["SQLITE_DBNAME"] == str(tmp_path / "x.sqlite")
    assert settings.effective_view_db == tmp_path / "x.sqlite.view"


def _page_cache_kib(settings: Settings) -> int:
    ledger = build_ledger(settings)
    try:
        with ledger.recorder.datastore.get_connection(commit=False) as conn:  # type: ignore[attr-defined]
            (size,) = conn._sqlite_conn.execute("PRAGMA cache_size").fetchone()
    finally:
        ledger.close()
    return -int(size)  # negative: KiB


def test_the_sqlite_store_reads_through_a_page_cache_of_the_configured_size(
    tmp_path: Path,
) -> None:
    """The library's connections have SQLite's 2 MiB; at 100,000 patients that missed the
    B-tree's inner pages on every decision (a read from the OS per page)."""
    assert _page_cache_kib(Settings(db=tmp_path / "a.sqlite", database_url=None)) == 16 * 1024
    assert (
        _page_cache_kib(Settings(db=tmp_path / "b.sqlite", database_url=None, sqlite_cache_mb=64))
        == 64 * 1024
    )
    assert (
        _page_cache_kib(Settings(db=tmp_path / "c.sqlite", database_url=None, sqlite_cache_mb=0))
        == 2000
    )


def test_a_sqlite_cache_size_that_is_not_a_whole_number_of_kib_is_refused(tmp_path: Path) -> None:
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    env = {"PERSISTENCE_MODULE": SQLITE_TOPIC, "SQLITE_DBNAME": str(tmp_path / "x.sqlite")}
    for bad in ("lots", "-5"):
        with pytest.raises(OSError, match="SQLITE_CACHE_KIB"):
            InfrastructureFactory.construct(Environment(env=env | {"SQLITE_CACHE_KIB": bad}))


def test_a_postgres_url_is_split_into_the_library_variables() -> None:
    env = Settings(
        database_url="postgresql://alice:s%40cret@db.example:6543/ledger",
        postgres_schema="injtrack",
    ).library_env()
    assert {
        k: env[k]
        for k in (
            "POSTGRES_DBNAME",
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
            "POSTGRES_SCHEMA",
        )
    } == {
        "POSTGRES_DBNAME": "ledger",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "alice",
        "POSTGRES_PASSWORD": "s@cret",
        "POSTGRES_SCHEMA": "injtrack",
    }


def test_a_database_url_that_is_not_postgres_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a postgresql:// URL"):
        Settings(database_url="mysql://u@h/d").library_env()


@on_backends("sqlite", "postgres")
def test_events_and_idempotency_survive_a_restart(
    make_ledger: LedgerFactory, backend: Backend
) -> None:
    first = make_ledger()
    first.record_batch(parse(procedure("proc-1"), outcome("out-1", of="proc-1")))
    first.close()

    restarted = make_ledger()
    assert restarted.recording_order("p-001") == ["proc-1", "out-1"]
    assert [r.status for r in restarted.record_batch(parse(procedure("proc-1")))] == ["duplicate"]
    with pytest.raises(EventIdConflict):
        restarted.record_batch(parse(procedure("proc-1", on="2025-03-04")))
    restarted.record_batch(parse(void("void-1", of="out-1")))
    assert restarted.recording_order("p-001") == ["proc-1", "out-1", "void-1"]


@on_backends("sqlite", "postgres")
def test_two_applications_on_one_database_see_each_others_writes(
    make_ledger: LedgerFactory,
) -> None:
    a, b = make_ledger(), make_ledger()
    a.record_batch(parse(procedure("proc-1")))
    assert a.recording_order("p-001") == ["proc-1"]  # a now caches the patient's ledger
    b.record_batch(parse(outcome("out-1", of="proc-1")))  # b validates against a's write
    # a's cached ledger is brought up to date: it may void b's outcome and sees b's ids
    a.record_batch(parse(void("void-1", of="out-1")))
    assert [r.status for r in a.record_batch(parse(outcome("out-1", of="proc-1")))] == ["duplicate"]
    assert b.recording_order("p-001") == a.recording_order("p-001") == ["proc-1", "out-1", "void-1"]


@on_backends("memory", "sqlite", "postgres")
def test_a_refused_batch_leaves_the_applications_state_untouched(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    ledger.record_batch(parse(procedure("proc-1")))
    with pytest.raises(EventIdConflict):
        ledger.record_batch(parse(procedure("proc-2"), procedure("proc-1", on="2025-03-01")))
    # nothing of the refused batch leaked into the cached aggregates
    assert [r.status for r in ledger.record_batch(parse(procedure("proc-2", on="2025-03-02")))] == [
        "recorded"
    ]
    events = ledger.patient_events("p-001")
    assert [e.event.event_id for e in events] == ["proc-1", "proc-2"]
    assert all(isinstance(e.event, PatientRegion.ProcedurePerformed) for e in events)


@on_backends("sqlite")
def test_the_sqlite_store_is_the_configured_file(
    make_ledger: LedgerFactory, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    path = tmp_path / "elsewhere.sqlite"
    ledger = make_ledger(make_settings(db=path))
    ledger.record_batch(parse(procedure("proc-1")))
    assert path.exists()
    assert make_ledger(make_settings(db=path)).recording_order("p-001") == ["proc-1"]


@on_backends("postgres")
def test_the_postgres_tables_live_in_the_configured_schema(
    make_ledger: LedgerFactory, make_settings: SettingsFactory
) -> None:
    schema = make_settings().postgres_schema
    assert schema and schema.startswith("t_")
    make_ledger().record_batch(parse(procedure("proc-1")))
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    assert tables, "no table was created in the test's schema"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
def test_injtrack_serve_starts_the_service_on_an_sqlite_file(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "served.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJTRACK_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--db", str(db)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "injtrack serve did not answer in 30s"
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "persistence": "sqlite"}
        posted = httpx.post(
            f"http://127.0.0.1:{port}/v1/events",
            json={"events": [procedure("proc-1", on="2024-12-01")]},
        )
        assert posted.json() == {"results": [{"event_id": "proc-1", "status": "recorded"}]}
        assert db.exists()
    finally:
        server.terminate()
        server.wait(timeout=10)
