"""The figures of one very large patient for ``injtrack bench`` (issue 12: a 30,000-event
patient decides in <= 50 ms and pages its history in <= 20 ms), beside the issue's keys.

The patient (:mod:`application.big_patient`) is recorded through the tracker into a fresh
store, in clinical-date order, each authorization request decided when its turn comes. Then,
timed: eligibility questions on its own procedures' specs (dated after its last one) through
:meth:`Tracker.decide` and over HTTP, ``history?limit=10`` pages at offsets spread over
the history, in process and over HTTP (a real server on loopback), and the patient's audit
replay (issue 11) in process. Nothing is cached between requests: each reads the store
afresh.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

QUESTIONS = 20
PAGES = (0.0, 0.25, 0.5, 0.75, 0.999)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def big_patient_figures(
    settings: Any, events: int, server: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """``big_patient_events``, ``big_patient_decide_ms`` and ``big_patient_history_ms``
    (in process, p50), ``big_patient_audit_ms`` (the patient's audit replay, in process,
    once: every recorded authorization replayed and decided now), and the ``_http`` twins
    of the first two when ``server`` (a context manager factory over the settings, yielding
    the base URL) is given."""
    from api.app import build_ledger
    from api.bench_cmd import timed_ms
    from api.schemas.eligibility import EligibilityIn, decision_json
    from application.audit import audit_patient
    from application.big_patient import api_parsers, big_patient, questions, record_big_patient
    from application.usecases import Tracker

    log(f"one patient with {events} events: generating")
    patient = big_patient(events=events)

    def clock() -> datetime:
        return datetime.now(UTC)

    ledger = build_ledger(settings, clock)
    out: dict[str, Any] = {}
    try:
        tracker = Tracker(ledger, clock)
        log("one patient: recording")
        started = time.perf_counter()
        record_big_patient(tracker, patient, decision_json, *api_parsers())
        out["big_patient_record_seconds"] = time.perf_counter() - started
        bodies = list(questions(patient, QUESTIONS))
        asked = [EligibilityIn.model_validate(b).to_query() for b in bodies]
        tracker.decide(asked[0])  # the policy documents load once per process
        decide_ms = timed_ms(tracker.decide, asked)
        total, _ = tracker.history_page(patient.patient_id, limit=1)
        offsets = [int(total * share) for share in PAGES]
        page_ms = timed_ms(
            lambda offset: tracker.history_page(patient.patient_id, offset=offset, limit=10),
            offsets,
        )
        log("one patient: its audit replay")
        [audit_ms] = timed_ms(
            lambda patient_id: audit_patient(ledger, patient_id, decision_json),
            [patient.patient_id],
        )
        out |= {
            "big_patient_events": total,
            "big_patient_decide_ms": statistics.median(decide_ms),
            "big_patient_history_ms": statistics.median(page_ms),
            "big_patient_audit_ms": audit_ms,
        }
    finally:
        ledger.close()
    if server is not None:
        import httpx

        with server(settings) as base, httpx.Client(base_url=base, timeout=600) as http:
            http.post("/v1/eligibility", json=bodies[0])  # warm the server's imports
            decide_ms = timed_ms(
                lambda body: http.post("/v1/eligibility", json=body).raise_for_status(), bodies
            )
            page_ms = timed_ms(
                lambda offset: http.get(
                    f"/v1/patients/{patient.patient_id}/history",
                    params={"offset": offset, "limit": 10},
                ).raise_for_status(),
                offsets,
            )
            out |= {
                "big_patient_decide_http_ms": statistics.median(decide_ms),
                "big_patient_history_http_ms": statistics.median(page_ms),
            }
    return out
