"""``injtrack projections rebuild | status | run`` on a SQLite store and view."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.app import build_ledger
from api.cli import main
from api.settings import Settings
from tests.builders import parse, procedure, void
from tests.support import FakeClock


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INJTRACK_DATABASE_URL", "INJTRACK_PERSISTENCE", "INJTRACK_POSTGRES_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INJTRACK_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("INJTRACK_VIEW_DB", str(tmp_path / "view.sqlite"))
    return Settings()


def record(settings: Settings, *events: dict[str, object]) -> None:
    ledger = build_ledger(settings, FakeClock())
    try:
        ledger.record_batch(parse(*events))
    finally:
        ledger.close()


def test_status_shows_the_lag_and_run_catches_up(
    store: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    record(store, procedure("a", on="2025-01-10"), procedure("b", on="2025-02-10"))
    assert main(["projections", "status"]) == 0
    out = capsys.readouterr().out
    assert "read model position:             0" in out
    assert "behind by" in out
    assert main(["projections", "run", "--quiet"]) == 0
    assert main(["projections", "status"]) == 0
    out = capsys.readouterr().out
    assert "lag:                             0 (up to date)" in out
    assert "procedure rows:                  2" in out


def test_rebuild_starts_from_scratch_and_sees_every_event(
    store: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    record(store, procedure("a", on="2025-01-10"), procedure("b", on="2025-02-10"))
    assert main(["projections", "run", "--quiet"]) == 0
    record(store, void("v", of="a"))
    assert main(["projections", "rebuild"]) == 0
    captured = capsys.readouterr()
    assert "rebuilt the read model" in captured.out
    assert "procedure rows:                  1" in captured.out
    assert "read model" in captured.err  # the progress bar
