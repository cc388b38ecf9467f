"""``injtrack serve --workers N``: several worker processes share one store safely (SQLite or
PostgreSQL). Racing clients spread over two workers post overlapping batches (the same
patients, resends of the same events); every event is stored exactly once and every resend
is a duplicate."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import outcome, procedure
from tests.conftest import postgres_url
from tests.support import backend_params, run_in_threads


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve_two_workers(
    tmp_path: Path, store_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``injtrack serve --workers 2`` on a fresh store (SQLite in ``tmp_path``, or what
    ``store_env`` names), once both workers have started; returns the process (its output
    in ``tmp_path/serve.log``, see :func:`_output`) and its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJTRACK_")}
    env.update(store_env or {})
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "api.cli", "serve", "--port", str(port)),
                *("--db", str(tmp_path / "served.sqlite"), "--workers", "2"),
            ],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        # Both workers, not just one: a worker that failed to start leaves the other
        # answering (a PostgreSQL schema race once failed one of two starting workers).
        if _output(tmp_path).count("Application startup complete") >= 2:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                return server, base
            except httpx.TransportError:
                pass
        if server.poll() is not None or time.monotonic() >= deadline:
            server.kill()
            server.wait(timeout=30)
            pytest.fail(f"injtrack serve --workers 2 did not start in 60s: {_output(tmp_path)}")
        time.sleep(0.2)


def _output(tmp_path: Path) -> str:
    return (tmp_path / "serve.log").read_text(errors="replace")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.parametrize("store", backend_params("sqlite", "postgres"))
def test_two_workers_on_one_store_record_every_event_exactly_once(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store_env = None
    if store == "postgres":  # a new schema (the race at creation: test_schema_creation.py)
        store_env = {
            "INJTRACK_DATABASE_URL": postgres_url(),
            "INJTRACK_POSTGRES_SCHEMA": request.getfixturevalue("postgres_schema"),
        }
    server, base = _serve_two_workers(tmp_path, store_env)
    try:
        patients = [f"w-{n}" for n in range(4)]
        batches = [
            [procedure(f"{p}-a", patient_id=p, on="2024-12-01") for p in patients],
            [outcome(f"{p}-o", of=f"{p}-a", patient_id=p, on="2024-12-05") for p in patients],
        ]
        statuses: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            # A new connection per request spreads the requests over both workers.
            for batch in batches:
                for _ in range(3):
                    for _attempt in range(20):  # 503 (contention) says: retry
                        response = httpx.post(
                            f"{base}/v1/events", json={"events": batch}, timeout=60
                        )
                        if response.status_code != 503:
                            break
                    with lock:
                        if response.status_code == 200:
                            statuses.extend(r["status"] for r in response.json()["results"])
                        else:
                            failures.append(f"{response.status_code} {response.text}")

        run_in_threads(6, client, "client")
        assert failures == []
        assert statuses.count("recorded") == 8  # each of the 8 events once, whoever won
        for p in patients:
            history: Any = httpx.get(f"{base}/v1/patients/{p}/history", timeout=30).json()
            assert [e["event_id"] for e in history["events"]] == [f"{p}-a", f"{p}-o"]
    finally:
        _stop(server)
    assert "Traceback" not in _output(tmp_path)


@pytest.mark.slow
def test_workers_log_json_request_lines_and_never_a_path(tmp_path: Path) -> None:
    """Each worker logs as a single-process server does: one JSON line per request with the
    route template, and no uvicorn access log (it would print the path's patient id)."""
    server, base = _serve_two_workers(tmp_path)
    try:
        for _ in range(4):  # new connections: both workers may answer
            r = httpx.get(f"{base}/v1/patients/secret-patient-7/history", timeout=30)
            assert r.status_code == 200
    finally:
        _stop(server)
    log = _output(tmp_path)
    assert "secret-patient-7" not in log
    request_lines = [line for line in log.splitlines() if '"message": "request"' in line]
    history = '"route": "/v1/patients/{patient_id}/history"'
    assert sum(history in line for line in request_lines) == 4


@pytest.mark.parametrize(
    ("given", "workers"), [("1", 1), ("3", 3), ("auto", max(1, min(16, os.cpu_count() or 1)))]
)
def test_serve_takes_a_number_of_workers_or_auto_for_one_per_core(given: str, workers: int) -> None:
    from api.cli import build_parser

    assert build_parser().parse_args(["serve", "--workers", given]).workers == workers


@pytest.mark.parametrize("bad", ["0", "17", "two", "-1"])
def test_serve_refuses_a_number_of_workers_out_of_range(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--workers", bad])
    assert "--workers" in capsys.readouterr().err
