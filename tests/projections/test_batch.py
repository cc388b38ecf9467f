"""Batch use cases over the whole population (a rebuild, a compliance report) run with
Python's cyclic garbage collector paused, and leave it as they found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from adapters.eventstore import InjectionLedger
from adapters.readmodel import catch_up
from adapters.report_source import ReadModelReportSource
from application.compliance import Period, compliance_report
from application.usecases import collector_paused, rebuild_view
from policies import registry
from tests.conftest import SettingsFactory
from tests.projections.conftest import OpenReadModel, populate
from tests.support import on_backends


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_paused_inside_a_batch_and_on_again_after_it(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_batch_that_fails_still_turns_the_collector_on_again(collector_on: None) -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_batch_inside_another_leaves_the_collector_paused_for_the_outer_one(
    collector_on: None,
) -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


@on_backends("sqlite")
def test_a_rebuild_runs_with_the_collector_paused_then_turns_it_on_again(
    ledger: InjectionLedger,
    make_settings: SettingsFactory,
    open_read_model: OpenReadModel,
    collector_on: None,
) -> None:
    populate(ledger, patients=2, size=4)
    view = open_read_model(make_settings())
    seen: list[bool] = []
    rebuild_view(ledger, view, page_size=3, on_page=lambda _: seen.append(gc.isenabled()))
    assert seen and not any(seen)
    assert gc.isenabled()


@on_backends("sqlite")
def test_a_compliance_report_runs_with_the_collector_paused_then_turns_it_on_again(
    ledger: InjectionLedger,
    make_settings: SettingsFactory,
    open_read_model: OpenReadModel,
    collector_on: None,
) -> None:
    populate(ledger, patients=3, size=6)
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    seen: list[bool] = []

    class Watched(ReadModelReportSource):
        def procedure_refs(self, start: date, end: date) -> Any:
            seen.append(gc.isenabled())
            return super().procedure_refs(start, end)

    report = compliance_report(
        Watched(view, ledger.mapper),
        registry.get("nia"),
        Period(date(2021, 1, 1), date(2025, 3, 10)),
    )
    assert seen == [False]
    assert report.summary  # a whole report was made
    assert gc.isenabled()
