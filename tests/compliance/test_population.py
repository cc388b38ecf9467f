"""On a generated population (``application.population``) imported as the CLI imports it:

- the report's esi and facet cap and interval violations equal an independent count made
  here from the raw JSON lines with plain Python (episodes, positions, rolling windows and
  bilateral pairs written out again, not the projections or the engine);
- every unauthorized procedure the generator planted in the period is found, and nothing
  else;
- every recorded authorization replays to the decision stored.

The default population is small (CI); ``INJTRACK_POPULATION`` sets another size, e.g.
10000 for the issue's check (``slow``: minutes of generation and import).
"""

from __future__ import annotations

import calendar
import json
import os
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.eventstore import InjectionLedger
from api.schemas.eligibility import decision_json
from api.views import report_source
from application.audit import audit_patient
from application.compliance import Period, compliance_report
from policies import registry
from tests.conftest import SettingsFactory
from tests.datain.conftest import Run, patients_of, population_file
from tests.support import on_backends

PATIENTS = int(os.environ.get("INJTRACK_POPULATION", "120"))
PERIOD = Period(date(2023, 3, 1), date(2025, 2, 28))
ESI_CODES = {"62320", "62321", "62322", "62323", "64479", "64480", "64483", "64484"}
FACET_CODES = {"64490", "64491", "64492", "64493", "64494", "64495"}
CHECKED = {
    "nia.esi.initial_interval",
    "nia.esi.first_year_cap",
    "nia.esi.annual_cap",
    "nia.facet.diagnostic_interval",
    "nia.facet.annual_cap",
}


# ----------------------------------------------------------------- the independent count


def add_months(day: date, n: int) -> date:
    month = day.month - 1 + n
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def in_12_months(day: date, end: date) -> bool:
    return add_months(end, -12) < day <= end


def family(line: dict[str, Any]) -> str | None:
    if line.get("indication") == "intrathecal_trial":
        return None  # 62320-62327 for an intrathecal (pump) trial are not epidural injections
    code = line["codes"][0]["cpt"]
    return "esi" if code in ESI_CODES else "facet" if code in FACET_CODES else None


def pairs(procs: list[dict[str, Any]], window_days: int | None, months: int | None) -> dict:
    """Bilateral pairs in date order: a unilateral procedure pairs with the earliest still
    unpaired opposite-side one at the same levels dated within the window before it."""
    partner: dict[str, str] = {}
    unpaired: list[dict[str, Any]] = []
    for p in procs:
        if p["laterality"] not in ("left", "right") or not p["levels"]:
            continue
        for q in unpaired:
            end = add_months(q["dos"], months) if months else q["dos"] + timedelta(days=window_days)
            if (
                q["laterality"] != p["laterality"]
                and set(q["levels"]) == set(p["levels"])
                and q["dos"] <= p["dos"] < end
            ):
                partner[p["id"]], partner[q["id"]] = q["id"], p["id"]
                unpaired.remove(q)
                break
        else:
            unpaired.append(p)
    return partner


def facet_cap_total(procs: list[dict[str, Any]], p: dict[str, Any]) -> int:
    """The facet count in the 12 months ending on p's date, pairs once, p included."""
    d = p["dos"]
    months, days = (1, None) if d >= date(2022, 5, 1) else (None, 14)
    others = [q for q in procs if q["dos"] <= d and q["id"] != p["id"]]
    partner = pairs(others, days, months)
    prior = [q for q in others if q["dos"] < d and in_12_months(q["dos"], d)]
    ids = {q["id"] for q in prior}
    counted = len(prior) - sum(1 for q in prior if partner.get(q["id"]) in ids) // 2
    # Does p pair with a prior one still unpaired (pairs through d formed first)?
    mate = None
    for q in others:
        if q["id"] in partner or p["laterality"] not in ("left", "right") or not p["levels"]:
            continue
        end = add_months(q["dos"], months) if months else q["dos"] + timedelta(days=days)
        if (
            q["laterality"] not in (None, p["laterality"])
            and set(q["levels"]) == set(p["levels"])
            and q["dos"] <= d < end
        ):
            mate = q
            break
    adds = 0 if mate is not None and mate["dos"] < d and in_12_months(mate["dos"], d) else 1
    return counted + adds


def independent_violations(lines: list[dict[str, Any]]) -> set[tuple[str, str]]:
    voided = {x["voided_event_id"] for x in lines if x["type"] == "event_voided"}
    boundaries: dict[tuple[str, str], list[date]] = defaultdict(list)
    groups: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for x in lines:
        if x.get("event_id") in voided:
            continue
        if x["type"] in ("surgery_performed", "pathology_diagnosed"):
            boundaries[(x["patient_id"], x["region"])].append(date.fromisoformat(x["date"]))
        if x["type"] == "procedure_performed" and family(x):
            groups[(x["patient_id"], x["region"], family(x))][x["event_id"]] = {
                "id": x["event_id"],
                "dos": date.fromisoformat(x["date_of_service"]),
                "laterality": x.get("laterality"),
                "levels": x.get("levels") or [],
                "intent": x.get("intent", "therapeutic"),
                "agent": x.get("agent"),
            }
    found: set[tuple[str, str]] = set()
    for (patient, region, fam), by_id in groups.items():
        procs = sorted(by_id.values(), key=lambda p: (p["dos"], p["id"]))
        cuts = boundaries[(patient, region)]
        start, position, prev = None, 0, None
        for p in procs:
            d = p["dos"]
            prior = [q for q in procs if q["dos"] < d]
            prev = prior[-1] if prior else None
            new = (
                prev is None
                or d >= add_months(prev["dos"], 24)
                or any(prev["dos"] < c <= d for c in cuts)
            )
            # Episode and position are those of the procedures before it.
            if new:
                start, position = d, 1
                in_episode: list[dict[str, Any]] = []
            else:
                in_episode = [q for q in prior if q["dos"] >= start]
                position = len(in_episode) + 1
            p["start"], p["position"] = start, position
            if not PERIOD.holds(d):
                continue
            first_year = d < add_months(start, 12)
            if fam == "esi":
                if position in (2, 3) and d < prev["dos"] + timedelta(days=14):
                    found.add((p["id"], "nia.esi.initial_interval"))
                if (
                    first_year
                    and sum(1 for q in in_episode if q["dos"] < add_months(start, 12)) >= 6
                ):
                    found.add((p["id"], "nia.esi.first_year_cap"))
                if not first_year and sum(1 for q in prior if in_12_months(q["dos"], d)) + 1 > 4:
                    found.add((p["id"], "nia.esi.annual_cap"))
            else:
                if position == 2:
                    short = prev["intent"] == "diagnostic" and prev["agent"] == "local_anesthetic"
                    if d < prev["dos"] + timedelta(days=7 if short else 14):
                        found.add((p["id"], "nia.facet.diagnostic_interval"))
                if facet_cap_total(procs, p) > 4:
                    found.add((p["id"], "nia.facet.annual_cap"))
    return found


# ----------------------------------------------------------------- the test


@on_backends("sqlite")
@pytest.mark.slow
def test_a_generated_population_is_reported_as_counted_and_planted(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger, make_settings: SettingsFactory
) -> None:
    path, truth = population_file(tmp_path / "pop.jsonl", PATIENTS, seed=5, over_limit_share=0.4)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    # Nothing attests an exception that would lift a cap (the count below ignores them).
    assert not any(x.get("clinical", {}).get("special_circumstances") for x in lines)
    _, rejected = run_import(path)
    assert rejected == []
    nia = registry.get("nia")
    with report_source(make_settings(), ledger) as source:
        report = compliance_report(source, nia, PERIOD)

    reported = {
        (f.event_id, rule)
        for f in report.findings
        if f.kind == "violation"
        for rule in f.rules
        if rule in CHECKED
    }
    expected = independent_violations(lines)
    assert expected, "the population should hold esi or facet violations to compare"
    assert reported == expected

    governed = {fam for g in nia.guidelines for fam in g.families}
    planted = {
        u["event_id"]
        for u in truth.unauthorized
        if PERIOD.holds(date.fromisoformat(u["date_of_service"])) and u["family"] in governed
    }
    unauthorized = {f.event_id for f in report.findings if f.kind == "unauthorized"}
    assert planted
    assert unauthorized == planted

    audited = 0
    for patient in patients_of(path):
        body = audit_patient(ledger, patient, decision_json)
        assert body["summary"]["mismatches"] == 0, body["mismatches"]
        audited += body["summary"]["authorizations"]
    assert audited == len(truth.authorizations)
