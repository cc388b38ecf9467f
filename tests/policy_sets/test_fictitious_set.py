"""A policy set built only from existing rule kinds is added as data, without touching
engine code, and answers: through the engine, through ``injtrack policies check`` and over
HTTP (sets registered before the app is asked are served by it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from api.cli import main
from policies import registry
from policies.citations import Citation
from policies.engine import (
    Guideline,
    GuidelineVersion,
    PolicySet,
    Proposed,
    Ref,
    Rule,
    When,
    decide,
)
from policies.kinds import FactTest
from projections.calendar import days, months
from projections.state import fold
from tests.builders import outcome, procedure
from tests.policy_sets.conftest import Desk

ACME_FILE = "acme_spine_policy.txt"
ACME_TEXT = """Acme Health Spine Policy 7, version 2 (2025-06-01)
Epidural steroid injections are allowed no sooner than 30 days apart (45 days before
2025-06-01). No more than 2 injections in 12 months.
A repeat injection needs at least 40% pain relief from the previous injection.
The provider documents that conservative care failed.
"""


def _cite(quote: str) -> Citation:
    return Citation(quote, ACME_FILE, "Acme Spine Policy 7 — Epidural Steroid Injections")


ACME_ESI = Guideline(
    id="ACME_SPINE_7",
    title="Acme Health Spine Policy 7",
    source=ACME_FILE,
    families=frozenset({"esi"}),
    regions=frozenset({"lumbar"}),
    versions=(
        GuidelineVersion("1", None, {"gap": days(45)}, "45 days apart"),
        GuidelineVersion("2", date(2025, 6, 1), {"gap": days(30)}, "30 days apart"),
    ),
    rules=(
        Rule(
            "acme.esi.interval",
            "min_interval",
            "At least 30 days apart (45 before June 2025).",
            {"span": Ref("gap")},
            time_rule=True,
            citation_override=_cite(
                "Epidural steroid injections are allowed no sooner than 30 days apart"
            ),
        ),
        Rule(
            "acme.esi.cap",
            "rolling_cap",
            "At most 2 in a rolling 12 months.",
            {"length": months(12), "limit": 2},
            time_rule=True,
            citation_override=_cite("No more than 2 injections in 12 months."),
        ),
        Rule(
            "acme.esi.response",
            "previous_relief",
            "40% relief from the previous one.",
            {"threshold": 40},
            when=When(has_previous=True),
            citation_override=_cite(
                "A repeat injection needs at least 40% pain relief from the previous injection."
            ),
        ),
        Rule(
            "acme.esi.conservative_care",
            "facts",
            "Conservative care failed.",
            {
                "tests": (
                    FactTest("active_conservative_therapy", "==", True, "failed conservative care"),
                )
            },
            citation_override=_cite("The provider documents that conservative care failed."),
        ),
    ),
)
ACME = PolicySet("acme", "Acme Health (fictitious) spine policy", (ACME_ESI,))


@pytest.fixture
def acme() -> Iterator[PolicySet]:
    registry.register(ACME)
    try:
        yield ACME
    finally:
        registry.SETS.pop(ACME.name, None)


@pytest.fixture
def acme_seeds(tmp_path: Path) -> Path:
    (tmp_path / ACME_FILE).write_text(ACME_TEXT, encoding="utf-8")
    return tmp_path


def _proposed(on: date) -> Proposed:
    return Proposed(
        date_of_service=on,
        region="lumbar",
        family="esi",
        codes=(("64483", 1),),
        levels=("L4-L5",),
        agent="steroid",
    )


def test_a_data_only_set_is_sound_and_its_quotes_are_in_its_document(
    acme: PolicySet,
    acme_seeds: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert registry.check_set(acme) == []
    assert registry.check_sources(acme, acme_seeds) == []
    assert main(["policies", "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_a_data_only_set_decides_through_the_engine(acme: PolicySet) -> None:
    from adapters.eventstore import InjectionLedger
    from api.settings import Settings
    from domain.events import RecordedEvent
    from tests.builders import parse

    ledger = InjectionLedger(
        env=Settings(persistence="memory").library_env(),
        clock=lambda: datetime(2027, 1, 4, tzinfo=UTC),
    )
    try:
        ledger.record_batch(
            parse(
                procedure("esi-1", on="2025-07-01", codes=["64483"], levels=["L4-L5"]),
                outcome("o-1", of="esi-1", on="2025-07-10", relief=40),
            )
        )
        events: list[RecordedEvent] = ledger.patient_events("p-001", None)
    finally:
        ledger.close()
    state = fold(events, None, "p-001")
    clinical = {"active_conservative_therapy": True}

    early = decide(registry.get("acme"), state, _proposed(date(2025, 7, 30)), clinical)
    assert early.decision == "not_eligible"
    assert early.next_eligible_date == date(2025, 7, 31)
    assert [r.rule for r in early.reasons if r.status.value == "fail"] == ["acme.esi.interval"]

    on_time = decide(registry.get("acme"), state, _proposed(date(2025, 7, 31)), clinical)
    assert on_time.decision == "eligible"
    assert on_time.as_json()["policy"]["guideline"] == "ACME_SPINE_7"
    assert on_time.as_json()["policy"]["version"] == "2"


def test_a_data_only_set_answers_over_http(acme: PolicySet, desk: Desk) -> None:
    desk.record(
        procedure("esi-1", on="2025-03-03", codes=["64483"], levels=["L4-L5"]),
        outcome("o-1", of="esi-1", on="2025-03-10", relief=39),
    )
    # Before June 2025 version 1 (45 days apart) is in force: 03-03 + 45 days = 04-17.
    answer = desk.ask(
        "acme",
        "2025-04-16",
        ["64483"],
        levels=["L4-L5"],
        clinical={"active_conservative_therapy": True},
    )
    assert answer.rules("fail") == {"acme.esi.interval", "acme.esi.response"}
    assert answer.next_eligible_date is None  # the 39% response is not cured by waiting
    assert answer.policy == {
        **answer.policy,
        "set": "acme",
        "guideline": "ACME_SPINE_7",
        "version": "1",
        "source": ACME_FILE,
    }
    assert answer.reason("acme.esi.response")["citation"].startswith("A repeat injection")

    desk.record(outcome("o-2", of="esi-1", on="2025-04-01", relief=60))
    answer = desk.ask(
        "acme",
        "2025-04-16",
        ["64483"],
        levels=["L4-L5"],
        clinical={"active_conservative_therapy": True},
    )
    assert answer.decision == "not_eligible"
    assert answer.next_eligible_date == "2025-04-17"

    cervical = desk.ask("acme", "2025-04-16", ["62321"], region="cervical")
    cervical.assert_no_guideline("acme", "62321")

    listed = {s["name"] for s in desk.client.get("/v1/policies").json()["sets"]}
    assert "acme" in listed
