"""A decision reads the patient's history once, and only when the policy set can decide the
procedure: a date of service before a governing guideline's first version, or a
stimulator placement code without its device intent, is refused before any read."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.eventstore import InjectionLedger
from api.app import build_ledger
from api.schemas.eligibility import EligibilityIn
from application.usecases import Tracker
from domain.events import RecordedEvent
from policies.engine import IntentRequired, NoVersionInForce, PolicyLookupError
from tests.conftest import SettingsFactory
from tests.support import FakeClock, on_backends

pytestmark = on_backends("memory")


class CountingLedger(InjectionLedger):
    """The event store, counting reads of a patient's history."""

    reads = 0

    def patient_events(self, *args: Any, **kwargs: Any) -> list[RecordedEvent]:
        self.reads += 1
        return super().patient_events(*args, **kwargs)


def ask(**procedure: Any) -> Any:
    body = {
        "patient_id": "p-001",
        "policy_set": "nia",
        "procedure": {"date_of_service": "2025-03-01", "region": "lumbar"}
        | {"codes": [{"cpt": "64483"}]}
        | procedure,
    }
    return EligibilityIn.model_validate(body).to_query()


@pytest.fixture
def counted(make_settings: SettingsFactory, clock: FakeClock) -> tuple[Tracker, CountingLedger]:
    ledger = build_ledger(make_settings(), clock, kind=CountingLedger)
    assert isinstance(ledger, CountingLedger)
    return Tracker(ledger, clock), ledger


def test_a_decision_reads_the_patients_history_once(
    counted: tuple[Tracker, CountingLedger],
) -> None:
    tracker, ledger = counted
    # Decided (no clinical facts were given, so documentation is pending), not refused.
    assert tracker.decide(ask()).decision == "pending_documentation"
    assert ledger.reads == 1


@pytest.mark.parametrize(
    ("procedure", "refusal"),
    [
        ({"date_of_service": "1990-01-02"}, NoVersionInForce),
        ({"codes": [{"cpt": "63650"}], "region": "thoracic"}, IntentRequired),
    ],
    ids=["before the guideline's first version", "a placement code without its intent"],
)
def test_what_the_policy_set_cannot_decide_is_refused_before_any_read(
    counted: tuple[Tracker, CountingLedger],
    procedure: dict[str, Any],
    refusal: type[PolicyLookupError],
) -> None:
    tracker, ledger = counted
    with pytest.raises(refusal):
        tracker.decide(ask(**procedure))
    assert ledger.reads == 0
