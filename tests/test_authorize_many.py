"""Many authorization requests at once (the importer's waves, CDS Hooks' orders): every one
decided and recorded once, in transactions of at most AUTHORIZATIONS_PER_TRANSACTION."""

from __future__ import annotations

from typing import Any

import pytest

import application.usecases as usecases
from adapters.eventstore import InjectionLedger
from api.lines import parse_line
from api.schemas.eligibility import decision_json
from application.usecases import Tracker
from tests.support import FakeClock, on_backends


def requests(count: int) -> list[Any]:
    """``count`` lumbar esi requests of as many patients, each its first."""
    return [
        parse_line(
            {
                "type": "authorization_request",
                "authorization_id": f"A-{n}",
                "patient_id": f"p-{n:04d}",
                "policy_set": "nia",
                "procedure": {
                    "date_of_service": "2025-01-06",
                    "region": "lumbar",
                    "codes": [{"cpt": "64483"}],
                    "laterality": "left",
                    "levels": ["L4-L5"],
                },
                "clinical": {
                    "pain_score": 7,
                    "active_conservative_therapy": True,
                    "initial_criteria_met": True,
                },
            }
        )
        for n in range(count)
    ]


@on_backends("memory", "sqlite", "postgres")
def test_requests_spanning_several_transactions_are_each_recorded_once(
    ledger: InjectionLedger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usecases, "AUTHORIZATIONS_PER_TRANSACTION", 3)
    tracker = Tracker(ledger, clock)
    asked = requests(7)
    first = tracker.authorize_each(asked, decision_json)
    assert [fresh for _, fresh in first] == [True] * 7
    for command, (answer, _) in zip(asked, first, strict=True):
        stored = ledger.find_authorization(command.patient_id, command.authorization_id)
        assert stored is not None and stored.decision == answer["decision"]
    again = tracker.authorize_each(asked, decision_json)
    assert [fresh for _, fresh in again] == [False] * 7
    assert [a for a, _ in again] == [a for a, _ in first]


@on_backends("postgres")
@pytest.mark.slow
def test_a_thousand_requests_in_one_call_are_recorded_on_postgresql(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    """One transaction of 1,000 (2,000 events with each decision's whole answer) never
    completed through the library's pipelined inserts; chunks of 200 do."""
    asked = requests(1000)
    answered = Tracker(ledger, clock).authorize_each(asked, decision_json)
    assert all(fresh for _, fresh in answered)
    last = asked[-1]
    assert ledger.find_authorization(last.patient_id, last.authorization_id) is not None
