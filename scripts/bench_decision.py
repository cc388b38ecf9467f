"""Time one eligibility decision for a patient with 50 prior events, in-process: reading the
events from a SQLite store, folding them and deciding under ``nia`` (the next-eligible search
included). Prints the median and 95th percentile.

    .venv/bin/python scripts/bench_decision.py [--runs 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import TypeAdapter

from api.app import build_ledger
from api.schemas.eligibility import EligibilityIn
from api.schemas.events import EventBatchIn
from api.settings import Settings
from application.usecases import Tracker

PATIENT = "bench-1"


def history() -> list[dict[str, object]]:
    """25 lumbar/cervical ESI with an outcome each: 50 events over four years."""
    events: list[dict[str, object]] = []
    day = date(2021, 1, 4)
    for i in range(25):
        region, cpt = ("lumbar", "64483") if i % 2 == 0 else ("cervical", "64479")
        events.append(
            {
                "type": "procedure_performed",
                "event_id": f"p{i}",
                "patient_id": PATIENT,
                "date_of_service": day.isoformat(),
                "region": region,
                "codes": [{"cpt": cpt}],
                "levels": ["L4-L5" if i % 2 == 0 else "C5-C6"],
            }
        )
        events.append(
            {
                "type": "outcome_reported",
                "event_id": f"o{i}",
                "patient_id": PATIENT,
                "procedure_event_id": f"p{i}",
                "assessed_on": (day + timedelta(days=62)).isoformat(),
                "pain_relief_percent": 70,
            }
        )
        day += timedelta(days=60)
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(persistence="sqlite", db=Path(tmp) / "bench.sqlite")
        ledger = build_ledger(settings)
        batch = TypeAdapter(EventBatchIn).validate_python({"events": history()})
        ledger.record_batch(batch.to_commands())
        tracker = Tracker(ledger, ledger.clock)
        body = EligibilityIn.model_validate(
            {
                "patient_id": PATIENT,
                "policy_set": "nia",
                "procedure": {
                    "date_of_service": "2025-02-10",
                    "region": "lumbar",
                    "codes": [{"cpt": "64483"}],
                    "levels": ["L4-L5"],
                },
                "clinical": {"pain_score": 7, "active_conservative_therapy": True},
            }
        )
        query = body.to_query()
        decision = tracker.decide(query)  # warm up
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            tracker.decide(query)
            timings.append(time.perf_counter() - start)
        ledger.close()
    timings.sort()
    median = statistics.median(timings) * 1000
    p95 = timings[int(len(timings) * 0.95)] * 1000
    print(
        f"decision ({decision.decision}, next eligible {decision.next_eligible_date}) for a "
        f"patient with 50 prior events, SQLite read + fold + decide: median {median:.2f} ms, "
        f"p95 {p95:.2f} ms over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
