"""Fixtures of the read-model tests: a populated event store and views over it.

``open_read_model(settings)`` opens the read model for the backend's settings (SQLite file or
PostgreSQL tables) and closes it at teardown. ``populate(ledger, patients)`` records a varied,
deterministic history for each patient through the ledger (procedures in two regions,
unilateral pairs, outcomes, a surgery, voids), as clients would send it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from adapters.eventstore import InjectionLedger
from adapters.readmodel import OpenedView, ReadModel, open_view
from api.projections_cmd import view_env
from api.settings import Settings
from domain.events import RecordedEvent
from projections.rows import patient_rows
from projections.state import fold
from tests.builders import outcome, parse, procedure, surgery, void

OpenReadModel = Callable[[Settings], ReadModel]


@pytest.fixture
def open_read_model() -> Iterator[OpenReadModel]:
    opened: list[OpenedView] = []

    def make(settings: Settings) -> ReadModel:
        view = open_view(view_env(settings))
        opened.append(view)
        return view.view

    yield make
    for view in reversed(opened):
        view.close()


CODES = {
    ("lumbar", "esi"): "64483",
    ("lumbar", "facet"): "64493",
    ("cervical", "esi"): "64479",
    ("cervical", "facet"): "64490",
}
LEVELS = {"lumbar": ["L4-L5"], "cervical": ["C5-C6"]}


def patient_history(patient_id: str, seed: int, size: int = 12) -> list[list[dict[str, Any]]]:
    """Batches of client events for one patient, in the order to record them."""
    rng = random.Random(seed)
    batches: list[list[dict[str, Any]]] = []
    procedures: list[tuple[str, date]] = []
    voidable: list[str] = []
    start = date(2021, 1, 1)
    for i in range(size):
        roll = rng.random()
        event_id = f"{patient_id}-e{i}"
        if roll < 0.55 or not procedures:
            region = rng.choice(["lumbar", "cervical"])
            family = rng.choice(["esi", "facet"])
            on = start + timedelta(days=rng.randrange(0, 4 * 365))
            side = rng.choice(["left", "right", "bilateral", None])
            batches.append(
                [
                    procedure(
                        event_id,
                        on=on,
                        region=region,
                        codes=[CODES[(region, family)]],
                        patient_id=patient_id,
                        laterality=side,
                        levels=LEVELS[region],
                    )
                ]
            )
            procedures.append((event_id, on))
        elif roll < 0.8:
            of, dos = rng.choice(procedures)
            on = min(dos + timedelta(days=rng.randrange(0, 200)), date(2025, 3, 10))
            batches.append(
                [
                    outcome(
                        event_id,
                        of=of,
                        on=on,
                        relief=rng.choice([10, 40, 60, 90]),
                        patient_id=patient_id,
                    )
                ]
            )
        elif roll < 0.88:
            on = start + timedelta(days=rng.randrange(0, 4 * 365))
            batches.append(
                [
                    surgery(
                        event_id,
                        on=on,
                        region=rng.choice(["lumbar", "cervical"]),
                        patient_id=patient_id,
                    )
                ]
            )
        elif voidable:
            target = voidable.pop(rng.randrange(len(voidable)))
            batches.append([void(event_id, of=target, patient_id=patient_id)])
            continue
        else:
            continue
        voidable.append(event_id)
    return batches


def populate(ledger: InjectionLedger, patients: int, size: int = 12, seed: int = 7) -> list[str]:
    """Record every patient's history, interleaving patients batch by batch."""
    ids = [f"pt-{n:03d}" for n in range(patients)]
    histories = [patient_history(pid, seed * 1000 + n, size) for n, pid in enumerate(ids)]
    for round_ in range(max(len(h) for h in histories)):
        for history in histories:
            if round_ < len(history):
                ledger.record_batch(parse(*history[round_]))
    return ids


def folded_rows(events: list[RecordedEvent], patient_id: str) -> list[dict[str, Any]]:
    """What the read model must hold for a patient: the fold's rows."""
    rows, _ = patient_rows(fold(events, patient_id=patient_id))
    return sort_rows([r.as_record() for r in rows])


def sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        rows,
        key=lambda r: (
            r["patient_id"],
            r["region"],
            r["family"],
            r["date_of_service"],
            r["event_id"],
        ),
    )
