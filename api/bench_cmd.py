"""``injtrack bench [--scale smoke|medium|full] [--store sqlite|postgres] [--json FILE]``.

Measures each figure next to its ceiling in the same process and run, on a synthetic
population (:mod:`application.population`, patient order; the sorted feed is the same lines
sorted by clinical date across patients), prints a table and writes the JSON keys issue 12
names (``null`` where a figure was not taken). Honest by construction: every timed request
goes through validation, idempotency and a fresh read of the store (no answer is cached
between requests), and a figure and its ceiling use the same events or requests.

What each figure is
-------------------
- ``import_events_per_s``: the population's events recorded through the ledger in batches of
  100 in file order (patient by patient); ``import_ceiling_events_per_s``: the same events
  saved straight through the library (aggregates built in memory, the same batches, a fresh
  store of the same kind); ``import_sorted_feed_events_per_s``: the same events written to a
  file sorted by clinical date across patients (a claims feed) and imported into a fresh
  store by the product's file import (:class:`application.bulk_import.Importer`, what
  ``injtrack import`` runs: it indexes the file and records patient by patient, in batches
  of 100), the ledger's calls timed as for patient order (``import_sorted_file_wall_events_per_s``
  beside it: the whole import, indexing and parsing included);
  ``ingest_sorted_batches_events_per_s`` (beside the keys): the ledger fed the date-sorted
  events as they come, batches of 100 across patients (what a client posting a date-ordered
  feed to ``POST /v1/events`` gets), over the first ``sorted_batches_events`` of them.
- ``http_ingest_events_per_s``: batches of 100 posted to a real ``injtrack serve`` (the
  recommended workers, see ``elig_http_*``) on loopback into a fresh store, with 1 and with
  4 clients (the better of the two; both in ``http_ingest_by_clients``, and on one worker
  in ``http_ingest_by_workers``).
- ``elig_inproc_p50_ms`` / ``p99``: the population's own authorization requests as
  eligibility questions through :meth:`Tracker.decide`; ``elig_growth_ratio``: p50 with the
  whole population stored over p50 when the first tenth was; ``baseline_sql_p50_ms``: the
  esi interval and the 12-month rolling count of the same requests as two indexed SQL
  queries over one table. Beside the keys, ``elig_inproc_attribution`` (and
  ``elig_inproc_tenth``): CPU-time p50/p99 of the same decisions, the collector's passes and
  pauses inside them, and of the requests at or over the wall-clock p99 how many had a
  collector pause or were preempted by the OS (another process on the cores);
  ``elig_growth_ratio_cpu`` is the growth ratio in CPU time.
- ``elig_http_*``: the same requests over HTTP to a real ``injtrack serve`` with the worker
  count the README recommends (one per core: ``http_server`` says which, and the loop and
  HTTP parser), 1 client, then 8 clients at once, each on a keep-alive connection;
  ``elig_http_by_workers`` has the same figures on one worker beside them;
  ``trail_commit_p50_ms`` (SQLite): one access-trail append committed alone in that store
  after the HTTP phase (the fsync'd commit a lone request waits for).
- ``rebuild_events_per_s``: the read model rebuilt from the whole log, per notification;
  ``rebuild_ceiling_events_per_s``: the library reading and decoding the same log.

- ``report_seconds``: the compliance report of the last year, whole population.
- ``audit_p50_ms`` / ``audit_p99_ms`` (issue 11, beside the keys): the audit replay of one
  patient with authorizations (timeline, every decision replayed and decided now).
- ``cds_hooks_p50_ms`` / ``cds_hooks_p99_ms`` (issue 14, beside the keys above): CDS Hooks
  ``order-sign`` calls of five draft orders, each decided and recorded, on a fresh store
  (:mod:`api.cds_bench`).
- ``big_patient_decide_ms`` / ``big_patient_history_ms`` (issue 12, beside the keys above;
  ``_http`` twins over HTTP): one patient of 30,000 events (1,500 at smoke scale), p50 of
  eligibility questions and of ``history?limit=10`` pages (:mod:`api.big_patient_bench`);
  ``big_patient_audit_ms``: that patient's audit replay (issue 11), once, in process.
- ``store_bytes_per_event`` (and the library's own, ``library_store_bytes_per_event``),
  ``peak_rss_mb`` of this process, ``machine``.

The ceilings are the library's own speed, so they use the library's own JSON transcoder
(``JSONTranscoder`` with our date and value transcodings registered, and the store's cipher
and compressor), not the faster decoder the product reads with
(:class:`~adapters.transcodings.OrjsonTranscoder`): ``import_ceiling_events_per_s`` saves
through a :class:`~adapters.eventstore.LibraryTranscoderLedger`, the rebuild ceiling decodes
with :func:`~adapters.eventstore.library_mapper`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

KEYS: tuple[str, ...] = (
    "import_events_per_s",
    "import_ceiling_events_per_s",
    "import_sorted_feed_events_per_s",
    "http_ingest_events_per_s",
    "elig_inproc_p50_ms",
    "elig_inproc_p99_ms",
    "elig_http_p50_ms",
    "elig_http_p99_ms",
    "elig_http_rps_8_clients",
    "elig_growth_ratio",
    "baseline_sql_p50_ms",
    "rebuild_events_per_s",
    "rebuild_ceiling_events_per_s",
    "report_seconds",
    "store_bytes_per_event",
    "peak_rss_mb",
    "machine",
)


@dataclass(frozen=True)
class Scale:
    patients: int
    decisions: int  # in-process eligibility requests at full size
    http_requests: int  # per HTTP phase
    http_ingest_events: int  # events posted over HTTP (a prefix of the population)
    audits: int  # patients audited (issue 11's audit replay)
    big_patient_events: int = 30_000  # the one very large patient (issue 12)
    # Date-sorted events fed to the ledger as batches across patients (a prefix).
    sorted_batches_events: int = 200_000


SCALES: dict[str, Scale] = {
    "smoke": Scale(
        patients=40,
        decisions=200,
        http_requests=60,
        http_ingest_events=600,
        audits=20,
        big_patient_events=1_500,
    ),
    "medium": Scale(
        patients=10_000,
        decisions=10_000,
        http_requests=2_000,
        http_ingest_events=20_000,
        audits=300,
    ),
    "full": Scale(
        patients=100_000,
        decisions=10_000,
        http_requests=4_000,
        http_ingest_events=40_000,
        audits=300,
    ),
}
BATCH = 100
# Patients whose in-memory state the library ceiling keeps (the file is in patient order).
KEEP_PATIENTS = 5_000
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def log(message: str) -> None:
    """A progress line on stderr, with this process's peak memory so far (which phase set
    ``peak_rss_mb`` is then plain to see)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bench: {message} [peak RSS so far {peak:,.0f} MB]", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- the population


@dataclass
class Population:
    """The generated population in a file, read back batch by batch, so that the harness
    holds offsets and a sample, never the whole population (at full scale a million parsed
    events would take gigabytes and swamp ``peak_rss_mb``, which is the product's figure).

    Event lines are in file (patient) order; ``sorted_order`` is the same events by clinical
    date across patients; the authorization requests become eligibility questions, of which
    a random sample is parsed (``questions``, with ``tenth_questions`` drawn from the first
    tenth of the patients for the growth ratio)."""

    path: Path
    event_offsets: array[int]  # byte offset of each event line, file order
    sorted_order: array[int]  # indices into event_offsets by (clinical date, file order)
    patients: list[str]  # in file order
    tenth_events: int  # events of the first tenth of the patients (a prefix of the file)
    question_count: int
    questions: list[Any]  # DecideEligibility, sampled
    question_bodies: list[dict[str, Any]]  # the same requests as JSON bodies
    tenth_questions: list[Any]

    @property
    def event_count(self) -> int:
        return len(self.event_offsets)

    def lines(self, indices: Iterable[int]) -> Iterator[dict[str, Any]]:
        """The event lines at these indices, parsed as JSON, in the order given."""
        with self.path.open("rb") as f:
            for i in indices:
                f.seek(self.event_offsets[i])
                yield json.loads(f.readline())

    def write(self, indices: Iterable[int], path: Path) -> Path:
        """The event lines at these indices, as they are, into a JSONL file."""
        with self.path.open("rb") as f, path.open("wb") as out:
            for i in indices:
                f.seek(self.event_offsets[i])
                out.write(f.readline())
        return path

    def batches(self, indices: Sequence[int], size: int = BATCH) -> Iterator[list[Any]]:
        """Event commands, validated as the API validates them, ``size`` at a time."""
        from pydantic import TypeAdapter

        from api.schemas.events import EventIn

        event_of = TypeAdapter(EventIn)
        for start in range(0, len(indices), size):
            chunk = indices[start : start + size]
            yield [event_of.validate_python(line).to_command() for line in self.lines(chunk)]


def population(patients: int, root: Path, sample: int, tenth_sample: int) -> Population:
    """Generate ``patients`` into ``root/population.jsonl`` and index it."""
    from api.schemas.eligibility import EligibilityIn
    from application.population import PopulationConfig, clinical_date_of, generate

    path = root / "population.jsonl"
    offsets = array("q")
    dates: list[str] = []
    patient_order: dict[str, None] = {}
    tenth_patients = max(1, patients // 10)
    tenth_events = 0
    day_of_event: dict[str, str] = {}  # the current patient's (the file is patient-ordered)
    question_at: list[int] = []  # offsets of authorization requests
    tenth_question_at: list[int] = []
    position = 0
    with path.open("wb") as f:
        for text in generate(PopulationConfig(patients=patients, seed=0, order="patient")):
            data = (text + "\n").encode()
            line = json.loads(text)
            pid = line["patient_id"]
            if pid not in patient_order:
                patient_order[pid] = None
                day_of_event.clear()
            in_tenth = len(patient_order) <= tenth_patients
            if line.get("type") == "authorization_request":
                question_at.append(position)
                if in_tenth:
                    tenth_question_at.append(position)
            else:
                day = clinical_date_of(line)
                if day is None:  # a void: it sits on the date of what it voids
                    day = day_of_event.get(line.get("voided_event_id", ""), "")
                day_of_event[line["event_id"]] = day
                offsets.append(position)
                dates.append(day)
                if in_tenth:
                    tenth_events += 1
            f.write(data)
            position += len(data)
    # By date; the sort is stable, so a date's events stay in file order.
    order = array("l", sorted(range(len(offsets)), key=dates.__getitem__))
    dates.clear()
    rng = random.Random(7)

    def parse_questions(at: list[int], count: int) -> tuple[list[Any], list[dict[str, Any]]]:
        chosen = [rng.choice(at) for _ in range(count)] if at else []
        bodies: list[dict[str, Any]] = []
        with path.open("rb") as f:
            for offset in chosen:
                f.seek(offset)
                line = json.loads(f.readline())
                bodies.append(
                    {k: v for k, v in line.items() if k not in ("type", "authorization_id")}
                )
        return [EligibilityIn.model_validate(b).to_query() for b in bodies], bodies

    questions, bodies = parse_questions(question_at, sample)
    tenth_questions, _ = parse_questions(tenth_question_at, tenth_sample)
    return Population(
        path=path,
        event_offsets=offsets,
        sorted_order=order,
        patients=list(patient_order),
        tenth_events=tenth_events,
        question_count=len(question_at),
        questions=questions,
        question_bodies=bodies,
        tenth_questions=tenth_questions,
    )


# ------------------------------------------------------------------------------- stores


@dataclass
class Stores:
    kind: str
    root: Path
    url: str
    schemas: list[str] = field(default_factory=list)

    def settings(self, name: str) -> Any:
        from api.settings import Settings

        if self.kind == "sqlite":
            return Settings(
                persistence="sqlite",
                db=self.root / f"{name}.sqlite",
                view_db=self.root / f"{name}.view.sqlite",
                database_url=None,
            )
        import psycopg

        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return Settings(
            persistence="postgres",
            database_url=self.url,
            postgres_schema=schema,
            db=self.root / f"{name}.unused.sqlite",
            view_db=self.root / f"{name}.view.sqlite",
        )

    def size(self, settings: Any) -> int:
        """Bytes the event store takes (SQLite: the file and its WAL; PostgreSQL: the
        events table with its indexes and TOAST)."""
        if self.kind == "sqlite":
            return sum(
                p.stat().st_size for p in (settings.db, Path(f"{settings.db}-wal")) if p.exists()
            )
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT pg_total_relation_size(%s::regclass)",
                (f'"{settings.postgres_schema}"."injectionledger_events"',),
            ).fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        if not self.schemas:
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ------------------------------------------------------------------------------- ingest


def batches_of(items: Sequence[Any], size: int = BATCH) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def ingest(ledger: Any, batches: Iterable[list[Any]]) -> tuple[int, float, int]:
    """Record the batches; a refused event is dropped and its batch recorded without it
    (reported). Only the ledger's calls are timed (reading and parsing the file is not).
    Returns (events sent, seconds, events refused)."""
    from domain.errors import InvalidInput

    sent = refused = 0
    seconds = 0.0
    for batch in batches:
        pending = list(batch)
        while pending:
            started = time.perf_counter()
            try:
                ledger.record_batch(pending)
                seconds += time.perf_counter() - started
                break
            except InvalidInput as exc:
                seconds += time.perf_counter() - started
                bad = {e.index for e in exc.errors if e.index is not None}
                if not bad:
                    raise
                refused += len(bad)
                pending = [c for i, c in enumerate(pending) if i not in bad]
        sent += len(batch)
    return sent, seconds, refused


class _TimedLedger:
    """An import target (:class:`application.bulk_import.Target`) that records through the
    ledger and times only the ledger's calls, as :func:`ingest` does."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.seconds = 0.0

    def record(self, commands: Sequence[Any]) -> Sequence[Any]:
        started = time.perf_counter()
        try:
            results: Sequence[Any] = self.ledger.record_batch(commands)
            return results
        finally:
            self.seconds += time.perf_counter() - started

    def authorize_each(self, commands: Sequence[Any]) -> list[tuple[dict[str, Any], bool]]:
        raise ValueError("the bench's event files hold no authorization requests")


def import_file(ledger: Any, path: Path, size: int = BATCH) -> tuple[int, float, float]:
    """Import a JSONL file of events the way ``injtrack import`` does (the product's
    :class:`~application.bulk_import.Importer`: the file indexed by patient, then recorded
    patient by patient in batches of ``size``, whatever the file's order). Returns (events
    stored or refused, seconds in the ledger's calls, seconds of the whole import)."""
    from api.lines import parse_line
    from application.bulk_import import Importer

    target = _TimedLedger(ledger)
    started = time.perf_counter()
    summary = Importer(target, parse_line, batch_size=size).run(path)
    wall = time.perf_counter() - started
    return summary.lines, target.seconds, wall


def library_ceiling(app: Any, batches: Iterable[list[Any]], clock: Callable[[], datetime]) -> float:
    """Save the same events straight through the library: each batch's events' fields are
    worked out first (untimed, by the ledger's own validation on in-memory state), then the
    batch's aggregates are built in memory and saved, timed. Returns events per second.
    Batches come in patient order, so the in-memory state of the patients not seen lately is
    let go (memory stays bounded at full scale)."""
    from adapters.eventstore import FUTURE_GRACE, _PatientWork, fingerprint
    from domain.catalog import Region
    from domain.events import PatientRegion

    latest = clock().astimezone(UTC).date() + FUTURE_GRACE
    work: OrderedDict[str, Any] = OrderedDict()
    streams: OrderedDict[tuple[str, str], Any] = OrderedDict()
    now = clock()
    events = 0
    seconds = 0.0
    for batch in batches:
        events += len(batch)
        prepared = []
        for command in batch:
            patient = work.get(command.patient_id)
            if patient is None:
                patient = work[command.patient_id] = _PatientWork(None)
            work.move_to_end(command.patient_id)
            print_ = fingerprint(command.payload())
            if patient.known(command.event_id) is not None:
                continue  # a resend: the library would store nothing either
            try:
                region, cls, fields_, entry = app._validate(command, patient, print_, latest)
            except Exception:
                continue
            patient.entries[command.event_id] = entry
            prepared.append((command.patient_id, region, cls, fields_))
        while len(work) > KEEP_PATIENTS:
            work.popitem(last=False)
        started = time.perf_counter()
        touched: dict[tuple[str, str], Any] = {}
        for patient_id, region, cls, fields_ in prepared:
            key = (patient_id, region)
            stream = streams.get(key)
            if stream is None:
                stream = streams[key] = PatientRegion.open(patient_id, Region(region), now)
            stream.record(cls, now, **fields_)
            touched[key] = stream
        if touched:
            app.save(*touched.values())
        seconds += time.perf_counter() - started
        for key in touched:
            streams.move_to_end(key)
        while len(streams) > 3 * KEEP_PATIENTS:
            streams.popitem(last=False)
    return events / seconds


# ------------------------------------------------------------------------------ decisions


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def timed_ms(call: Callable[[Any], object], items: Iterable[Any]) -> list[float]:
    """Milliseconds of ``call(item)`` for each item, in order; errors propagate."""
    out = []
    for item in items:
        started = time.perf_counter()
        call(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


@dataclass
class DecisionRun:
    """Per decision: wall and CPU milliseconds, the collector's pauses inside it (ms) and
    whether the OS took the core away from it (involuntary context switches), so that a
    slow request can be told apart: its own work (CPU), the collector, or another process
    on the cores."""

    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    gc_ms: list[float] = field(default_factory=list)
    preempted: list[bool] = field(default_factory=list)
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])  # per generation
    refused: int = 0  # refused before any read, left out of the timings

    def summary(self) -> dict[str, Any]:
        """CPU p50/p99 and what the requests at or over the wall-clock p99 had in them."""
        if not self.wall_ms:
            return {}
        p99 = percentile(self.wall_ms, 0.99)
        slow = [i for i, w in enumerate(self.wall_ms) if w >= p99]
        return {
            "cpu_p50_ms": statistics.median(self.cpu_ms),
            "cpu_p99_ms": percentile(self.cpu_ms, 0.99),
            "collections_by_generation": list(self.collections),
            "gc_pause_ms": sum(self.gc_ms),
            "gc_pause_max_ms": max(self.gc_ms),
            "slow_requests": len(slow),  # at or over the wall-clock p99
            "slow_with_gc_pause": sum(1 for i in slow if self.gc_ms[i] > 0),
            "slow_preempted": sum(1 for i in slow if self.preempted[i]),
            "slow_cpu_p50_ms": statistics.median(self.cpu_ms[i] for i in slow),
            "preempted_share": sum(self.preempted) / len(self.preempted),
        }


def decide_attributed(tracker: Any, questions: Sequence[Any]) -> DecisionRun:
    """Decide each question, timing it (wall and CPU) and recording the cyclic collector's
    pauses (``gc.callbacks``) and the OS's preemptions (``getrusage``) inside it. Only the
    decision is inside the wall-clock window. Questions refused before any history was read
    (no guideline or version in force for the codes on that date:
    :class:`~policies.errors.PolicyLookupError`, :class:`~domain.catalog.CatalogError`) are
    counted and left out of the timings, since they cost no read. Any other error
    propagates. Before each question the process's memos are emptied
    (:func:`~application.usecases.forget_memos`, untimed): no decision is timed with a warm
    cache of its patient, so the first tenth's questions, asked just after those patients
    were imported, are not flattered against the whole population's."""
    import gc

    from application.usecases import forget_memos
    from domain.catalog import CatalogError
    from policies.errors import PolicyLookupError

    run = DecisionRun()
    pause = [0.0, 0.0]  # start of the current collection, ms of pauses in this request

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            pause[0] = time.perf_counter()
        else:
            pause[1] += (time.perf_counter() - pause[0]) * 1000
            run.collections[info["generation"]] += 1

    who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
    gc.callbacks.append(on_gc)
    try:
        for question in questions:
            forget_memos()
            pause[1] = 0.0
            switches = resource.getrusage(who).ru_nivcsw
            cpu = time.process_time()
            started = time.perf_counter()
            try:
                tracker.decide(question)
            except (PolicyLookupError, CatalogError):
                run.refused += 1
                continue
            ended = time.perf_counter()
            run.cpu_ms.append((time.process_time() - cpu) * 1000)
            run.preempted.append(resource.getrusage(who).ru_nivcsw > switches)
            run.wall_ms.append((ended - started) * 1000)
            run.gc_ms.append(pause[1])
    finally:
        gc.callbacks.remove(on_gc)
    return run


BASELINE_INTERVAL = (
    "SELECT MAX(dos) FROM {table} WHERE patient_id = ? AND region = ? AND family = 'esi' "
    "AND dos < ?"
)
BASELINE_CAP = (
    "SELECT COUNT(*) FROM {table} WHERE patient_id = ? AND region = ? AND family = 'esi' "
    "AND dos > ? AND dos <= ?"
)


def baseline_sql(
    stores: Stores, rows: Iterable[tuple[str, str, str, str]], questions: Sequence[Any]
) -> float:
    """p50 (ms) of the esi interval and 12-month rolling count as two indexed SQL queries
    over one table of procedures, for the same requests, in the same kind of store."""
    if stores.kind == "postgres":
        import psycopg

        schema = stores.settings("baseline").postgres_schema
        table = f'"{schema}".p'
        conn: Any = psycopg.connect(stores.url, autocommit=True)
        conn.execute(f"CREATE TABLE {table} (patient_id TEXT, region TEXT, family TEXT, dos DATE)")
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s, %s)", rows)
        conn.execute(f"CREATE INDEX ON {table} (patient_id, region, family, dos)")
        conn.execute(f"ANALYZE {table}")
        mark = "%s"
    else:
        table = "p"
        conn = sqlite3.connect(stores.root / "baseline.sqlite")
        conn.execute("CREATE TABLE p (patient_id TEXT, region TEXT, family TEXT, dos TEXT)")
        conn.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", rows)
        conn.execute("CREATE INDEX p_key ON p (patient_id, region, family, dos)")
        conn.commit()
        mark = "?"
    interval = BASELINE_INTERVAL.format(table=table).replace("?", mark)
    cap = BASELINE_CAP.format(table=table).replace("?", mark)
    timings = []
    try:
        for q in questions:
            dos = q.procedure.date_of_service
            region = q.procedure.region.value
            year_ago = date(dos.year - 1, dos.month, min(dos.day, 28))
            started = time.perf_counter()
            conn.execute(interval, (q.patient_id, region, dos.isoformat())).fetchone()
            conn.execute(
                cap, (q.patient_id, region, year_ago.isoformat(), dos.isoformat())
            ).fetchone()
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return statistics.median(timings)


# ---------------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(settings: Any, workers: int = 1) -> Iterator[str]:
    """See :func:`served`; yields its base URL only."""
    with served(settings, workers) as (base, _):
        yield base


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process ``pid`` and its descendants (the
    server and its workers); ``None`` where ``/proc`` does not say (not Linux)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        children: dict[int, list[int]] = {}
        stats: dict[int, list[str]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with suppress(OSError, IndexError, ValueError):
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                    stats[int(entry)] = fields
                    children.setdefault(int(fields[1]), []).append(int(entry))
    except (OSError, ValueError):
        return None
    if pid not in stats:
        return None
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
        todo.extend(children.get(current, []))
    return total / tick


@contextmanager
def served(settings: Any, workers: int = 1) -> Iterator[tuple[str, int]]:
    """A real ``injtrack serve --workers N`` on loopback over these settings, once every
    worker has started: its base URL and process id."""
    import httpx

    port = free_port()
    env = os.environ | {
        "INJTRACK_PERSISTENCE": settings.effective_persistence,
        "INJTRACK_DB": str(settings.db),
        "INJTRACK_VIEW_DB": str(settings.effective_view_db),
    }
    if settings.database_url:
        env["INJTRACK_DATABASE_URL"] = settings.database_url
        env["INJTRACK_POSTGRES_SCHEMA"] = settings.postgres_schema or ""
    else:
        env.pop("INJTRACK_DATABASE_URL", None)
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    # The server logs every request: its output goes to a file, never to a pipe nobody
    # reads (a full pipe blocks the server's logging, and with it every request).
    with tempfile.TemporaryFile(mode="w+") as output:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=output, text=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                with suppress(httpx.TransportError):
                    output.seek(0)
                    started = output.read().count("Application startup complete")
                    if (
                        started >= workers
                        and httpx.get(f"{base}/healthz", timeout=2).status_code == 200
                    ):
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    raise RuntimeError(f"the server did not start: {output.read()[-4000:]}")
                time.sleep(0.2)
            yield base, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def in_threads(count: int, work: Callable[[int], None]) -> float:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def http_ingest(base: str, bodies_by_client: list[list[dict[str, Any]]]) -> float:
    """Events per second posting each client's batches of 100 (clients in parallel)."""
    import httpx

    failures: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for batch in batches_of(bodies_by_client[n]):
                r = http.post("/v1/events", json={"events": batch})
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")

    seconds = in_threads(len(bodies_by_client), client)
    if failures:
        log(f"HTTP ingest: {len(failures)} batches refused, first: {failures[0]}")
    return sum(len(b) for b in bodies_by_client) / seconds


def http_decisions(
    base: str, bodies: Sequence[dict[str, Any]], clients: int
) -> tuple[list[float], float, int]:
    """Latencies (ms), requests per second and failures (answers other than 200) of
    eligibility requests from ``clients`` concurrent clients, each on one keep-alive
    connection sending its share of ``bodies`` in turn. The client is the standard
    library's: it shares the machine's two cores with the server, so it should cost little
    (each body is JSON-encoded before the clock starts; the server's work is all timed)."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(base)
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    headers = {"content-type": "application/json"}

    def client(n: int) -> None:
        payloads = [json.dumps(body).encode() for body in bodies[n::clients]]
        local: list[float] = []
        failed: list[int] = []
        conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=60)
        try:
            for payload in payloads:
                started = time.perf_counter()
                conn.request("POST", "/v1/eligibility", body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                local.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    failed.append(response.status)
        finally:
            conn.close()
        with lock:
            latencies.extend(local)
            failures.extend(failed)

    seconds = in_threads(clients, client)
    if failures:
        log(f"eligibility over HTTP: {len(failures)} answers were not 200 (first {failures[0]})")
    return latencies, len(bodies) / seconds, len(failures)


def http_eligibility(
    settings: Any, bodies: Sequence[dict[str, Any]], workers: int
) -> dict[str, Any]:
    """p50/p99 with 1 client, requests/s (and p50) with 8, on a server of ``workers``; and
    the CPU time per request of the server (all its workers) and of the 8 clients, which a
    busy machine inflates far less than it does wall-clock figures."""
    with served(settings, workers) as (base, pid):
        http_decisions(base, bodies[:40], 8)  # warm every worker's imports, not its data
        one, _, failed_1 = http_decisions(base, bodies, 1)
        server_before, client_before = cpu_seconds(pid), time.process_time()
        eight, rps, failed_8 = http_decisions(base, bodies, 8)
        server_after, client_after = cpu_seconds(pid), time.process_time()
    server_ms = (
        (server_after - server_before) * 1000 / len(bodies)
        if server_before is not None and server_after is not None
        else None
    )
    return {
        "workers": workers,
        "p50_ms": statistics.median(one),
        "p99_ms": percentile(one, 0.99),
        "rps_8_clients": rps,
        "p50_ms_8_clients": statistics.median(eight),
        "server_cpu_ms_per_request": server_ms,
        "client_cpu_ms_per_request": (client_after - client_before) * 1000 / len(bodies),
        "failures": failed_1 + failed_8,
    }


def trail_commit_ms(path: Path, commits: int = 200) -> float:
    """p50 of one access-trail append committed alone (an fsync'd SQLite transaction, what a
    lone request waits for before it answers) in the SQLite store at ``path``, as the
    server left it. (On ext4 an fsync that grows the WAL file also commits the filesystem's
    journal, several ms; once the WAL is reused after a checkpoint it costs a fraction.)"""
    from adapters.access import AccessEntry, SQLiteAccessStore

    store = SQLiteAccessStore(path)
    entry = AccessEntry(
        at=datetime.now(UTC),
        request_id="bench",
        key_name=None,
        role="payer",
        method="POST",
        route="/v1/eligibility",
        patient_id="bench",
        status=200,
        outcome="ok",
    )
    timings = []
    try:
        for _ in range(commits):
            started = time.perf_counter()
            store.append([entry])
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        store.close()
    return statistics.median(timings)


def http_server_stack() -> dict[str, Any]:
    """What ``injtrack serve`` runs on: the event loop and HTTP parser uvicorn picks
    (``auto``: uvloop and httptools when installed), and the workers the README
    recommends on this machine."""
    from importlib.util import find_spec

    from api.cli import recommended_workers

    return {
        "loop": "uvloop" if find_spec("uvloop") else "asyncio",
        "http": "httptools" if find_spec("httptools") else "h11",
        "workers": recommended_workers(),
    }


# ---------------------------------------------------------------------------- the machine


def machine(kind: str, url: str, load_start: tuple[float, ...]) -> dict[str, Any]:
    memory_mb = None
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    postgres = None
    if kind == "postgres":
        with suppress(Exception):
            import psycopg

            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                postgres = row[0] if row else None
    return {
        "cores": os.cpu_count(),
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "store": kind,
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }


# ------------------------------------------------------------------------------- the run


def run(scale_name: str, kind: str, root: Path, url: str) -> dict[str, Any]:
    from adapters.eventstore import InjectionLedger, LibraryTranscoderLedger, library_mapper
    from api.app import build_ledger
    from application.usecases import Tracker, rebuild_view

    scale = SCALES[scale_name]
    load_start = os.getloadavg()
    result: dict[str, Any] = dict.fromkeys(KEYS)
    extra: dict[str, Any] = {"scale": scale_name, "patients": scale.patients}
    stores = Stores(kind, root, url)

    def clock() -> datetime:
        return datetime.now(UTC)

    try:
        log(f"generating {scale.patients} patients")
        pop = population(
            scale.patients,
            root,
            sample=max(scale.decisions, scale.http_requests),
            tenth_sample=min(scale.decisions, 2000),
        )
        extra["events"] = pop.event_count
        extra["authorization_requests"] = pop.question_count

        # -- import, patient order, in two parts: the first tenth, then the rest
        everything = range(pop.event_count)
        main_settings = stores.settings("main")
        ledger: InjectionLedger = build_ledger(main_settings, clock)
        tracker = Tracker(ledger, clock)
        log(f"importing {pop.event_count} events (patient order)")
        sent_1, seconds_1, refused_1 = ingest(ledger, pop.batches(everything[: pop.tenth_events]))
        p50_tenth: float | None = None
        if pop.tenth_questions:
            tenth_run = decide_attributed(tracker, pop.tenth_questions)
            p50_tenth = statistics.median(tenth_run.wall_ms)
            extra["elig_inproc_tenth"] = {"p50_ms": p50_tenth} | tenth_run.summary()
        sent_2, seconds_2, refused_2 = ingest(ledger, pop.batches(everything[pop.tenth_events :]))
        result["import_events_per_s"] = (sent_1 + sent_2) / (seconds_1 + seconds_2)
        extra["import_refused"] = refused_1 + refused_2

        log("the library ceiling (same events, same batches, fresh store)")
        ceiling_settings = stores.settings("ceiling")
        ceiling_app = build_ledger(ceiling_settings, clock, kind=LibraryTranscoderLedger)
        try:
            result["import_ceiling_events_per_s"] = library_ceiling(
                ceiling_app, pop.batches(everything), clock
            )
        finally:
            ceiling_app.close()
        stored_events = pop.event_count - extra["import_refused"]
        result["store_bytes_per_event"] = stores.size(main_settings) / max(1, stored_events)
        extra["library_store_bytes_per_event"] = stores.size(ceiling_settings) / max(
            1, stored_events
        )

        log("importing the sorted feed as a file (fresh store)")
        feed = pop.write(pop.sorted_order, root / "sorted-feed.jsonl")
        sorted_settings = stores.settings("sorted")
        sorted_ledger = build_ledger(sorted_settings, clock)
        try:
            lines, seconds, wall = import_file(sorted_ledger, feed)
            result["import_sorted_feed_events_per_s"] = lines / seconds
            extra["import_sorted_file_wall_events_per_s"] = lines / wall
        finally:
            sorted_ledger.close()
            feed.unlink()
        prefix = pop.sorted_order[: scale.sorted_batches_events]
        log(f"the sorted feed as batches across patients, {len(prefix)} events (fresh store)")
        across_settings = stores.settings("across")
        across_ledger = build_ledger(across_settings, clock)
        try:
            sent, seconds, _ = ingest(across_ledger, pop.batches(prefix))
            extra["ingest_sorted_batches_events_per_s"] = sent / seconds
            extra["sorted_batches_events"] = sent
        finally:
            across_ledger.close()

        # -- decisions in process, whole population stored
        log(f"{scale.decisions} eligibility decisions in process")
        questions = pop.questions[: scale.decisions]
        decisions = decide_attributed(tracker, questions)
        timings = decisions.wall_ms
        extra["elig_inproc_refused"] = decisions.refused
        result["elig_inproc_p50_ms"] = statistics.median(timings)
        result["elig_inproc_p99_ms"] = percentile(timings, 0.99)
        extra["elig_inproc_attribution"] = decisions.summary()
        if p50_tenth:
            result["elig_growth_ratio"] = result["elig_inproc_p50_ms"] / p50_tenth
            extra["elig_growth_ratio_cpu"] = (
                extra["elig_inproc_attribution"]["cpu_p50_ms"]
                / extra["elig_inproc_tenth"]["cpu_p50_ms"]
            )

        # -- rebuild and its ceiling, the same log
        log("rebuilding the read model")
        from adapters.readmodel import open_view
        from api.projections_cmd import view_env

        total = ledger.recorder.max_notification_id() or 0
        mapper = library_mapper(ledger)  # the library's own transcoder, as defined
        started = time.perf_counter()
        position = 0
        while True:
            page = ledger.recorder.select_notifications(position + 1, 500)
            if not page:
                break
            for n in page:
                mapper.to_domain_event(n)
            position = page[-1].id
        result["rebuild_ceiling_events_per_s"] = total / (time.perf_counter() - started)
        opened = open_view(view_env(main_settings))
        try:
            started = time.perf_counter()
            rebuild_view(ledger, opened.view)
            result["rebuild_events_per_s"] = total / (time.perf_counter() - started)
            result["baseline_sql_p50_ms"] = baseline_sql(
                stores, opened.view.procedure_keys(), questions
            )
        finally:
            opened.close()

        # -- the compliance report over the last year
        log("the compliance report, one year")
        from api.schemas.eligibility import decision_json
        from api.views import report_source
        from application.audit import audit_patient
        from application.compliance import Period, compliance_report
        from application.population import DEFAULT_END
        from policies import registry

        started = time.perf_counter()
        with report_source(main_settings, ledger) as source:
            compliance_report(
                source,
                registry.get("nia"),
                Period(DEFAULT_END - timedelta(days=364), DEFAULT_END),
            )
        result["report_seconds"] = time.perf_counter() - started

        # -- the audit replay of one patient (issue 11: "answers in milliseconds")
        log("auditing patients with authorizations")
        from api.lines import parse_line

        audited = list(dict.fromkeys(b["patient_id"] for b in pop.question_bodies))
        audited = audited[: scale.audits]
        chosen = set(audited)
        # Their sampled requests decided and recorded first (untimed), so each audit has
        # decisions to replay.
        tracker.authorize_many(
            [
                parse_line(body | {"type": "authorization_request", "authorization_id": f"B{n}"})
                for n, body in enumerate(pop.question_bodies)
                if body["patient_id"] in chosen
            ],
            decision_json,
        )
        audit_ms = []
        for patient_id in audited:
            started = time.perf_counter()
            audit_patient(ledger, patient_id, decision_json)
            audit_ms.append((time.perf_counter() - started) * 1000)
        if audit_ms:
            extra["audit_p50_ms"] = statistics.median(audit_ms)
            extra["audit_p99_ms"] = percentile(audit_ms, 0.99)
        ledger.close()

        # -- CDS Hooks / CRD: order-sign calls of five orders, each recorded (issue 14)
        log("CDS Hooks order-sign calls, five orders each (fresh store)")
        from api.cds_bench import cds_hooks_latencies_ms

        cds = cds_hooks_latencies_ms(
            runs=min(scale.decisions // 2, 300),
            patients=min(scale.patients, 100),
            settings=stores.settings("cds"),
        )
        extra["cds_hooks_p50_ms"] = statistics.median(cds)
        extra["cds_hooks_p99_ms"] = percentile(cds, 0.99)

        # -- one very large patient, fresh store (issue 12; beside the keys)
        from api.big_patient_bench import big_patient_figures

        extra |= big_patient_figures(
            stores.settings("big"), scale.big_patient_events, server=server
        )

        # -- HTTP: decisions on the main store, then ingest into a fresh one
        stack = http_server_stack()
        extra["http_server"] = stack
        bodies = pop.question_bodies[: scale.http_requests]
        by_workers: dict[str, Any] = {}
        for workers in dict.fromkeys((1, stack["workers"])):
            log(f"eligibility over HTTP, {workers} worker(s)")
            by_workers[str(workers)] = http_eligibility(main_settings, bodies, workers)
        extra["elig_http_by_workers"] = by_workers
        chosen = by_workers[str(stack["workers"])]  # what the README recommends
        result["elig_http_p50_ms"] = chosen["p50_ms"]
        result["elig_http_p99_ms"] = chosen["p99_ms"]
        result["elig_http_rps_8_clients"] = chosen["rps_8_clients"]
        if kind == "sqlite":  # the fsync'd commit a lone request waited for, on that store
            extra["trail_commit_p50_ms"] = trail_commit_ms(main_settings.db)

        subset = list(pop.lines(range(min(scale.http_ingest_events, pop.event_count))))
        patients = list(dict.fromkeys(b["patient_id"] for b in subset))
        first_half = set(patients[: len(patients) // 2])
        one = [b for b in subset if b["patient_id"] in first_half]
        client_of = {pid: n % 4 for n, pid in enumerate(p for p in patients if p not in first_half)}
        by_client: list[list[dict[str, Any]]] = [[], [], [], []]
        for b in subset:
            if b["patient_id"] not in first_half:
                by_client[client_of[b["patient_id"]]].append(b)
        ingest_by_workers: dict[str, Any] = {}
        for workers in dict.fromkeys((1, stack["workers"])):
            log(f"ingest over HTTP, {workers} worker(s) (fresh store)")
            with server(stores.settings(f"http{workers}"), workers) as base:
                rate_1 = http_ingest(base, [one])
                rate_4 = http_ingest(base, [c for c in by_client if c])
            ingest_by_workers[str(workers)] = {"1": rate_1, "4": rate_4}
        extra["http_ingest_by_workers"] = ingest_by_workers
        chosen_ingest = ingest_by_workers[str(stack["workers"])]
        extra["http_ingest_by_clients"] = chosen_ingest
        result["http_ingest_events_per_s"] = max(chosen_ingest.values())
    finally:
        stores.drop()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["machine"] = machine(kind, url, load_start)
    return result | extra


# --------------------------------------------------------------------------- the output

# (figure, its ceiling or target, how to read them)
TABLE: tuple[tuple[str, str | None, str], ...] = (
    ("import_events_per_s", "import_ceiling_events_per_s", "target >= 0.60 of the ceiling"),
    ("import_sorted_feed_events_per_s", "import_events_per_s", "target >= 0.80 of patient order"),
    ("http_ingest_events_per_s", "import_events_per_s", "target >= 0.50 of in-process"),
    ("elig_inproc_p50_ms", None, "target <= 0.5 ms"),
    ("elig_inproc_p99_ms", None, "target <= 2 ms"),
    ("elig_growth_ratio", None, "target <= 1.2"),
    ("baseline_sql_p50_ms", "elig_inproc_p50_ms", "decision within 15x of this"),
    ("elig_http_p50_ms", None, "target <= 3 ms"),
    ("elig_http_p99_ms", None, "target <= 8 ms"),
    ("elig_http_rps_8_clients", None, "target >= 500"),
    ("rebuild_events_per_s", "rebuild_ceiling_events_per_s", "target >= 0.60 of the ceiling"),
    ("report_seconds", None, "target <= 30 s (full)"),
    ("store_bytes_per_event", "library_store_bytes_per_event", "target <= 2x the library's"),
    ("peak_rss_mb", None, "target <= 1024"),
)


def table(result: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:,.3f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"

    lines = [f"{'figure':34} {'value':>12} {'compare with':>34} {'ratio':>7}  note"]
    for key, other, note in TABLE:
        value, against = result.get(key), result.get(other) if other else None
        ratio = (
            f"{value / against:.2f}"
            if isinstance(value, (int, float)) and isinstance(against, (int, float)) and against
            else ""
        )
        compare = f"{other} {fmt(against)}" if other else ""
        lines.append(f"{key:34} {fmt(value):>12} {compare:>34} {ratio:>7}  {note}")
    return "\n".join(lines)


def _bench(args: argparse.Namespace) -> int:
    url = os.environ.get("INJTRACK_DATABASE_URL") or DEFAULT_POSTGRES_URL
    with tempfile.TemporaryDirectory(prefix="injtrack-bench-") as tmp:
        result = run(args.scale, args.store, Path(tmp), url)
    print(table(result))
    across = result.get("ingest_sorted_batches_events_per_s")
    if across is not None and result.get("import_events_per_s"):
        print(
            f"ingest_sorted_batches_events_per_s {across:,.0f} "
            f"({across / result['import_events_per_s']:.2f} of patient order): the date-sorted "
            f"feed as batches of {BATCH} across patients, first {result['sorted_batches_events']:,} "
            "events (beside the keys; no target)"
        )
    if result.get("audit_p50_ms") is not None:
        print(
            f"audit_p50_ms {result['audit_p50_ms']:.1f} (p99 {result['audit_p99_ms']:.1f}): "
            "one patient's audit replay, patients with authorizations (issue 11)"
        )
    if result.get("cds_hooks_p99_ms") is not None:
        print(
            f"cds_hooks_p99_ms {result['cds_hooks_p99_ms']:.1f} "
            f"(p50 {result['cds_hooks_p50_ms']:.1f}): order-sign, five orders, recorded; "
            "target <= 20 ms (issue 14)"
        )
    if result.get("big_patient_decide_ms") is not None:
        print(
            f"big_patient_decide_ms {result['big_patient_decide_ms']:.1f} "
            f"(HTTP {result.get('big_patient_decide_http_ms') or float('nan'):.1f}), "
            f"big_patient_history_ms {result['big_patient_history_ms']:.1f} "
            f"(HTTP {result.get('big_patient_history_http_ms') or float('nan'):.1f}): "
            f"one patient of {result['big_patient_events']} events; "
            "targets <= 50 ms and <= 20 ms (issue 12)"
        )
    if result.get("big_patient_audit_ms") is not None:
        print(
            f"big_patient_audit_ms {result['big_patient_audit_ms']:.0f}: that patient's "
            "audit replay, every recorded authorization replayed (issue 11)"
        )
    print(f"machine: {json.dumps(result['machine'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n")
        log(f"wrote {args.json}")
    missing = [k for k in KEYS if result.get(k) is None]
    if missing:
        log(f"figures not taken: {', '.join(missing)}")
    return 0


def add_bench_parser(sub: Any) -> None:
    cmd = sub.add_parser("bench", help="measure ingest, decisions, rebuild against ceilings")
    cmd.add_argument("--scale", choices=sorted(SCALES), default="smoke")
    cmd.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    cmd.add_argument("--json", help="write the figures to this JSON file")
    cmd.set_defaults(func=_bench)
