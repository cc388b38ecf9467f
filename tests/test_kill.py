"""The kill test: sustained ingestion against a real ``injtrack serve`` (uvicorn) process and a
``projections run --follow`` read-model follower, both SIGKILLed mid-stream three times, on
SQLite and on PostgreSQL (encrypted, with keyed stream ids). Afterwards:

- every batch answered 2xx is stored, each of its events exactly once;
- every batch whose answer was lost to the kill is stored all or nothing;
- no event is stored twice;
- the read model, caught up, equals a clean rebuild.

Bounded: three kills per store, about a second of ingestion each, one client on loopback.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.eventstore import InjectionLedger
from adapters.protect import generate_secrets
from adapters.readmodel import ReadModel, open_view
from api.app import build_ledger
from api.projections_cmd import view_env
from api.settings import Settings
from application.usecases import catch_up_view, rebuild_view
from domain.events import EVENT_TYPES
from tests.builders import procedure
from tests.conftest import SettingsFactory
from tests.support import Backend, on_backends

pytestmark = pytest.mark.slow

KILLS = 3
PATIENTS_PER_BATCH = 4
EVENTS_PER_PATIENT = 2
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJTRACK_")}
    env["INJTRACK_PERSISTENCE"] = settings.effective_persistence
    env["INJTRACK_DB"] = str(settings.db)
    env["INJTRACK_VIEW_DB"] = str(settings.effective_view_db)
    if settings.database_url:
        env["INJTRACK_DATABASE_URL"] = settings.database_url
    if settings.postgres_schema:
        env["INJTRACK_POSTGRES_SCHEMA"] = settings.postgres_schema
    if settings.cipher_key is not None and settings.stream_id_secret is not None:
        env["INJTRACK_CIPHER_KEY"] = settings.cipher_key.get_secret_value()
        env["INJTRACK_STREAM_ID_SECRET"] = settings.stream_id_secret.get_secret_value()
    return env


def injtrack(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@contextmanager
def killed_at_exit(*processes: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def wait_ready(base: str, server: subprocess.Popen[bytes], deadline: float = 30) -> None:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if server.poll() is not None:
            assert server.stderr is not None
            raise AssertionError(f"the server exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("the server did not answer in time")


@dataclass
class Ledger:
    """What the client knows: batches acknowledged, and batches whose answer was lost."""

    acknowledged: list[list[str]] = field(default_factory=list)
    unknown: list[list[str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def batch_of(number: int) -> list[dict[str, Any]]:
    day = date(2024, 1, 1) + timedelta(days=number % 300)
    return [
        procedure(
            f"b{number}-p{p}-e{e}",
            on=day,
            patient_id=f"kill-{(number * PATIENTS_PER_BATCH + p) % 37}",
        )
        for p in range(PATIENTS_PER_BATCH)
        for e in range(EVENTS_PER_PATIENT)
    ]


def ingest_until_dead(base: str, first: int, seen: Ledger) -> int:
    """Post batches one after another until the server stops answering; returns the next
    batch number."""
    number = first
    with httpx.Client(base_url=base, timeout=10) as client:
        while True:
            events = batch_of(number)
            ids = [e["event_id"] for e in events]
            number += 1
            try:
                response = client.post("/v1/events", json={"events": events})
            except httpx.HTTPError:
                seen.unknown.append(ids)
                return number
            if response.is_success:
                seen.acknowledged.append(ids)
            elif response.status_code == 503:
                seen.unknown.append(ids)  # retryable: nothing or everything may be stored
            else:
                seen.refused.append((response.status_code, response.text[:300]))


def stored_event_ids(ledger: InjectionLedger) -> Counter[str]:
    counts: Counter[str] = Counter()
    position = 0
    while True:
        page = ledger.recorder.select_notifications(position + 1, 500)
        if not page:
            return counts
        for notification in page:
            event: Any = ledger.mapper.to_domain_event(notification)
            if type(event) in EVENT_TYPES:
                counts[event.event_id] += 1
        position = page[-1].id


def rows(view: ReadModel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return view.procedure_rows(), view.authorization_rows()


@on_backends("sqlite", "postgres")
def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    make_settings: SettingsFactory, backend: Backend
) -> None:
    settings = make_settings()
    if backend.name == "postgres":
        generated = generate_secrets()
        settings = make_settings(
            cipher_key=SecretStr(generated["INJTRACK_CIPHER_KEY"]),
            stream_id_secret=SecretStr(generated["INJTRACK_STREAM_ID_SECRET"]),
        )
    env = environment(settings)
    rng = random.Random(13)
    seen = Ledger()
    number = 0
    for _ in range(KILLS):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = injtrack(env, "serve", "--host", "127.0.0.1", "--port", str(port))
        follower = injtrack(env, "projections", "run", "--follow", "--quiet", "--interval", "0.1")
        with killed_at_exit(server, follower):
            wait_ready(base, server)
            acknowledged_before = len(seen.acknowledged)
            with ThreadPoolExecutor(1) as pool:
                client = pool.submit(ingest_until_dead, base, number, seen)
                time.sleep(rng.uniform(0.6, 1.4))
                server.send_signal(signal.SIGKILL)
                follower.send_signal(signal.SIGKILL)
                number = client.result(timeout=30)
            assert len(seen.acknowledged) > acknowledged_before, "no batch went through"

    print(  # shown with -rP: what the run covered
        f"{backend.name}: {KILLS} kills, {sum(map(len, seen.acknowledged))} events in "
        f"{len(seen.acknowledged)} acknowledged batches, {len(seen.unknown)} batches unanswered"
    )
    assert seen.refused == []
    ledger = build_ledger(settings)
    opened = open_view(view_env(settings))
    try:
        stored = stored_event_ids(ledger)
        twice = {event_id: n for event_id, n in stored.items() if n != 1}
        assert twice == {}
        lost = [i for ids in seen.acknowledged for i in ids if i not in stored]
        assert lost == []
        partial = [ids for ids in seen.unknown if 0 < sum(i in stored for i in ids) < len(ids)]
        assert partial == []
        sent = {i for ids in seen.acknowledged + seen.unknown for i in ids}
        assert set(stored) <= sent

        catch_up_view(ledger, opened.view)  # what the killed follower left, caught up
        followed = rows(opened.view)
        assert len(followed[0]) == len(stored)
        rebuild_view(ledger, opened.view)
        assert rows(opened.view) == followed
    finally:
        opened.close()
        ledger.close()
