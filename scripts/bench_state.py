"""Benchmark of the projections: the state of one patient and the read model's catch-up.

    .venv/bin/python scripts/bench_state.py [--patients 400] [--page-size 500]

Prints (in-process, this machine):
- fold only: time to fold a patient's 50 recorded events into its state;
- read from SQLite + fold: the same, reading the patient's three region streams first;
- read-model catch-up: notifications per second, and patient events per second, for a full
  rebuild of the SQLite read model from a store of ``patients`` x 50 events.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import timeit
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.eventstore import InjectionLedger
from adapters.readmodel import catch_up, open_view
from api.app import build_ledger
from api.projections_cmd import view_env
from api.schemas.events import EventBatchIn
from api.settings import Settings
from projections.state import fold

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def patient_events(patient_id: str) -> list[dict[str, Any]]:
    """50 events: 30 procedures (lumbar esi/facet, cervical esi), 15 outcomes, 3 surgeries,
    2 voids."""
    events: list[dict[str, Any]] = []
    start = date(2021, 1, 4)
    codes = [("lumbar", "64483"), ("lumbar", "64493"), ("cervical", "64479")]
    for i in range(30):
        region, cpt = codes[i % 3]
        events.append(
            {
                "type": "procedure_performed",
                "event_id": f"p{i}",
                "patient_id": patient_id,
                "region": region,
                "codes": [{"cpt": cpt}],
                "date_of_service": (start + timedelta(days=45 * i)).isoformat(),
                "laterality": "left" if i % 2 else "right",
                "levels": ["L4-L5"] if region == "lumbar" else ["C5-C6"],
            }
        )
    for i in range(15):
        dos = start + timedelta(days=45 * (2 * i))
        events.append(
            {
                "type": "outcome_reported",
                "event_id": f"o{i}",
                "patient_id": patient_id,
                "procedure_event_id": f"p{2 * i}",
                "assessed_on": (dos + timedelta(days=14)).isoformat(),
                "pain_relief_percent": 30 + 4 * i,
            }
        )
    for i in range(3):
        events.append(
            {
                "type": "surgery_performed",
                "event_id": f"s{i}",
                "patient_id": patient_id,
                "region": "lumbar",
                "date": (start + timedelta(days=400 * (i + 1))).isoformat(),
            }
        )
    for i in range(2):
        events.append(
            {
                "type": "event_voided",
                "event_id": f"v{i}",
                "patient_id": patient_id,
                "voided_event_id": f"p{5 + 7 * i}",
                "reason": "entered in error",
            }
        )
    return events


def record(ledger: InjectionLedger, patient_id: str) -> None:
    ledger.record_batch(
        EventBatchIn.model_validate({"events": patient_events(patient_id)}).to_commands()
    )


def per_call(func: Any, repeat: int = 5) -> float:
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat, number)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            db=Path(tmp) / "store.sqlite",
            view_db=Path(tmp) / "view.sqlite",
            persistence="sqlite",
            database_url=None,
        )
        ledger = build_ledger(settings, lambda: NOW)
        record(ledger, "bench-0")
        events = ledger.patient_events("bench-0")
        assert len(events) == 50, len(events)
        fold_s = per_call(lambda: fold(events, patient_id="bench-0"))
        read_fold_s = per_call(lambda: fold(ledger.patient_events("bench-0"), patient_id="bench-0"))
        print(f"state of a patient with {len(events)} events:")
        print(f"  fold only:                 {fold_s * 1e6:8.1f} µs")
        print(f"  read from SQLite + fold:   {read_fold_s * 1e6:8.1f} µs")

        started = time.perf_counter()
        for n in range(1, args.patients):
            record(ledger, f"bench-{n}")
        write_s = time.perf_counter() - started
        total = ledger.recorder.max_notification_id() or 0
        region_events = args.patients * 50
        print(
            f"store: {args.patients} patients, {region_events} patient events, {total} "
            f"notifications (recorded at {region_events / write_s:,.0f} events/s, "
            "one batch per patient)"
        )

        view = open_view(view_env(settings))
        started = time.perf_counter()
        done = catch_up(
            view.view, ledger.recorder, ledger.mapper, ledger.name, page_size=args.page_size
        )
        elapsed = time.perf_counter() - started
        status = view.view.status(ledger.name, ledger.recorder)
        print(
            f"read-model catch-up (SQLite view, page size {args.page_size}): "
            f"{done} notifications in {elapsed:.2f} s = {done / elapsed:,.0f} "
            f"notifications/s, {region_events / elapsed:,.0f} patient events/s; "
            f"{status.procedures} procedure rows, lag {status.lag}"
        )
        view.close()
        ledger.close()


if __name__ == "__main__":
    main()
