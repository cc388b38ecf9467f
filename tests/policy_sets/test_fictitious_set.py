"""A policy set built only from existing rule kinds is added as data, without touching
engine code, and answers: through the engine, through ``injtrack policies check`` and over
HTTP (sets registered before the app is asked are served by it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from api.cli import main
from api.schemas.eligibility import decision_json
from policies import registry
from policies.engine import PolicySet, Proposed, decide
from policies.sources import check_sources
from projections.state import fold
from tests.builders import outcome, procedure
from tests.policy_docs import serving, write_set
from tests.policy_sets.conftest import Desk

ACME_FILE = "acme_spine_policy.txt"
ACME_TEXT = """Acme Health Spine Policy 7, version 2 (2025-06-01)
Epidural steroid injections are allowed no sooner than 30 days apart (45 days before
2025-06-01). No more than 2 injections in 12 months.
A repeat injection needs at least 40% pain relief from the previous injection.
The provider documents that conservative care failed.
"""


_SECTION = "Acme Spine Policy 7 — Epidural Steroid Injections"
ACME_SET = """
    id: acme
    title: Acme Health (fictitious) spine policy
    guidelines: [ACME_SPINE_7.yaml]
"""
ACME_ESI = f"""
    id: ACME_SPINE_7
    title: Acme Health Spine Policy 7
    source:
      file: {ACME_FILE}
      publisher: Acme Health
      document_version: version 2 (2025-06-01)
      section_naming: Acme Spine Policy 7 — <heading>
    governs:
      families: [esi]
      regions: [lumbar]
    versions:
      - id: "1"
        note: 45 days apart
        parameters: {{gap: P45D}}
      - id: "2"
        effective: 2025-06-01
        note: 30 days apart
        parameters: {{gap: P30D}}
    rules:
      - id: acme.esi.interval
        kind: min_interval
        description: At least 30 days apart (45 before June 2025).
        params: {{span: {{ref: gap}}}}
        time_rule: true
        citation:
          quote: Epidural steroid injections are allowed no sooner than 30 days apart
          section: {_SECTION}
      - id: acme.esi.cap
        kind: rolling_cap
        description: At most 2 in a rolling 12 months.
        params: {{length: P12M, limit: 2}}
        time_rule: true
        citation:
          quote: No more than 2 injections in 12 months.
          section: {_SECTION}
      - id: acme.esi.response
        kind: previous_relief
        description: 40% relief from the previous one.
        params: {{threshold: 40}}
        when: {{has_previous: true}}
        citation:
          quote: A repeat injection needs at least 40% pain relief from the previous injection.
          section: {_SECTION}
      - id: acme.esi.conservative_care
        kind: facts
        description: Conservative care failed.
        params:
          tests:
            - {{fact: active_conservative_therapy, op: "==", value: true, label: failed conservative care}}
        citation:
          quote: The provider documents that conservative care failed.
          section: {_SECTION}
"""


@pytest.fixture
def acme_folder(tmp_path: Path) -> Path:
    root = tmp_path / "payer"
    write_set(root, "acme", {"set.yaml": ACME_SET, "ACME_SPINE_7.yaml": ACME_ESI})
    return root


@pytest.fixture
def acme(acme_folder: Path) -> Iterator[PolicySet]:
    with serving(acme_folder):
        yield registry.get("acme")


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
    assert check_sources([acme], acme_seeds) == []
    assert main(["policies", "check", str(acme_seeds / "payer")]) == 0
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
    assert decision_json(on_time)["policy"]["guideline"] == "ACME_SPINE_7"
    assert decision_json(on_time)["policy"]["version"] == "2"


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
