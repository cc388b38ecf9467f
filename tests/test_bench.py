"""``injtrack bench``: the figures issue 12 names, and the table that shows each beside its
ceiling. (CI runs ``injtrack bench --scale smoke`` and checks every figure is produced.)"""

from __future__ import annotations

import gc
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.eventstore import InjectionLedger
from api.app import build_ledger
from api.bench_cmd import (
    KEYS,
    SCALES,
    TABLE,
    Stores,
    decide_attributed,
    import_file,
    ingest,
    population,
    table,
)
from application.population import clinical_date_of


def _clock() -> datetime:
    return datetime.now(UTC)


def test_the_json_has_exactly_the_figures_issue_12_names() -> None:
    assert KEYS == (
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
    assert {"smoke", "medium", "full"} == set(SCALES)
    assert SCALES["full"].patients == 100_000 and SCALES["medium"].patients == 10_000


def test_the_table_shows_each_figure_beside_its_ceiling_and_dashes_for_those_not_taken() -> None:
    figures = dict.fromkeys(KEYS) | {
        "import_events_per_s": 6000.0,
        "import_ceiling_events_per_s": 10000.0,
    }
    shown = table(figures)
    [line] = [row for row in shown.splitlines() if row.startswith("import_events_per_s")]
    assert "import_ceiling_events_per_s 10,000" in line and "0.60" in line
    [line] = [row for row in shown.splitlines() if row.startswith("report_seconds")]
    assert " - " in line
    assert {key for key, _, _ in TABLE} <= set(KEYS)


def test_the_sorted_feed_file_imports_the_same_events_as_patient_order_and_times_the_ledger(
    tmp_path: Path,
) -> None:
    """The sorted-feed figure is the product's file import of the date-sorted file: it must
    store exactly the events the patient-ordered ingest stores, and time only the ledger."""
    pop = population(40, tmp_path, sample=5, tenth_sample=2)
    stores = Stores("sqlite", tmp_path, url="")
    ledger = build_ledger(stores.settings("patient"), _clock)
    sent, _, refused = ingest(ledger, pop.batches(range(pop.event_count)))
    assert sent == pop.event_count
    feed = pop.write(pop.sorted_order, tmp_path / "sorted.jsonl")
    dates = [clinical_date_of(json.loads(line)) for line in feed.read_text().splitlines()]
    known = [d for d in dates if d is not None]
    assert known == sorted(known) and len(dates) == pop.event_count
    other = build_ledger(stores.settings("sorted"), _clock)
    lines, in_ledger, wall = import_file(other, feed)
    assert lines == pop.event_count and 0 < in_ledger <= wall

    def stored(app: InjectionLedger) -> dict[str, set[str]]:
        return {
            patient: {
                f"{e.region}:{e.event.event_id}:{e.event.__class__.__name__}"
                for e in app.patient_events(patient)
            }
            for patient in pop.patients
        }

    assert stored(other) == stored(ledger)

    def accepted(app: InjectionLedger) -> int:  # resent lines are duplicates, stored once
        return sum(len(app.recording_order(patient)) for patient in pop.patients)

    assert accepted(other) == accepted(ledger) > pop.event_count * 0.9 - refused
    ledger.close()
    other.close()


class _CollectingTracker:
    """Decides nothing; every third question runs a full collection, as a slow request
    would meet one."""

    def __init__(self) -> None:
        self.asked = 0

    def decide(self, question: object) -> None:
        self.asked += 1
        if self.asked % 3 == 0:
            gc.collect()


def test_decision_timings_say_which_requests_the_collector_paused() -> None:
    run = decide_attributed(_CollectingTracker(), list(range(9)))
    assert len(run.wall_ms) == len(run.cpu_ms) == len(run.gc_ms) == len(run.preempted) == 9
    paused = [i for i, ms in enumerate(run.gc_ms) if ms > 0]
    assert {2, 5, 8} <= set(paused)
    assert run.collections[2] >= 3
    summary = run.summary()
    assert summary["gc_pause_ms"] >= sum(run.gc_ms[i] for i in (2, 5, 8))
    assert summary["slow_requests"] >= 1 and summary["cpu_p99_ms"] >= summary["cpu_p50_ms"]


def test_decision_timings_leave_out_questions_refused_before_reading_and_raise_on_others() -> None:
    from api.bench_cmd import decide_attributed
    from domain.catalog import CatalogError
    from policies.errors import PolicyLookupError

    class Answers:
        def decide(self, question: object) -> object:
            if question == "no guideline":
                raise PolicyLookupError("procedure", "no guideline in force for these codes")
            if question == "unknown code":
                raise CatalogError("procedure", "unknown code")
            if question == "broken":
                raise RuntimeError("a defect must not be timed as an answer")
            return question

    run = decide_attributed(Answers(), ["a", "no guideline", "b", "unknown code"])
    timings, refused = run.wall_ms, run.refused
    assert len(timings) == 2 and refused == 2 and all(t >= 0 for t in timings)
    with pytest.raises(RuntimeError):
        decide_attributed(Answers(), ["a", "broken"])


def test_no_decision_is_timed_with_the_memos_of_its_patient_warm() -> None:
    from api.bench_cmd import decide_attributed
    from domain.events import PUBLIC_STREAM_IDS, _derive
    from projections.calendar import add_months

    class Warms:
        """A tracker whose decisions leave the memos warm, and see them emptied."""

        seen: list[int] = []

        def decide(self, question: str) -> None:
            self.seen.append(_derive.cache_info().currsize + add_months.cache_info().currsize)
            PUBLIC_STREAM_IDS.ledger(question)
            add_months(date(2025, 1, 31), 1)

    tracker = Warms()
    run = decide_attributed(tracker, ["P1", "P2", "P1"])
    assert tracker.seen == [0, 0, 0] and len(run.cpu_ms) == 3
