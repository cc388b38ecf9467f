"""The read model meets an event it cannot project, a rebuild, a busy store and bad options:
it stops before the event and names it, keeps what it had, rebuilds beside the live view and
swaps only on success, waits on a locked store, and refuses bad options."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

import adapters.readmodel as readmodel
import api.projections_cmd as projections_cmd
from adapters.eventstore import InjectionLedger
from adapters.readmodel import ProjectionError, catch_up
from api.cli import main
from api.settings import Settings
from application.usecases import rebuild_view
from domain.catalog import Region
from domain.events import BilledCode, PatientRegion
from tests.builders import parse, procedure
from tests.conftest import SettingsFactory
from tests.projections.conftest import OpenReadModel, folded_rows, populate, sort_rows
from tests.support import on_backends

durable = on_backends("sqlite", "postgres")


def store_unprojectable_procedure(
    ledger: InjectionLedger,
    patient_id: str = "p-bad",
    event_id: str = "bad",
    on: date = date(1, 1, 1),
) -> int:
    """A procedure (by default dated 0001-01-01) written straight through the library, as a
    store written before dates were range-checked may hold; returns its notification id."""
    now = datetime(2025, 3, 10, tzinfo=UTC)
    stream = PatientRegion.open(patient_id, Region.LUMBAR, now)
    stream.record(
        PatientRegion.ProcedurePerformed,
        now,
        event_id=event_id,
        fingerprint="0" * 64,
        date_of_service=on,
        codes=[BilledCode("64483")],
        family="esi",
        intent="therapeutic",
        laterality=None,
        levels=[],
        agent=None,
        indication=None,
        approach="transforaminal",
        device_type=None,
        authorization_id=None,
    )
    ledger.save(stream)
    return ledger.recorder.max_notification_id() or 0


def rows_and_position(view: Any, ledger: InjectionLedger) -> tuple[list[Any], int | None]:
    return sort_rows(view.procedure_rows()), view.max_tracking_id(ledger.name)


@durable
def test_an_event_the_view_cannot_project_stops_it_before_that_event_named_in_the_error(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    ledger.record_batch(parse(procedure("a", on="2025-01-10")))
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    before = rows_and_position(view, ledger)
    bad = store_unprojectable_procedure(ledger)
    ledger.record_batch(parse(procedure("b", on="2025-02-10", patient_id="p-002")))

    with pytest.raises(ProjectionError) as raised:
        catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=1)
    assert raised.value.notification_id == bad
    assert f"notification {bad} " in str(raised.value)
    rows, position = rows_and_position(view, ledger)
    assert rows == before[0]  # nothing lost
    assert position == bad - 1  # up to the event before it (its stream's Created), not past
    with pytest.raises(ProjectionError):  # and it stays stopped there
        catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    assert view.max_tracking_id(ledger.name) == bad - 1


@durable
def test_a_rebuild_that_meets_such_an_event_leaves_the_live_view_as_it_was(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    populate(ledger, patients=3, size=6)
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    before = rows_and_position(view, ledger)
    bad = store_unprojectable_procedure(ledger)

    with pytest.raises(ProjectionError) as raised:
        rebuild_view(ledger, view, page_size=4)
    assert raised.value.notification_id == bad
    assert rows_and_position(view, ledger) == before
    assert view.count("procedures") == len(before[0])


@durable
def test_the_live_view_stays_readable_and_unchanged_while_a_rebuild_runs_then_swaps(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    patients = populate(ledger, patients=4, size=8)
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name, max_pages=1, page_size=10)
    before = rows_and_position(view, ledger)
    seen_during: list[tuple[list[Any], int | None]] = []

    def read_live(_: object) -> None:
        seen_during.append(rows_and_position(view, ledger))

    rebuild_view(ledger, view, page_size=5, on_page=read_live)
    assert seen_during and all(seen == before for seen in seen_during)
    assert view.max_tracking_id(ledger.name) == ledger.recorder.max_notification_id()
    for pid in patients:
        assert sort_rows(view.procedure_rows(pid)) == folded_rows(ledger.patient_events(pid), pid)
    # A second rebuild finds no leftovers of the first (tables, indexes, keys).
    rebuild_view(ledger, view, page_size=50)
    assert view.max_tracking_id(ledger.name) == ledger.recorder.max_notification_id()


@durable
def test_a_rebuild_folds_each_patient_once_whatever_the_order_of_the_log(
    ledger: InjectionLedger,
    make_settings: SettingsFactory,
    open_read_model: OpenReadModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patients = populate(ledger, patients=5, size=10)  # interleaved batch by batch
    view = open_read_model(make_settings())
    folds: list[str] = []
    real = readmodel._rows_of

    def counting(patient_id: str, events: Any) -> Any:
        folds.append(patient_id)
        return real(patient_id, events)

    monkeypatch.setattr(readmodel, "_rows_of", counting)
    rebuild_view(ledger, view, page_size=3)
    assert sorted(folds) == sorted(set(folds)) == sorted(patients)


def test_rebuild_with_a_page_size_of_zero_is_refused_and_keeps_the_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = cli_store(tmp_path, monkeypatch)
    record(settings, procedure("a", on="2025-01-10"))
    assert main(["projections", "run", "--quiet"]) == 0
    capsys.readouterr()
    for bad in (["--page-size", "0"], ["--page-size", "-5"], ["--page-size", "many"]):
        with pytest.raises(SystemExit) as exited:
            main(["projections", "rebuild", *bad])
        assert exited.value.code != 0
        assert "--page-size" in capsys.readouterr().err
    for bad in (["--interval", "0"], ["--interval", "nan"], ["--page-size", "100001"]):
        with pytest.raises(SystemExit):
            main(["projections", "run", "--follow", *bad])
        assert "must be" in capsys.readouterr().err
    assert main(["projections", "status"]) == 0
    assert "procedure rows:                  1" in capsys.readouterr().out


def test_the_follower_waits_and_retries_when_the_store_is_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = cli_store(tmp_path, monkeypatch)
    record(settings, procedure("a", on="2025-01-10"))
    real = projections_cmd.run_catch_up
    calls: list[int] = []

    def locked_once_then_stop(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(projections_cmd, "run_catch_up", locked_once_then_stop)
    assert main(["projections", "run", "--follow", "--interval", "0.01", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "database is locked" in captured.err and "retrying" in captured.err
    assert "processed 4 notifications; position 4" in captured.out


def test_the_cli_names_the_event_it_cannot_project_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = cli_store(tmp_path, monkeypatch)
    record(settings, procedure("a", on="2025-01-10"))
    assert main(["projections", "run", "--quiet"]) == 0
    ledger = InjectionLedger(env=settings.library_env())
    try:
        bad = store_unprojectable_procedure(ledger)
    finally:
        ledger.close()
    capsys.readouterr()
    assert main(["projections", "rebuild", "--quiet"]) == 1
    assert f"notification {bad} " in capsys.readouterr().err
    assert main(["projections", "run", "--follow", "--quiet"]) == 1
    assert f"notification {bad} " in capsys.readouterr().err
    assert main(["projections", "status"]) == 0
    assert "procedure rows:                  1" in capsys.readouterr().out


def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INJTRACK_DATABASE_URL", "INJTRACK_PERSISTENCE", "INJTRACK_POSTGRES_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INJTRACK_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("INJTRACK_VIEW_DB", str(tmp_path / "view.sqlite"))
    return Settings()


def record(settings: Settings, *events: dict[str, object]) -> None:
    from api.app import build_ledger
    from tests.support import FakeClock

    ledger = build_ledger(settings, FakeClock())
    try:
        ledger.record_batch(parse(*events))
    finally:
        ledger.close()


@durable
def test_an_event_id_with_a_nul_character_is_named_not_a_database_crash(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    store_unprojectable_procedure(ledger, event_id="a\x00b", on=date(2025, 1, 10))
    view = open_read_model(make_settings())
    with pytest.raises(ProjectionError, match="NUL character"):
        catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    assert view.count("procedures") == 0
