"""Concurrent writers over overlapping patient-regions: every accepted event is stored
exactly once, none is lost, none is stored twice.

Writers share one InjectionLedger (as the service's threads do) or use two applications on
one database (as two service processes do). Some event ids are sent by two writers with the
same content: exactly one of them records it, the other gets ``duplicate``.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from adapters.eventstore import IngestResult, InjectionLedger
from domain.errors import WriteContention
from domain.events import PatientRegion, patient_region_id
from tests.builders import outcome, parse, procedure
from tests.conftest import LedgerFactory
from tests.support import on_backends, run_in_threads

WRITERS = 8
EVENTS_PER_WRITER = 500
BATCH = 50
PATIENTS = 4
REGION_CODES = (("lumbar", "64483"), ("cervical", "64479"), ("thoracic", "64479"))
FIRST_DAY = date(2025, 1, 1)


def writer_events(writer: int) -> list[dict[str, object]]:
    """500 events: procedures each followed by an outcome; every tenth procedure is shared
    with the writer's pair (writers 0-1, 2-3, ...) with identical content."""
    events: list[dict[str, object]] = []
    n = 0
    while len(events) < EVENTS_PER_WRITER:
        shared = n % 10 == 0
        owner = f"pair{writer // 2}" if shared else f"w{writer}"
        seed = writer // 2 if shared else writer
        patient = f"pt-{(seed + n) % PATIENTS}"
        region, code = REGION_CODES[(seed + n) % len(REGION_CODES)]
        day = FIRST_DAY + timedelta(days=n % 60)
        proc_id = f"{owner}-proc-{n}"
        events.append(procedure(proc_id, on=day, region=region, codes=[code], patient_id=patient))
        if not shared and len(events) < EVENTS_PER_WRITER:
            events.append(
                outcome(
                    f"{owner}-out-{n}",
                    of=proc_id,
                    on=day + timedelta(days=7),
                    relief=n % 101,
                    patient_id=patient,
                )
            )
        n += 1
    return events


@dataclass
class Tally:
    statuses: list[IngestResult] = field(default_factory=list)
    contention: int = 0
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_writers(ledgers: list[InjectionLedger]) -> Tally:
    """Every writer posts its events in batches through one of the ledgers (round robin),
    retrying a batch refused with the retryable 503."""
    tally = Tally()
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        ledger = ledgers[writer % len(ledgers)]
        events = writer_events(writer)
        try:
            start.wait()
            for i in range(0, len(events), BATCH):
                batch = parse(*events[i : i + BATCH])
                while True:
                    try:
                        results = ledger.record_batch(batch)
                        break
                    except WriteContention:
                        with tally.lock:
                            tally.contention += 1
                with tally.lock:
                    tally.statuses.extend(results)
        except BaseException as exc:
            with tally.lock:
                tally.errors.append(exc)

    run_in_threads(WRITERS, write, "writer")
    return tally


def expected_events() -> dict[str, dict[str, object]]:
    """Every distinct event any writer sends, by (patient, event_id)."""
    out: dict[str, dict[str, object]] = {}
    for w in range(WRITERS):
        for event in writer_events(w):
            out[f"{event['patient_id']}/{event['event_id']}"] = event
    return out


def assert_each_event_stored_exactly_once(ledger: InjectionLedger, tally: Tally) -> None:
    assert not tally.errors, tally.errors
    expected = expected_events()
    assert len(tally.statuses) == WRITERS * EVENTS_PER_WRITER
    recorded = Counter(r.event_id for r in tally.statuses if r.status == "recorded")
    assert all(count == 1 for count in recorded.values()), recorded.most_common(3)
    assert sorted(recorded) == sorted(key.split("/", 1)[1] for key in expected)

    stored: list[str] = []
    for p in range(PATIENTS):
        patient = f"pt-{p}"
        for region, _ in REGION_CODES:
            for event in ledger.events.get(patient_region_id(patient, region)):
                if not isinstance(event, PatientRegion.Created):
                    stored.append(f"{patient}/{event.event_id}")
        order = ledger.recording_order(patient)
        assert len(order) == len(set(order)), f"{patient} has an event id twice in its ledger"
        assert sorted(order) == sorted(
            k.split("/", 1)[1] for k in stored if k.startswith(f"{patient}/")
        )
    duplicates = [k for k, n in Counter(stored).items() if n > 1]
    assert not duplicates, duplicates[:5]
    assert sorted(stored) == sorted(expected)


@pytest.mark.slow
@on_backends("memory", "sqlite", "postgres")
def test_eight_writers_sharing_one_application_store_every_event_once(
    ledger: InjectionLedger,
) -> None:
    tally = run_writers([ledger])
    assert_each_event_stored_exactly_once(ledger, tally)


@pytest.mark.slow
@on_backends("sqlite", "postgres")
def test_eight_writers_through_two_applications_on_one_database_store_every_event_once(
    make_ledger: LedgerFactory,
) -> None:
    first, second = make_ledger(), make_ledger()
    tally = run_writers([first, second])
    reader = make_ledger()  # a third process, with a cold cache, sees the same store
    assert_each_event_stored_exactly_once(reader, tally)
    assert_each_event_stored_exactly_once(first, tally)
