"""A bounded load run against a real ``injtrack serve`` process on 127.0.0.1.

    .venv/bin/python scripts/load.py --store sqlite   [--clients 32 --duration 60]
    .venv/bin/python scripts/load.py --store postgres [--postgres-url postgresql://...]

Starts the service on a free loopback port over a fresh store (a temporary SQLite file, or a
fresh schema of the PostgreSQL database, dropped afterwards), creates a submitter and a payer
key, seeds ``--patients`` patients with one procedure each, then runs ``--clients``
concurrent clients for ``--duration`` seconds: each request is an eligibility decision
(``--eligibility-share``, default 80 %) or a one-event ingestion batch (the rest), for a
random patient, authenticated. Prints one JSON object: requests, errors, throughput and
p50/p99 latency overall and per kind. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _postgres_schema(url: str) -> Iterator[str]:
    import psycopg

    name = f"load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@contextmanager
def serving(
    store: str, postgres_url: str = DEFAULT_PG, schema: str | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """A served store: (base URL, {role: key}); stopped afterwards. On PostgreSQL a fresh
    schema is made and dropped unless ``schema`` names one."""
    with tempfile.TemporaryDirectory(prefix="injtrack-load-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INJTRACK_")}
        env["INJTRACK_DB"] = str(Path(tmp) / "load.sqlite")
        env["INJTRACK_LOG_LEVEL"] = "WARNING"
        schema_cm = _postgres_schema(postgres_url) if store == "postgres" and not schema else None
        if schema_cm:
            schema = schema_cm.__enter__()
        try:
            if store == "postgres":
                env["INJTRACK_DATABASE_URL"] = postgres_url
                env["INJTRACK_POSTGRES_SCHEMA"] = schema
                env["INJTRACK_POSTGRES_POOL_SIZE"] = "10"
            keys = _create_keys(env, ("submitter", "payer"))
            port = _free_port()
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(base, server)
                yield base, keys
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        finally:
            if schema_cm:
                schema_cm.__exit__(None, None, None)


def _create_keys(env: dict[str, str], roles: tuple[str, ...]) -> dict[str, str]:
    """One key per role, in the served database (in this process: no extra start-up)."""
    from api.app import open_access
    from api.settings import Settings

    settings = Settings(
        db=Path(env["INJTRACK_DB"]),
        database_url=env.get("INJTRACK_DATABASE_URL"),
        postgres_schema=env.get("INJTRACK_POSTGRES_SCHEMA"),
        persistence="postgres" if env.get("INJTRACK_DATABASE_URL") else "sqlite",
    )
    access = open_access(settings)
    try:
        return {role: access.keys.create(f"load-{role}", [role]).key for role in roles}
    finally:
        access.close()


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the service exited with status {server.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the service did not answer /healthz within 30 s")


def _procedure(patient: str, event_id: str, day: int) -> dict[str, Any]:
    return {
        "type": "procedure_performed",
        "event_id": event_id,
        "patient_id": patient,
        "date_of_service": f"2024-{1 + day % 12:02d}-{1 + day % 28:02d}",
        "region": "lumbar",
        "codes": [{"cpt": "64483"}],
        "laterality": "left",
        "levels": ["L4-L5"],
        "agent": "steroid",
    }


def _eligibility(patient: str) -> dict[str, Any]:
    return {
        "patient_id": patient,
        "policy_set": "nia",
        "procedure": {
            "date_of_service": "2025-06-12",
            "region": "lumbar",
            "codes": [{"cpt": "64483", "units": 1}],
            "laterality": "left",
            "levels": ["L4-L5"],
            "agent": "steroid",
        },
        "clinical": {"pain_score": 7, "active_conservative_therapy": True},
    }


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)


async def _run(
    base: str,
    keys: dict[str, str],
    clients: int,
    duration: float,
    eligibility_share: float,
    patients: int,
    seed: int,
) -> dict[str, Any]:
    rng = random.Random(seed)
    ids = [f"load-{i:05d}" for i in range(patients)]
    counter = itertools.count()
    sub = {"Authorization": f"Bearer {keys['submitter']}"}
    pay = {"Authorization": f"Bearer {keys['payer']}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        for start in range(0, patients, 500):
            seed_batch = [
                _procedure(p, f"seed-{p}", i) for i, p in enumerate(ids[start : start + 500])
            ]
            r = await http.post("/v1/events", json={"events": seed_batch}, headers=sub)
            r.raise_for_status()
        latencies: dict[str, list[float]] = {"eligibility": [], "ingestion": []}
        errors: list[str] = []
        stop_at = time.monotonic() + duration

        async def client() -> None:
            while time.monotonic() < stop_at:
                patient = rng.choice(ids)
                if rng.random() < eligibility_share:
                    kind, path, body, hdr = (
                        "eligibility",
                        "/v1/eligibility",
                        _eligibility(patient),
                        pay,
                    )
                else:
                    n = next(counter)
                    kind, path, hdr = "ingestion", "/v1/events", sub
                    body = {"events": [_procedure(patient, f"ev-{n}", n)]}
                started = time.perf_counter()
                try:
                    r = await http.post(path, json=body, headers=hdr)
                    if r.status_code != 200:
                        errors.append(f"{kind} {r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(f"{kind} {type(exc).__name__}: {exc}")
                latencies[kind].append(time.perf_counter() - started)

        began = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - began
    every = latencies["eligibility"] + latencies["ingestion"]
    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": len(every),
        "errors": len(errors),
        "first_errors": errors[:5],
        "throughput_rps": round(len(every) / elapsed, 1),
        "p50_ms": _percentile(every, 0.50),
        "p99_ms": _percentile(every, 0.99),
        "by_kind": {
            kind: {
                "requests": len(values),
                "p50_ms": _percentile(values, 0.50),
                "p99_ms": _percentile(values, 0.99),
            }
            for kind, values in latencies.items()
        },
    }


def run_load(
    store: str,
    *,
    clients: int = 32,
    duration: float = 60,
    eligibility_share: float = 0.8,
    patients: int = 500,
    seed: int = 13,
    postgres_url: str = DEFAULT_PG,
    schema: str | None = None,
) -> dict[str, Any]:
    with serving(store, postgres_url, schema) as (base, keys):
        result = asyncio.run(_run(base, keys, clients, duration, eligibility_share, patients, seed))
    return {"store": store, **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=32, choices=range(1, 257), metavar="1..256")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (at most 600)")
    parser.add_argument("--eligibility-share", type=float, default=0.8)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("INJTRACK_TEST_POSTGRES_URL", DEFAULT_PG),
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600:
        parser.error("--duration must be in (0, 600] seconds")
    if not 0 <= args.eligibility_share <= 1:
        parser.error("--eligibility-share must be in [0, 1]")
    if not 1 <= args.patients <= 100_000:
        parser.error("--patients must be in 1..100000")
    result = run_load(
        args.store,
        clients=args.clients,
        duration=args.duration,
        eligibility_share=args.eligibility_share,
        patients=args.patients,
        seed=args.seed,
        postgres_url=args.postgres_url,
    )
    print(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
