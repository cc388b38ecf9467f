"""Fixtures of the data-in tests: a generated population written to a file, and a way to
import a file through the same use cases as the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pytest

from adapters.eventstore import InjectionLedger
from api.lines import parse_line
from api.schemas.eligibility import decision_json
from application.bulk_import import Importer, ImportSummary, Rejection, TrackerTarget
from application.population import PopulationConfig, Truth, generate
from application.usecases import Tracker
from domain.events import EVENT_TYPES
from tests.support import FakeClock

# The test clock's "now" is 2025-03-10: generated histories end before it.
END = date(2025, 3, 1)


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def population_file(path: Path, patients: int, seed: int = 11, **knobs: Any) -> tuple[Path, Truth]:
    truth = Truth()
    config = PopulationConfig(patients, seed, end=END, **knobs)
    return write_lines(path, generate(config, truth)), truth


class Run(Protocol):
    def __call__(
        self, path: Path, ledger: InjectionLedger | None = None, batch_size: int = 1000
    ) -> tuple[ImportSummary, list[Rejection]]: ...


@pytest.fixture
def run_import(ledger: InjectionLedger, clock: FakeClock) -> Run:
    """``run_import(path, ledger=None, batch_size=1000)``: import a JSONL file (into
    ``ledger`` by default); returns the summary and the rejections."""

    def run(
        path: Path, target: InjectionLedger | None = None, batch_size: int = 1000
    ) -> tuple[ImportSummary, list[Rejection]]:
        rejected: list[Rejection] = []
        tracker = Tracker(target or ledger, clock)
        importer = Importer(
            TrackerTarget(tracker, decision_json),
            parse_line,
            batch_size=batch_size,
            on_reject=rejected.append,
        )
        return importer.run(path), rejected

    return run


def clinical_fields(event: Any) -> dict[str, Any]:
    """An event's fields without the recording bookkeeping (stream, version, instant)."""
    bookkeeping = ("originator_id", "originator_version", "timestamp", "fingerprint")
    return {k: v for k, v in vars(event).items() if k not in bookkeeping}


def stored_state(ledger: InjectionLedger, patients: Iterable[str]) -> dict[str, Any]:
    """Every stored region event of the patients by event id, without recording bookkeeping,
    so two stores filled in different orders compare equal."""
    state: dict[str, Any] = {}
    for patient in patients:
        for recorded in ledger.patient_events(patient):
            event = recorded.event
            fields = clinical_fields(event)
            if EVENT_TYPES[type(event)] == "authorization_decided":
                fields.pop("response", None)
            state[f"{patient}/{fields['event_id']}"] = (
                recorded.region,
                json.dumps(fields, default=str, sort_keys=True),
            )
    return state


def patients_of(path: Path) -> list[str]:
    return sorted({json.loads(line)["patient_id"] for line in path.read_text().splitlines()})


Decider = Callable[[InjectionLedger], list[str]]
