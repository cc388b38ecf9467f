"""The materialized population read model, on SQLite and on PostgreSQL.

It is a thin shell around the fold: for every patient its rows equal the fold's rows of the
patient's events; it is kept current from the notification log a page per transaction, with
its position tracked by the library in the same transaction.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.eventstore import InjectionLedger
from adapters.readmodel import catch_up
from domain.catalog import Region
from tests.builders import outcome, parse, procedure, void
from tests.conftest import LedgerFactory, SettingsFactory
from tests.projections.conftest import OpenReadModel, folded_rows, populate, sort_rows
from tests.support import on_backends

ROOT = Path(__file__).resolve().parents[2]
durable = on_backends("sqlite", "postgres")


def assert_view_equals_fold(view: object, ledger: InjectionLedger, patients: list[str]) -> None:
    for pid in patients:
        assert sort_rows(view.procedure_rows(pid)) == folded_rows(  # type: ignore[attr-defined]
            ledger.patient_events(pid), pid
        ), pid


@durable
def test_the_read_model_equals_the_fold_for_every_patient(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    patients = populate(ledger, patients=6)
    view = open_read_model(make_settings())
    processed = catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=7)
    assert processed == ledger.recorder.max_notification_id()
    assert_view_equals_fold(view, ledger, patients)
    status = view.status(ledger.name, ledger.recorder)
    assert status.lag == 0
    assert status.procedures == sum(len(view.procedure_rows(p)) for p in patients)
    assert status.patients == len({r["patient_id"] for r in view.procedure_rows()})


@durable
def test_each_page_commits_its_rows_and_its_position_together(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    ledger.record_batch(parse(procedure("a", on="2025-01-10")))
    first_end = ledger.recorder.max_notification_id()
    ledger.record_batch(parse(procedure("b", on="2025-02-10")))
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=first_end, max_pages=1)
    assert view.max_tracking_id(ledger.name) == first_end
    assert [r["event_id"] for r in view.procedure_rows()] == ["a"]
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=first_end)
    assert [(r["event_id"], r["position"], r["count_6m"]) for r in view.procedure_rows()] == [
        ("a", 1, 1),
        ("b", 2, 2),
    ]


@durable
def test_later_events_update_the_rows_of_the_patients_they_touch(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    ledger.record_batch(
        parse(
            procedure("a", on="2025-01-10"),
            procedure("b", on="2025-02-10"),
            procedure("x", on="2025-02-10", patient_id="other"),
        )
    )
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    ledger.record_batch(parse(void("v", of="a"), outcome("o", of="b", on="2025-02-24", relief=70)))
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    rows = view.procedure_rows("p-001")
    assert [(r["event_id"], r["position"], r["episode_start"]) for r in rows] == [
        ("b", 1, "2025-02-10")
    ]
    assert rows[0]["outcomes"] == [
        {
            "event_id": "o",
            "assessed_on": "2025-02-24",
            "pain_relief_percent": 70.0,
            "functional_improvement": False,
            "recorded_at": "2025-03-10T14:30:00+00:00",
        }
    ]
    assert [r["event_id"] for r in view.procedure_rows("other")] == ["x"]


@durable
def test_authorizations_are_rows_too(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    ledger.record_batch(parse(procedure("a", on="2025-01-10", authorization_id="auth-1")))
    ledger.record_authorization(
        "p-001",
        Region.LUMBAR,
        {
            "authorization_id": "auth-1",
            "policy_set": "nia",
            "date_of_service": date(2025, 1, 10),
            "codes": [],
            "family": "esi",
            "request": {},
        },
        {
            "authorization_id": "auth-1",
            "decision": "approved",
            "policy": {"name": "nia"},
            "reasons": [],
            "next_eligible_date": None,
            "response": {},
        },
    )
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    [auth] = view.authorization_rows("p-001")
    assert (auth["authorization_id"], auth["decision"], auth["policy"]) == (
        "auth-1",
        "approved",
        {"name": "nia"},
    )
    [row] = view.procedure_rows("p-001")
    assert [a["authorization_id"] for a in row["authorizations"]] == ["auth-1"]


@durable
def test_a_page_is_never_applied_twice(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    ledger.record_batch(parse(procedure("a", on="2025-01-10")))
    view = open_read_model(make_settings())
    page = ledger.recorder.select_notifications(1, 100)
    view.process_page(ledger.name, page, ledger.mapper)
    with pytest.raises(IntegrityError):
        view.process_page(ledger.name, page, ledger.mapper)
    assert [r["event_id"] for r in view.procedure_rows()] == ["a"]
    assert view.max_tracking_id(ledger.name) == page[-1].id


@durable
def test_a_rebuild_drops_the_view_and_gives_the_same_rows(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    patients = populate(ledger, patients=4)
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=5)
    before = view.procedure_rows()
    view.reset(ledger.name)
    assert view.procedure_rows() == []
    assert view.status(ledger.name, ledger.recorder).position == 0
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=50)
    assert view.procedure_rows() == before
    assert_view_equals_fold(view, ledger, patients)


CRASH_RUNNER = """
import os, sys
from api.app import build_ledger
from api.projections_cmd import view_env
from api.settings import Settings
from adapters.readmodel import catch_up, open_view

store, view_db, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
settings = Settings(db=store, view_db=view_db, persistence="sqlite")
ledger = build_ledger(settings)
view = open_view(view_env(settings)).view
calls = [0]
if mode == "inside":
    # Die inside the page's transaction: its rows are written but nothing is committed.
    real = view._insert_tracking
    def dying(c, tracking):
        calls[0] += 1
        if calls[0] > n:
            os._exit(137)
        real(c, tracking)
    view._insert_tracking = dying
def after_page(result):
    calls[0] += mode == "between"
    if mode == "between" and calls[0] >= n:
        os._exit(137)
catch_up(view, ledger.recorder, ledger.mapper, ledger.name, page_size=9, on_page=after_page)
"""


@pytest.mark.slow
@on_backends("sqlite")
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("between", id="killed between two pages"),
        pytest.param("inside", id="killed inside a page before its commit"),
    ],
)
def test_a_killed_projection_resumes_where_it_stopped_and_matches_a_clean_rebuild(
    mode: str,
    tmp_path: Path,
    make_ledger: LedgerFactory,
    open_read_model: OpenReadModel,
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(
        db=tmp_path / "crash-store.sqlite",
        persistence="sqlite",
        view_db=tmp_path / "crashed-view.sqlite",
        database_url=None,
    )
    ledger = make_ledger(settings)
    patients = populate(ledger, patients=8)
    total = ledger.recorder.max_notification_id()

    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASH_RUNNER,
            str(settings.db),
            str(settings.effective_view_db),
            mode,
            "3",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 137, done.stderr

    crashed = open_read_model(settings)
    position = crashed.max_tracking_id(ledger.name)
    assert position is not None and 0 < position < total  # it stopped mid-run
    catch_up(crashed, ledger.recorder, ledger.mapper, ledger.name, page_size=9)

    clean = open_read_model(settings.model_copy(update={"view_db": tmp_path / "clean.sqlite"}))
    catch_up(clean, ledger.recorder, ledger.mapper, ledger.name, page_size=1000)
    assert crashed.procedure_rows() == clean.procedure_rows()
    assert crashed.authorization_rows() == clean.authorization_rows()
    assert crashed.max_tracking_id(ledger.name) == clean.max_tracking_id(ledger.name) == total
    assert_view_equals_fold(crashed, ledger, patients)
