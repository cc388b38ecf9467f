"""Clinical time is data, never the clock: the fold and the rules give the same answer
whatever the wall clock says. freezegun moves the wall clock (the eventsourcing library is
left out of it, as its timestamps break under freezegun); the decision must not move."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from freezegun import freeze_time

from tests.policies.conftest import History, decide


def _esi_history() -> History:
    history = History()
    history.procedure("e1", "2024-01-10").outcome("e1", "2024-01-20", relief=60)
    history.procedure("e2", "2024-02-01").outcome("e2", "2024-02-15", relief=20)
    return history


@pytest.mark.parametrize(
    "wall_clock",
    ["1999-12-31 23:59:59", "2024-02-02 08:00:00", "2031-06-30 12:00:00"],
    ids=["the clock in the last century", "the clock on the next day", "the clock years on"],
)
def test_a_decision_does_not_depend_on_the_wall_clock(wall_clock: str) -> None:
    reference = decide(_esi_history(), "2024-02-10")
    with freeze_time(wall_clock, ignore=["eventsourcing"]):
        frozen = decide(_esi_history(), "2024-02-10")
    assert asdict(frozen) == asdict(reference)
    assert reference.next_eligible_date is not None  # a time rule failed: the date is data
