"""nia esi (NIA_CG_300), written from the guideline: initial phase, sustained relief, caps,
transforaminal levels."""

from __future__ import annotations

from datetime import date

import pytest

from tests.policies.conftest import History, decide, reason, status

TF = ("64483",)  # transforaminal, lumbar
IL = ("62323",)  # interlaminar, lumbar


def two_esi(relief: float | None, levels: tuple[str, ...] = ("L4-L5",)) -> History:
    h = History().procedure("e1", "2025-01-06", TF, levels=levels)
    return h if relief is None else h.outcome("e1", "2025-01-15", relief)


def initial_phase(relief: float = 80) -> History:
    """Three esi in the initial phase, 2 weeks apart, each with relief."""
    h = History()
    for i, day in enumerate(("2025-01-06", "2025-01-20", "2025-02-03"), 1):
        h.procedure(f"e{i}", day, TF, levels=["L4-L5"]).outcome(f"e{i}", day, relief)
    return h


@pytest.mark.parametrize(
    "clinical, expected",
    [
        pytest.param(
            {"initial_criteria_met": True}, "pass", id="first ESI with initial criteria met passes"
        ),
        pytest.param(
            {"initial_criteria_met": False}, "fail", id="first ESI without initial criteria fails"
        ),
        pytest.param({}, "missing", id="first ESI with initial criteria not documented is missing"),
    ],
)
def test_first_esi_needs_the_initial_criteria(clinical: dict, expected: str) -> None:
    d = decide(History(), "2025-01-06", TF, clinical=clinical)
    assert status(d, "nia.common.initial_criteria") == expected
    assert status(d, "nia.common.repeat_pain_and_therapy") is None
    assert (
        d.decision
        == {"pass": "eligible", "fail": "not_eligible", "missing": "pending_documentation"}[
            expected
        ]
    )
    assert d.next_eligible_date is None


@pytest.mark.parametrize(
    "on, expected",
    [
        pytest.param("2025-01-19", "fail", id="2nd ESI 13 days after the first is refused"),
        pytest.param("2025-01-20", "pass", id="2nd ESI exactly 14 days after the first is allowed"),
    ],
)
def test_initial_phase_interval(on: str, expected: str) -> None:
    d = decide(two_esi(60), on, TF, levels=["L4-L5"])
    assert status(d, "nia.esi.initial_interval") == expected
    if expected == "fail":
        assert d.decision == "not_eligible"
        assert d.next_eligible_date == date(2025, 1, 20)
        assert reason(d, "nia.esi.initial_interval").time_rule
    else:
        assert d.decision == "eligible"


@pytest.mark.parametrize(
    "relief, codes, levels, expected",
    [
        pytest.param(
            30, TF, ("L4-L5",), "pass", id="30% relief from the previous ESI allows the 2nd"
        ),
        pytest.param(
            29,
            TF,
            ("L4-L5",),
            "fail",
            id="29% relief at the same level and approach refuses the 2nd",
        ),
        pytest.param(
            29, TF, ("L5-S1",), "pass", id="29% relief but a different level allows the 2nd"
        ),
        pytest.param(
            29,
            IL,
            ("L4-L5",),
            "pass",
            id="29% relief but interlaminar after transforaminal allows the 2nd",
        ),
        pytest.param(
            None, TF, ("L4-L5",), "missing", id="no outcome of the previous ESI is missing"
        ),
    ],
)
def test_initial_phase_response(
    relief: float | None, codes: tuple[str, ...], levels: tuple[str, ...], expected: str
) -> None:
    d = decide(two_esi(relief), "2025-01-20", codes, levels=levels)
    assert status(d, "nia.esi.initial_response") == expected
    if expected == "fail":
        assert d.next_eligible_date is None  # not a time rule


def test_functional_improvement_alone_meets_the_initial_response() -> None:
    h = (
        History()
        .procedure("e1", "2025-01-06", TF, levels=["L4-L5"])
        .outcome("e1", "2025-01-10", 5, functional=True)
    )
    assert (
        status(decide(h, "2025-01-20", TF, levels=["L4-L5"]), "nia.esi.initial_response") == "pass"
    )


def test_third_esi_is_still_initial_phase_and_fourth_is_not() -> None:
    h = initial_phase()
    d = decide(h, "2025-04-03", TF, levels=["L4-L5"])
    assert status(d, "nia.esi.initial_interval") is None
    assert status(d, "nia.esi.therapeutic_sustained_relief") is not None
    assert "past the initial treatment phase" in reason(d, "nia.esi.initial_phase").message


@pytest.mark.parametrize(
    "outcomes, on, expected, next_date",
    [
        pytest.param(
            [("2025-04-03", 60)],
            "2025-04-03",
            "pass",
            None,
            id="4th ESI after 50% relief sustained exactly 2 months is allowed",
        ),
        pytest.param(
            [("2025-04-02", 60)],
            "2025-04-10",
            "missing",
            None,
            id="4th ESI with relief documented only to the day before 2 months is missing",
        ),
        pytest.param(
            [("2025-03-01", 60)],
            "2025-04-02",
            "fail",
            date(2025, 4, 3),
            id="4th ESI the day before 2 months is refused until previous DOS plus 2 months",
        ),
        pytest.param(
            [("2025-03-01", 40)],
            "2025-04-10",
            "fail",
            None,
            id="4th ESI after relief fell below 50% is refused for good",
        ),
        pytest.param(
            [("2025-03-01", 60), ("2025-04-03", 45)],
            "2025-04-10",
            "fail",
            None,
            id="4th ESI when relief dropped to 45% before 2 months is refused",
        ),
        pytest.param(
            [("2025-03-01", 60), ("2025-04-03", 50)],
            "2025-04-10",
            "pass",
            None,
            id="4th ESI with 50% relief at every assessment through 2 months is allowed",
        ),
    ],
)
def test_therapeutic_phase_needs_sustained_relief(
    outcomes: list[tuple[str, float]], on: str, expected: str, next_date: date | None
) -> None:
    h = History()
    for i, day in enumerate(("2025-01-06", "2025-01-20"), 1):
        h.procedure(f"e{i}", day, TF, levels=["L4-L5"]).outcome(f"e{i}", day, 80)
    h.procedure("e3", "2025-02-03", TF, levels=["L4-L5"])
    for day, relief in outcomes:
        h.outcome("e3", day, relief)
    d = decide(h, on, TF, levels=["L4-L5"])
    assert status(d, "nia.esi.therapeutic_sustained_relief") == expected
    assert d.next_eligible_date == next_date


def first_year_of_six() -> History:
    """Six ESI in 2024 (an episode started 2024-01-02), each with lasting relief."""
    h = History()
    days = ["2024-01-02", "2024-01-16", "2024-01-30", "2024-03-30", "2024-05-30", "2024-07-30"]
    for i, day in enumerate(days, 1):
        h.procedure(f"e{i}", day, TF, levels=["L4-L5"])
    for i, day in enumerate(days, 1):
        due = {
            "2024-01-02": "2024-03-02",
            "2024-01-16": "2024-03-16",
            "2024-01-30": "2024-03-30",
            "2024-03-30": "2024-05-30",
            "2024-05-30": "2024-07-30",
            "2024-07-30": "2024-09-30",
        }[day]
        h.outcome(f"e{i}", due, 80)
    return h


def test_7th_esi_in_the_first_year_is_refused_until_the_after_year_cap_allows() -> None:
    d = decide(first_year_of_six(), "2024-09-30", TF, levels=["L4-L5"])
    r = reason(d, "nia.esi.first_year_cap")
    assert r.status.value == "fail" and r.time_rule and r.next_date == date(2025, 1, 2)
    # On the anniversary the rolling cap takes over: 5 ESI in the 12 months before it; two
    # more must leave the window (2024-01-16 on 2025-01-16, 2024-01-30 on 2025-01-30).
    assert d.next_eligible_date == date(2025, 1, 30)


def test_7th_esi_with_special_circumstances_is_allowed_on_the_first_anniversary() -> None:
    d = decide(
        first_year_of_six(),
        "2024-09-30",
        TF,
        levels=["L4-L5"],
        clinical={
            "pain_score": 7,
            "active_conservative_therapy": True,
            "special_circumstances": True,
        },
    )
    assert d.next_eligible_date == date(2025, 1, 2)


@pytest.mark.parametrize(
    "on, expected",
    [
        pytest.param(
            "2025-01-01",
            "fail",
            id="7th ESI the day before the first anniversary is refused by the first-year cap",
        ),
        pytest.param(
            "2025-01-02", None, id="on the first anniversary the first-year cap no longer applies"
        ),
    ],
)
def test_first_year_cap_boundary(on: str, expected: str | None) -> None:
    d = decide(first_year_of_six(), on, TF, levels=["L4-L5"])
    assert status(d, "nia.esi.first_year_cap") == expected
    assert status(d, "nia.esi.annual_cap") == (None if expected else "fail")


def after_first_year() -> History:
    """An episode started 2022-01-03; after its first year 4 ESI between Feb and Aug 2023."""
    h = History()
    for i, day in enumerate(("2022-01-03", "2022-01-17", "2022-01-31"), 1):
        h.procedure(f"e{i}", day, TF, levels=["L4-L5"]).outcome(f"e{i}", day, 80)
    later = [
        ("2023-02-01", "2023-04-01"),
        ("2023-04-03", "2023-06-03"),
        ("2023-06-05", "2023-08-05"),
        ("2023-08-07", "2023-10-07"),
    ]
    for i, (day, assessed) in enumerate(later, 4):
        h.procedure(f"e{i}", day, TF, levels=["L4-L5"]).outcome(f"e{i}", assessed, 80)
    return h


@pytest.mark.parametrize(
    "on, clinical, expected, next_date",
    [
        pytest.param(
            "2023-10-09",
            {"special_circumstances": False},
            "fail",
            date(2024, 2, 1),
            id="5th ESI in 12 months after the first year is refused",
        ),
        pytest.param(
            "2024-01-31",
            {"special_circumstances": False},
            "fail",
            date(2024, 2, 1),
            id="5th ESI the day before the oldest leaves the 12 months is refused",
        ),
        pytest.param(
            "2024-02-01",
            {"special_circumstances": False},
            "pass",
            None,
            id="ESI on the day the oldest leaves the 12 months is allowed",
        ),
        pytest.param(
            "2023-10-09",
            {"special_circumstances": True},
            "pass",
            None,
            id="5th ESI in 12 months with special circumstances is allowed",
        ),
        pytest.param(
            "2023-10-09",
            {},
            "fail",
            date(2024, 2, 1),
            id="5th ESI in 12 months with special circumstances not documented is refused",
        ),
    ],
)
def test_after_first_year_rolling_cap(
    on: str, clinical: dict, expected: str, next_date: date | None
) -> None:
    facts = {"pain_score": 7, "active_conservative_therapy": True} | clinical
    d = decide(after_first_year(), on, TF, levels=["L4-L5"], clinical=facts)
    assert status(d, "nia.esi.first_year_cap") is None
    assert status(d, "nia.esi.annual_cap") == expected
    assert d.next_eligible_date == next_date


def test_7th_esi_in_12_months_is_refused_even_with_special_circumstances() -> None:
    h = after_first_year()
    h.procedure("e8", "2023-10-09", TF, levels=["L4-L5"]).outcome("e8", "2023-12-09", 80)
    h.procedure("e9", "2023-12-11", TF, levels=["L4-L5"]).outcome("e9", "2024-01-11", 80)
    d = decide(
        h,
        "2024-01-11",
        TF,
        levels=["L4-L5"],
        clinical={
            "pain_score": 7,
            "active_conservative_therapy": True,
            "special_circumstances": True,
        },
    )
    assert status(d, "nia.esi.annual_cap") == "fail"
    # Sustained relief of 2023-12-11 is due 2024-02-11; the cap of 6 fits from 2024-02-01.
    assert d.next_eligible_date == date(2024, 2, 11)


@pytest.mark.parametrize(
    "codes, expected",
    [
        pytest.param(
            ("64483", ("64484", 1)), "pass", id="two transforaminal levels on one day are allowed"
        ),
        pytest.param(
            ("64483", ("64484", 2)), "fail", id="three transforaminal levels on one day are refused"
        ),
    ],
)
def test_transforaminal_levels(codes: tuple, expected: str) -> None:
    d = decide(History(), "2025-01-06", codes, levels=["L4-L5", "L5-S1"])
    assert status(d, "nia.esi.transforaminal_levels") == expected
    assert status(decide(History(), "2025-01-06", IL), "nia.esi.transforaminal_levels") is None


def test_transforaminal_levels_count_other_procedures_that_date() -> None:
    h = History().procedure("e1", "2025-01-06", ("64483", ("64484", 1)), levels=["L3-L4"])
    d = decide(h, "2025-01-06", TF, levels=["L5-S1"])
    assert status(d, "nia.esi.transforaminal_levels") == "fail"
    assert d.next_eligible_date is None
