"""A rebuild of the read model, on SQLite and on PostgreSQL: the same rows whatever the order
of the patients in the log, however many worker processes fold them and however the work is
cut into transactions; every region event is read back once (linear in the log); an event
that cannot be projected is named, and the live view kept, also when a worker meets it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import adapters.readmodel as readmodel
from adapters.eventstore import InjectionLedger
from adapters.readmodel import REGION_TOPICS, ProjectionError, ReadModel, catch_up
from api.cli import main
from api.settings import Settings
from application.usecases import rebuild_view
from tests.builders import parse
from tests.conftest import Backend, LedgerFactory, SettingsFactory, postgres_url
from tests.projections.conftest import OpenReadModel, folded_rows, patient_history, sort_rows
from tests.projections.test_robustness import store_unprojectable_procedure
from tests.support import on_backends

durable = on_backends("sqlite", "postgres")


@pytest.fixture
def other_store(
    backend: Backend, make_settings: SettingsFactory, tmp_path: Path
) -> Iterator[Settings]:
    """The settings of a second, empty store (and view) on the current backend."""
    if backend.name != "postgres":
        yield make_settings(db=tmp_path / "other.sqlite", view_db=tmp_path / "other.view.sqlite")
        return
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_settings(postgres_schema=schema)
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


PATIENTS = [f"pt-{n:03d}" for n in range(7)]


def histories(size: int = 10) -> list[list[list[dict[str, Any]]]]:
    return [patient_history(pid, 7000 + n, size) for n, pid in enumerate(PATIENTS)]


def record_interleaved(ledger: InjectionLedger) -> None:
    """Each round, one batch of every patient: their events interleave through the log."""
    all_ = histories()
    for round_ in range(max(len(h) for h in all_)):
        for history in all_:
            if round_ < len(history):
                ledger.record_batch(parse(*history[round_]))


def record_patient_by_patient(ledger: InjectionLedger) -> None:
    for history in histories():
        for batch in history:
            ledger.record_batch(parse(*batch))


def region_events(ledger: InjectionLedger) -> int:
    """The log's region events other than the streams' Created events."""
    total = ledger.recorder.max_notification_id() or 0
    every = ledger.recorder.select_notifications(1, total + 1, topics=REGION_TOPICS)
    return sum(1 for n in every if n.topic != readmodel.CREATED_TOPIC)


def assert_view_is_the_fold(view: ReadModel, ledger: InjectionLedger) -> None:
    for pid in PATIENTS:
        assert sort_rows(view.procedure_rows(pid)) == folded_rows(ledger.patient_events(pid), pid)


@pytest.fixture
def small_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few notifications per copy transaction and two patients per fold chunk, so that
    every boundary of the rebuild is crossed many times."""
    monkeypatch.setattr(readmodel, "REBUILD_COMMIT_EVERY", 7)
    monkeypatch.setattr(readmodel, "REBUILD_CHUNK", 2)


@durable
def test_a_log_whose_patients_interleave_rebuilds_to_the_rows_of_the_same_log_in_patient_order(
    ledger: InjectionLedger,
    make_ledger: LedgerFactory,
    other_store: Settings,
    make_settings: SettingsFactory,
    open_read_model: OpenReadModel,
    small_transactions: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_interleaved(ledger)
    in_patient_order = make_ledger(other_store)
    record_patient_by_patient(in_patient_order)
    read_back: list[int] = []
    real = ReadModel._raw_events

    def counting(self: ReadModel, c: Any, d: Any, patient_ids: Any) -> Any:
        rows = real(self, c, d, patient_ids)
        read_back.append(len(rows))
        return rows

    monkeypatch.setattr(ReadModel, "_raw_events", counting)
    interleaved_view = open_read_model(make_settings())
    patient_view = open_read_model(other_store)
    rebuild_view(ledger, interleaved_view, page_size=4)
    interleaved_reads = sum(read_back)
    read_back.clear()
    rebuild_view(in_patient_order, patient_view, page_size=4)

    # Every region event is read back once to be folded, whatever the order: linear.
    assert interleaved_reads == sum(read_back) == region_events(ledger)
    assert interleaved_view.procedure_rows() == patient_view.procedure_rows() != []
    assert interleaved_view.authorization_rows() == patient_view.authorization_rows()
    assert_view_is_the_fold(interleaved_view, ledger)
    for view, store in ((interleaved_view, ledger), (patient_view, in_patient_order)):
        status = view.status(store.name, store.recorder)
        assert status.position == store.recorder.max_notification_id()


@pytest.fixture
def view_of_interleaved_log(
    ledger: InjectionLedger,
    make_settings: SettingsFactory,
    open_read_model: OpenReadModel,
    small_transactions: None,
) -> ReadModel:
    """An empty view of the ``ledger`` fixture, whose log interleaves its patients."""
    record_interleaved(ledger)
    return open_read_model(make_settings())


@durable
def test_worker_processes_fold_to_the_same_rows_as_one_process(
    ledger: InjectionLedger, view_of_interleaved_log: ReadModel
) -> None:
    view = view_of_interleaved_log
    rebuild_view(ledger, view, page_size=5)
    one_process = (view.procedure_rows(), view.authorization_rows())
    rebuild_view(ledger, view, page_size=5, workers=2)
    assert (view.procedure_rows(), view.authorization_rows()) == one_process
    assert_view_is_the_fold(view, ledger)
    assert view.max_tracking_id(ledger.name) == ledger.recorder.max_notification_id()


@durable
def test_an_event_a_worker_cannot_project_is_named_and_the_live_view_is_kept(
    ledger: InjectionLedger, view_of_interleaved_log: ReadModel
) -> None:
    view = view_of_interleaved_log
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    before = (view.procedure_rows(), view.max_tracking_id(ledger.name))
    bad = store_unprojectable_procedure(ledger)

    with pytest.raises(ProjectionError) as raised:
        rebuild_view(ledger, view, page_size=5, workers=2)
    assert raised.value.notification_id == bad
    assert raised.value.topic.endswith("ProcedurePerformed")
    assert (view.procedure_rows(), view.max_tracking_id(ledger.name)) == before


@durable
def test_a_rebuild_names_a_nul_character_instead_of_storing_it(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    from datetime import date

    bad = store_unprojectable_procedure(ledger, event_id="a\x00b", on=date(2025, 1, 10))
    view = open_read_model(make_settings())
    with pytest.raises(ProjectionError, match="NUL character") as raised:
        rebuild_view(ledger, view)
    assert raised.value.notification_id == bad
    assert view.count("procedures") == 0


def test_a_rebuild_with_no_worker_is_refused(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    view = open_read_model(make_settings())
    with pytest.raises(ValueError, match="workers"):
        rebuild_view(ledger, view, workers=0)


@pytest.mark.parametrize("bad", ["0", "-1", "two", "33"])
def test_the_cli_refuses_a_bad_number_of_workers(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["projections", "rebuild", "--workers", bad])
    assert exited.value.code == 2
    assert "--workers" in capsys.readouterr().err


@durable
def test_procedure_keys_stream_every_procedure_rows_caps_key_in_small_batches(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    record_patient_by_patient(ledger)
    view = open_read_model(make_settings())
    rebuild_view(ledger, view)
    expected = sorted(
        (r["patient_id"], r["region"], r["family"], r["date_of_service"])
        for r in view.procedure_rows()
    )
    assert expected
    assert sorted(view.procedure_keys(batch=3)) == expected
