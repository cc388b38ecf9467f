"""Relief of a procedure against a threshold T, as of the date being decided.

An outcome meets T when pain_relief_percent >= T or functional_improvement is true. Only
outcomes assessed on or before the date being decided count. "Meets T": the latest counted
outcome meets T. "Earliest outcome meets T": the first outcome meets T. Sustained relief
against T for M months, in order: (1) pass, (2) fail, (3) time fail, (4) missing.
"""

from __future__ import annotations

from datetime import date

import pytest

from projections.calendar import months
from projections.relief import ReliefTest, Sustained
from projections.state import Procedure
from tests.projections.history import History, day

S = pytest.param
T50 = ReliefTest(50)
DOS = "2025-01-31"  # three months later is 2025-04-30 (clamped)


def procedure_with(*outcomes: tuple[str, float] | tuple[str, float, bool]) -> Procedure:
    h = History().procedure("p", DOS)
    for i, o in enumerate(outcomes):
        h.outcome(f"o{i}", of="p", on=o[0], relief=o[1], functional=bool(o[2:] and o[2]))
    proc = h.fold().procedure("p")
    assert proc is not None
    return proc


@pytest.mark.parametrize(
    ("outcomes", "on", "meets"),
    [
        S([], "2025-06-01", None, id="with no outcome meets is missing"),
        S(
            [("2025-02-14", 60)],
            "2025-02-13",
            None,
            id="an outcome assessed after the decided date does not count",
        ),
        S(
            [("2025-02-14", 60)],
            "2025-02-14",
            True,
            id="an outcome assessed on the decided date counts",
        ),
        S([("2025-02-14", 50)], "2025-03-01", True, id="relief exactly at the threshold meets it"),
        S([("2025-02-14", 49.9)], "2025-03-01", False, id="relief just below the threshold misses"),
        S([("2025-02-14", 10, True)], "2025-03-01", True, id="functional improvement alone meets"),
        S(
            [("2025-02-14", 60), ("2025-03-14", 20)],
            "2025-03-14",
            False,
            id="the latest counted outcome decides",
        ),
        S(
            [("2025-02-14", 60), ("2025-03-14", 20)],
            "2025-03-13",
            True,
            id="a later outcome not yet assessed does not decide",
        ),
        S(
            [("2025-03-14", 20), ("2025-02-14", 60)],
            "2025-04-01",
            False,
            id="latest means latest assessed, not latest recorded",
        ),
    ],
)
def test_meets_t_is_decided_by_the_latest_counted_outcome(
    outcomes: list[tuple[str, float]], on: str, meets: bool | None
) -> None:
    assert procedure_with(*outcomes).meets(T50, day(on)) is meets


@pytest.mark.parametrize(
    ("outcomes", "on", "meets"),
    [
        S([], "2025-06-01", None, id="with no outcome the earliest is missing"),
        S(
            [("2025-02-14", 60), ("2025-03-14", 20)],
            "2025-04-01",
            True,
            id="the first outcome decides even when a later one misses",
        ),
        S(
            [("2025-02-14", 20), ("2025-03-14", 60)],
            "2025-04-01",
            False,
            id="the first outcome decides even when a later one meets",
        ),
        S(
            [("2025-03-14", 60), ("2025-02-14", 20)],
            "2025-04-01",
            False,
            id="first means first assessed, not first recorded",
        ),
        S(
            [("2025-02-14", 60)],
            "2025-02-10",
            None,
            id="an earliest outcome assessed after the decided date is missing",
        ),
    ],
)
def test_earliest_outcome_meets_t_is_decided_by_the_first_outcome(
    outcomes: list[tuple[str, float]], on: str, meets: bool | None
) -> None:
    assert procedure_with(*outcomes).earliest_meets(T50, day(on)) is meets


@pytest.mark.parametrize(
    ("outcomes", "on", "status", "end", "next_eligible"),
    [
        S(
            [("2025-02-14", 60), ("2025-04-30", 60)],
            "2025-05-01",
            Sustained.PASS,
            "2025-04-30",
            None,
            id="pass: relief met through exactly DOS plus M months",
        ),
        S(
            [("2025-02-14", 60), ("2025-04-29", 60)],
            "2025-05-01",
            Sustained.MISSING,
            "2025-04-29",
            None,
            id="missing: relief met only to the day before DOS plus M months",
        ),
        S(
            [("2025-02-14", 60), ("2025-05-01", 60), ("2025-06-01", 10)],
            "2025-07-01",
            Sustained.PASS,
            "2025-05-01",
            None,
            id="pass comes first: a later miss does not undo a sustained end that is late enough",
        ),
        S(
            [("2025-02-14", 60), ("2025-03-01", 20)],
            "2025-03-05",
            Sustained.FAIL,
            "2025-02-14",
            None,
            id="fail comes before time fail: a miss before DOS plus M months fails outright",
        ),
        S(
            [("2025-02-14", 60), ("2025-03-01", 20), ("2025-05-01", 70)],
            "2025-06-01",
            Sustained.FAIL,
            "2025-02-14",
            None,
            id="fail: a miss breaks the run even when later outcomes meet",
        ),
        S(
            [("2025-02-14", 60), ("2025-02-14", 20)],
            "2025-06-01",
            Sustained.FAIL,
            None,
            None,
            id="fail: a miss on a day disqualifies that whole day",
        ),
        S(
            [("2025-02-14", 60)],
            "2025-04-29",
            Sustained.TIME_FAIL,
            "2025-02-14",
            "2025-04-30",
            id="time fail: decided before DOS plus M months, next eligible on that date",
        ),
        S(
            [],
            "2025-04-29",
            Sustained.TIME_FAIL,
            None,
            "2025-04-30",
            id="time fail: with no outcome yet and decided too early",
        ),
        S(
            [("2025-02-14", 60), ("2025-03-01", 20)],
            "2025-02-20",
            Sustained.TIME_FAIL,
            "2025-02-14",
            "2025-04-30",
            id="time fail: a miss assessed after the decided date does not count",
        ),
        S(
            [("2025-02-14", 60)],
            "2025-04-30",
            Sustained.MISSING,
            "2025-02-14",
            None,
            id="missing: decided on DOS plus M months with no outcome late enough",
        ),
        S([], "2025-06-01", Sustained.MISSING, None, None, id="missing: no outcome at all"),
        S(
            [("2025-02-14", 10, True), ("2025-05-02", 0, True)],
            "2025-06-01",
            Sustained.PASS,
            "2025-05-02",
            None,
            id="pass: functional improvement sustains relief",
        ),
    ],
)
def test_sustained_relief_has_four_outcomes_in_a_fixed_order(
    outcomes: list[tuple[str, float]],
    on: str,
    status: Sustained,
    end: str | None,
    next_eligible: str | None,
) -> None:
    verdict = procedure_with(*outcomes).sustained(T50, months(3), day(on))
    assert verdict.status is status
    assert verdict.due_on == date(2025, 4, 30)
    assert verdict.sustained_end == (day(end) if end else None)
    assert verdict.next_eligible == (day(next_eligible) if next_eligible else None)


def test_a_failed_sustained_relief_says_when_relief_was_missed() -> None:
    verdict = procedure_with(("2025-02-14", 60), ("2025-03-01", 20)).sustained(
        T50, months(3), day("2025-06-01")
    )
    assert verdict.missed_on == date(2025, 3, 1)


def test_stricter_payer_variants_of_meets() -> None:
    proc = procedure_with(("2025-02-14", 50, True))
    assert (
        proc.meets(ReliefTest(50, strictly_above=True, functional_counts=True), day("2025-03-01"))
        is True
    )
    assert (
        proc.meets(ReliefTest(50, strictly_above=True, functional_counts=False), day("2025-03-01"))
        is False
    )
    assert proc.meets(ReliefTest(50, functional_counts=False), day("2025-03-01")) is True


def test_counted_outcomes_are_those_assessed_on_or_before_the_date() -> None:
    proc = procedure_with(("2025-02-14", 60), ("2025-03-14", 20))
    assert [o.event_id for o in proc.counted_outcomes(day("2025-03-13"))] == ["o0"]
    assert [o.event_id for o in proc.counted_outcomes(day("2025-03-14"))] == ["o0", "o1"]
