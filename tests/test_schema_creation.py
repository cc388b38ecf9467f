"""Processes opening one PostgreSQL store at once all start: one creates the tables, type
and function, the others wait for it (``adapters.pg_schema``). Before, two workers of
``injtrack serve --workers 2`` starting together failed one of them with "tuple
concurrently updated" (the library's ``CREATE OR REPLACE FUNCTION``) or a duplicate key in
``pg_type`` (its ``CREATE TYPE``), and the service did not start.

Threads stand in for processes: each opener has its own connections, so PostgreSQL sees
concurrent sessions exactly as it does from several processes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from adapters.readmodel import open_view
from api.app import build_ledger, open_access_store
from api.settings import Settings
from tests.conftest import SettingsFactory
from tests.support import on_backends, run_in_threads

pytestmark = on_backends("postgres")

OPENERS = 6
ROUNDS = 3


def _open_everything_at_once(settings: Settings) -> list[str]:
    """Every kind of store opened by ``OPENERS`` sessions released together; the errors."""
    openers: list[Callable[[], None]] = [
        lambda: build_ledger(settings).close(),
        lambda: open_access_store(settings).close(),
        lambda: open_view(settings.library_env()).close(),
    ]
    start = threading.Barrier(OPENERS)
    errors: list[str] = []

    def opener(n: int) -> None:
        start.wait()
        try:
            openers[n % len(openers)]()
        except Exception as exc:  # every failure is reported, none is expected
            errors.append(f"{type(exc).__name__}: {exc}")

    run_in_threads(OPENERS, opener, "opener")
    return errors


def test_sessions_opening_a_new_store_at_once_all_start(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    assert _open_everything_at_once(settings) == []
    ledger = build_ledger(settings)
    try:
        assert ledger.recorder.max_notification_id() in (None, 0)
    finally:
        ledger.close()


def test_sessions_opening_an_existing_store_at_once_all_start(
    make_settings: SettingsFactory,
) -> None:
    """The store exists: every opener still replaces the library's insert function."""
    settings = make_settings()
    build_ledger(settings).close()
    for _ in range(ROUNDS):
        assert _open_everything_at_once(settings) == []


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_new_store_opened_at_once_in_several_fresh_schemas(
    make_settings: SettingsFactory, round_: int
) -> None:
    """Each round on a fresh schema of its own: the race is at creation, so it is tried
    more than once."""
    assert _open_everything_at_once(make_settings()) == []
