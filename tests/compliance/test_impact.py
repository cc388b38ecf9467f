"""Policy impact: the recorded procedures a candidate set (here an amended copy of nia that
lengthens the initial-phase esi interval from 14 to 21 days) decides differently, with both
decisions, the rules that differ and the counts."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from policies import registry
from projections.calendar import days
from tests.builders import outcome, parse, procedure
from tests.support import amended_set

ESI: dict[str, Any] = {"codes": ("64483",), "laterality": "left", "levels": ["L4-L5"]}


@pytest.fixture
def amended(monkeypatch: pytest.MonkeyPatch) -> str:
    """``nia-amended``: nia with the initial-phase esi interval at 21 days."""
    amended = amended_set(
        registry.get("nia"), "nia.esi.initial_interval", "nia-amended", span=days(21)
    )
    sets = {**registry.sets(), "nia-amended": amended}
    monkeypatch.setattr(registry, "_sets", MappingProxyType(sets))
    return "nia-amended"


def history(ledger: InjectionLedger) -> None:
    ledger.record_batch(
        parse(
            procedure("a1", on="2025-01-06", **ESI),
            outcome("o1", of="a1", on="2025-01-15"),
            procedure("a2", on="2025-01-22", **ESI),  # 16 days: allowed now, not at 21
            procedure("b1", on="2025-01-06", patient_id="p-2", **ESI),
            outcome("o2", of="b1", on="2025-01-15", patient_id="p-2"),
            procedure("b2", on="2025-02-03", patient_id="p-2", **ESI),  # 28 days: both allow
        )
    )


def test_the_procedures_an_amended_set_decides_differently_are_listed_with_both_decisions(
    client: TestClient, ledger: InjectionLedger, amended: str
) -> None:
    history(ledger)
    response = client.get(
        "/v1/reports/impact",
        params={"policy_set": "nia", "against": amended, "from": "2025-01-01", "to": "2025-02-28"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    [item] = body["items"]
    assert (item["event_id"], item["patient_id"]) == ("a2", "p-001")
    assert item["rules"] == ["nia.esi.initial_interval"]
    assert item["reasons"]["nia.esi.initial_interval"] == "pass"
    assert item["against_reasons"]["nia.esi.initial_interval"] == "fail"
    assert item["against"] == "not_eligible"
    assert item["decision"] != "not_eligible"
    s = body["summary"]
    assert s["procedures"] == 4
    assert s["differing"] == 1
    assert s["by_rule"] == {"nia.esi.initial_interval": 1}
    assert s["by_family"] == {"esi": {f"{item['decision']} -> not_eligible": 1}}


def test_the_same_set_on_both_sides_differs_nowhere(
    client: TestClient, ledger: InjectionLedger
) -> None:
    history(ledger)
    body = client.get(
        "/v1/reports/impact",
        params={"policy_set": "nia", "against": "nia", "from": "2025-01-01", "to": "2025-02-28"},
    ).json()
    assert body["items"] == []
    assert body["summary"]["differing"] == 0


@pytest.mark.parametrize("form", ["csv", "html"])
def test_injtrack_report_impact_writes_csv_and_a_self_contained_html_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amended: str, form: str
) -> None:
    from api.app import build_ledger
    from api.cli import main
    from api.settings import Settings
    from tests.support import FakeClock

    for name in ("INJTRACK_DATABASE_URL", "INJTRACK_PERSISTENCE", "INJTRACK_POSTGRES_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INJTRACK_DB", str(tmp_path / "store.sqlite"))
    ledger = build_ledger(Settings(), FakeClock())
    try:
        history(ledger)
    finally:
        ledger.close()
    out = tmp_path / f"impact.{form}"
    args = ["report", "impact", "--policy-set", "nia", "--against", amended]
    args += ["--from", "2025-01-01", "--to", "2025-02-28", "--format", form, "--out", str(out)]
    assert main(args) == 0
    if form == "html":
        page = out.read_text()
        assert page.count("<svg") == 2
        assert 'id="chart-impact-rules"' in page and 'id="chart-impact-families"' in page
        assert "<td>a2</td>" in page and "nia.esi.initial_interval</b>: pass → fail" in page
        assert "http://" not in page.replace("http://www.w3.org/", "")
        assert "https://" not in page
        return
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["event_id"], r["against"], r["rules"]) for r in rows] == [
        ("a2", "not_eligible", "nia.esi.initial_interval")
    ]
