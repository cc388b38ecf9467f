"""The HTML report opens in headless Chromium with its charts drawn: the screenshot holds
each chart's own colours in quantity (the bars were painted, not only the markup present)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from adapters.eventstore import InjectionLedger
from api.views import report_source
from application.compliance import Period, compliance_report
from application.impact import impact_report
from application.report_html import (
    CHANGE_COLORS,
    PALETTES,
    RULE_COLOR,
    render_html,
    render_impact_html,
)
from policies import registry
from projections.calendar import days
from tests.builders import parse, procedure
from tests.conftest import SettingsFactory
from tests.support import amended_set, on_backends

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOT_SIZE = (1280, 1500)


def _hex(color: str) -> tuple[int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def screenshot(html_file: Path, png: Path, profile: Path) -> None:
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={SHOT_SIZE[0]},{SHOT_SIZE[1]}",
            f"--screenshot={png}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )


def population(ledger: InjectionLedger) -> None:
    """Esi and facet histories over 2024 with interval violations in several months."""
    events = []
    for n in range(6):
        pid = f"p-{n}"
        month = 1 + n
        side = {"laterality": "left", "levels": ["L4-L5"], "patient_id": pid}
        events += [
            procedure(f"{pid}-e1", on=f"2024-{month:02d}-02", codes=("64483",), patient_id=pid),
            procedure(f"{pid}-e2", on=f"2024-{month:02d}-10", codes=("64483",), patient_id=pid),
            procedure(f"{pid}-f1", on=f"2024-{month + 3:02d}-03", codes=("64493",), **side),
            procedure(f"{pid}-f2", on=f"2024-{month + 3:02d}-20", codes=("64493",), **side),
        ]
    ledger.record_batch(parse(*events))


def need_chromium() -> None:
    if CHROMIUM is None:
        reason = "chromium is not installed (.ci/run installs it: apt-get install chromium)"
        if os.environ.get("INJTRACK_REQUIRE_CHROMIUM"):
            pytest.fail(reason)
        pytest.skip(reason)


def assert_charts_painted(html: str, palettes: dict[str, tuple[str, ...]], tmp_path: Path) -> None:
    """Open the page in headless Chromium: each chart's colours fill a good many pixels."""
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / "report.png"
    screenshot(page, png, tmp_path / "profile")
    image = Image.open(png).convert("RGB")
    assert image.size == SHOT_SIZE
    pixels = Counter({color: n for n, color in image.getcolors(maxcolors=1 << 24) or []})
    for chart, palette in palettes.items():
        painted = sum(pixels.get(_hex(c), 0) for c in palette)
        assert painted > 300, f"the {chart} chart painted only {painted} pixels of its colours"
    # Not a blank or single-colour page either: text and charts make many distinct colours.
    assert len(pixels) > 50


@on_backends("sqlite")
def test_the_html_report_renders_its_charts_in_headless_chromium(
    ledger: InjectionLedger, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    need_chromium()
    population(ledger)
    settings = make_settings()
    with report_source(settings, ledger) as source:
        report = compliance_report(
            source, registry.get("nia"), Period(date(2024, 1, 1), date(2024, 12, 31))
        )
    assert report.summary["by_kind"]["violation"] >= 3
    assert_charts_painted(render_html(report), PALETTES, tmp_path)


@on_backends("sqlite")
def test_the_policy_impact_html_renders_its_charts_in_headless_chromium(
    ledger: InjectionLedger, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """nia against an amended copy allowing a repeat esi after 5 days instead of 14: the
    second esi of each month changes decision, so both charts have bars."""
    need_chromium()
    population(ledger)
    nia = registry.get("nia")
    amended = amended_set(nia, "nia.esi.initial_interval", "nia-5-days", span=days(5))
    with report_source(make_settings(), ledger) as source:
        report = impact_report(source, nia, amended, Period(date(2024, 1, 1), date(2024, 12, 31)))
    assert report.summary["differing"] >= 3
    changes = len(report.summary["by_change"])
    palettes = {"rules": (RULE_COLOR,), "families": CHANGE_COLORS[:changes]}
    assert_charts_painted(render_impact_html(report), palettes, tmp_path)
