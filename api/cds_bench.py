"""Time CDS Hooks ``order-sign`` calls answered as a Da Vinci CRD service, in-process: parse
the call (CDS Hooks models, FHIR R4 resources), map five draft orders, read and fold a
member with 50 prior events, decide each order under ``nia``, record the assertions as
authorization decisions (one transaction), and shape the response. Every call has a new
hook instance, so every call writes; calls go round the members.

``injtrack bench`` reports :func:`cds_hooks_latencies_ms` as ``cds_hooks_p50_ms`` and
``cds_hooks_p99_ms`` (target: p99 <= 20 ms); on its own, with the median, 95th and 99th
percentiles and the CPU time per call:

    .venv/bin/python -m api.cds_bench [--runs 300] [--patients 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from api.app import build_ledger
from api.bench_cmd import percentile
from api.schemas.eligibility import decision_json
from api.schemas.events import EventBatchIn
from api.settings import Settings
from application.coverage_requirements import Caller, answer, config_from
from interop.cdshooks.crd import CrdVersion
from interop.cdshooks.models import CdsRequest, OrderSignContext
from interop.cdshooks.orders import ATTESTATION_URL

MEMBER_SYSTEM = "https://payer.example.org/member-id"
CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
LEVELS = "https://injection-tracker.example/fhir/CodeSystem/spinal-level"


def history(member: str) -> list[dict[str, Any]]:
    """25 lumbar/cervical ESI with an outcome each: 50 events over four years."""
    events: list[dict[str, Any]] = []
    day = date(2021, 1, 4)
    for i in range(25):
        region, cpt, level = (
            ("lumbar", "64483", "L4-L5") if i % 2 == 0 else ("cervical", "64479", "C5-C6")
        )
        events.append(
            {
                "type": "procedure_performed",
                "event_id": f"p{i}",
                "patient_id": member,
                "date_of_service": day.isoformat(),
                "region": region,
                "codes": [{"cpt": cpt}],
                "levels": [level],
            }
        )
        events.append(
            {
                "type": "outcome_reported",
                "event_id": f"o{i}",
                "patient_id": member,
                "procedure_event_id": f"p{i}",
                "assessed_on": (day + timedelta(days=30)).isoformat(),
                "pain_relief_percent": 70,
            }
        )
        day += timedelta(days=60)
    return events


def _order(sr_id: str, cpt: str, site: str, level: str, on: str) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": sr_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/pat-1"},
        "code": {"coding": [{"system": CPT, "code": cpt}]},
        "occurrenceDateTime": on,
        "bodySite": [
            {"coding": [{"system": SNOMED, "code": site}]},
            {"coding": [{"system": LEVELS, "code": level}]},
        ],
        "extension": [
            {
                "url": ATTESTATION_URL,
                "extension": [
                    {"url": "pain_score", "valueInteger": 7},
                    {"url": "active_conservative_therapy", "valueBoolean": True},
                ],
            }
        ],
    }


def call(member: str) -> dict[str, Any]:
    """An order-sign call with five draft orders (ESI, facet, RFA, SIJ, cervical ESI)."""
    orders = [
        _order("sr-1", "64483", "122496007", "L4-L5", "2025-02-10"),
        _order("sr-2", "64493", "122496007", "L3-L4", "2025-02-10"),
        _order("sr-3", "64635", "122496007", "L5-S1", "2025-02-11"),
        _order("sr-4", "27096", "122496007", "L5-S1", "2025-02-12"),
        _order("sr-5", "64479", "122494005", "C5-C6", "2025-02-10"),
    ]
    coverage = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "identifier": [{"system": MEMBER_SYSTEM, "value": member}],
        "beneficiary": {"reference": "Patient/pat-1"},
        "payor": [{"reference": "Organization/acme"}],
    }
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/dr-1",
            "patientId": "pat-1",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": o} for o in orders],
            },
        },
        "prefetch": {
            "coverage": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": coverage}],
            }
        },
    }


def cds_hooks_latencies_ms(
    runs: int = 300,
    patients: int = 100,
    store_dir: Path | None = None,
    warmup: int = 20,
    settings: Settings | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Milliseconds per order-sign call (five orders, each recorded) on a store of
    ``patients`` members with 50 events each (a fresh SQLite file unless ``settings`` names
    a store); calls go round the members, as an EHR's calls spread over a payer's
    members. ``timer=time.process_time`` gives CPU time instead of wall time."""
    with tempfile.TemporaryDirectory(dir=store_dir) as tmp:
        settings = settings or Settings(persistence="sqlite", db=Path(tmp) / "bench.sqlite")
        ledger = build_ledger(settings)
        try:
            adapter = TypeAdapter(EventBatchIn)
            members = [f"bench-{i}" for i in range(patients)]
            for member in members:
                ledger.record_batch(
                    adapter.validate_python({"events": history(member)}).to_commands()
                )
            config = config_from(
                CrdVersion.STU2, [], "nia", "Bench Health", True, {}, MEMBER_SYSTEM
            )
            caller = Caller(hook="order-sign", service_id="injtrack-crd-order-sign", client=None)
            today = datetime(2025, 2, 10, tzinfo=UTC).date()
            bodies = [json.dumps(call(members[i % patients])) for i in range(runs + warmup)]
            out: list[float] = []
            for i, raw in enumerate(bodies):
                start = timer()
                request = CdsRequest.model_validate_json(raw)
                context = OrderSignContext.model_validate(request.context)
                response = answer(request, context, caller, ledger, config, today, decision_json)
                json.dumps(response.as_json())
                elapsed = (timer() - start) * 1000
                if i >= warmup:
                    out.append(elapsed)
            assert len(response.systemActions or []) == 5
            return out
        finally:
            ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--patients", type=int, default=100)
    args = parser.parse_args()
    times = cds_hooks_latencies_ms(args.runs, args.patients)
    cpu = cds_hooks_latencies_ms(args.runs, args.patients, timer=time.process_time)
    print(
        f"order-sign, 5 orders, {args.patients} members of 50 prior events, SQLite, "
        f"{len(times)} calls: "
        f"median {statistics.median(times):.2f} ms, p95 {percentile(times, 0.95):.2f} ms, "
        f"p99 {percentile(times, 0.99):.2f} ms; CPU per call median "
        f"{statistics.median(cpu):.2f} ms, p99 {percentile(cpu, 0.99):.2f} ms; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
