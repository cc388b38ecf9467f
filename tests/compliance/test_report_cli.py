"""``injtrack report compliance`` writes the report as JSON, CSV (one row per finding) or
HTML, from the read model beside a SQLite store."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from api.app import build_ledger
from api.cli import main
from api.settings import Settings
from tests.builders import parse, procedure
from tests.support import FakeClock


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INJTRACK_DATABASE_URL", "INJTRACK_PERSISTENCE", "INJTRACK_POSTGRES_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INJTRACK_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("INJTRACK_VIEW_DB", str(tmp_path / "view.sqlite"))
    settings = Settings()
    ledger = build_ledger(settings, FakeClock())
    try:
        ledger.record_batch(
            parse(
                procedure("e1", on="2025-01-06", codes=("64483",), provider_id="npi-1"),
                procedure("e2", on="2025-01-18", codes=("64483",), provider_id="npi-1"),
            )
        )
    finally:
        ledger.close()
    return settings


ARGS = ["report", "compliance", "--policy-set", "nia", "--from", "2025-01-01", "--to", "2025-03-31"]


def test_json_holds_the_summary_and_every_finding(store: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main([*ARGS, "--format", "json", "--out", str(out)]) == 0
    body = json.loads(out.read_text())
    assert body["summary"]["by_kind"] == {
        "violation": 1,
        "unauthorized": 2,
        "approval_now_denied": 0,
    }
    assert {f["kind"] for f in body["findings"]} == {"violation", "unauthorized"}


def test_csv_has_one_row_per_finding_ready_for_a_spreadsheet(
    store: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "report.csv"
    assert main([*ARGS, "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == 3
    violation = next(r for r in rows if r["kind"] == "violation")
    assert violation["event_id"] == "e2"
    assert violation["rules"] == "nia.esi.initial_interval"
    assert violation["allowed_from"] == "2025-01-20"
    assert violation["provider_id"] == "npi-1"
    assert 'nia.esi.initial_interval: "' in violation["citations"]


def test_html_is_one_self_contained_file(store: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main([*ARGS, "--format", "html", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.count("<svg") == 3
    # Nothing is fetched: no script, stylesheet link, import or remote source.
    for external in ('src="http', 'href="http', "@import", "<script", "<link"):
        assert external not in text, external
    assert re.findall(r"url\((?!#)", text) == []  # only references within the page


def test_an_unknown_policy_set_exits_2(store: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "report",
                "compliance",
                "--policy-set",
                "nope",
                "--from",
                "2025-01-01",
                "--to",
                "2025-02-01",
            ]
        )
        == 2
    )
    assert "unknown policy set" in capsys.readouterr().err
