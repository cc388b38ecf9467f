"""Bilateral counting (facet, rfa).

Unilateral procedures at the same levels on opposite sides within the pairing window count as
one toward a cap. Pairs form in date order: a unilateral procedure pairs with the earliest
still-unpaired unilateral procedure of the opposite side with the same (equal, non-empty) set
of levels dated within the window before it. A bilateral procedure counts as one.
"""

from __future__ import annotations

from datetime import date

import pytest

from projections.calendar import Span, months, weeks
from tests.projections.history import History, day

S = pytest.param
L45 = ("L4-L5",)
L45_L5S1 = ("L4-L5", "L5-S1")


def facet(
    h: History, event_id: str, on: str, side: str | None, levels: tuple[str, ...] = L45
) -> History:
    return h.procedure(event_id, on, family="facet", laterality=side, levels=levels)


def pairs(h: History, window: Span = months(1)) -> dict[str, str]:
    return h.fold().family("lumbar", "facet").pairing(window).partner_of


@pytest.mark.parametrize(
    ("second_on", "window", "paired"),
    [
        S("2025-03-31", months(1), True, id="the last day within a month pairs"),
        S("2025-04-01", months(1), False, id="a month to the day later does not pair"),
        S("2025-03-14", weeks(2), True, id="13 days later pairs under a two-week window"),
        S("2025-03-15", weeks(2), False, id="14 days later does not pair under a two-week window"),
        S("2025-03-01", months(1), True, id="the same day pairs"),
    ],
)
def test_opposite_sides_pair_only_within_the_window(
    second_on: str, window: Span, paired: bool
) -> None:
    h = facet(facet(History(), "L", "2025-03-01", "left"), "R", second_on, "right")
    assert pairs(h, window) == ({"L": "R", "R": "L"} if paired else {})


@pytest.mark.parametrize(
    ("first_on", "second_on", "paired"),
    [
        S("2025-01-31", "2025-02-27", True, id="from Jan 31 a month runs to Feb 27"),
        S("2025-01-31", "2025-02-28", False, id="from Jan 31 Feb 28 is a month later"),
        S("2024-01-31", "2024-02-28", True, id="in a leap year Feb 28 is still within"),
        S("2024-01-31", "2024-02-29", False, id="in a leap year Feb 29 is a month later"),
    ],
)
def test_the_one_month_pairing_window_clamps_at_the_end_of_the_month(
    first_on: str, second_on: str, paired: bool
) -> None:
    h = facet(facet(History(), "L", first_on, "left"), "R", second_on, "right")
    assert bool(pairs(h)) is paired


@pytest.mark.parametrize(
    ("left_levels", "right_levels", "paired"),
    [
        S(L45_L5S1, ("L5-S1", "L4-L5"), True, id="the same set of levels in another order pairs"),
        S(L45_L5S1, L45, False, id="a subset of levels does not pair"),
        S((), (), False, id="no levels never pair"),
    ],
)
def test_pairs_need_equal_non_empty_level_sets(
    left_levels: tuple[str, ...], right_levels: tuple[str, ...], paired: bool
) -> None:
    h = facet(
        facet(History(), "L", "2025-03-01", "left", left_levels),
        "R",
        "2025-03-05",
        "right",
        right_levels,
    )
    assert bool(pairs(h)) is paired


def test_the_same_side_never_pairs() -> None:
    h = facet(facet(History(), "L1", "2025-03-01", "left"), "L2", "2025-03-05", "left")
    assert pairs(h) == {}


def test_a_procedure_pairs_with_the_earliest_still_unpaired_opposite_procedure() -> None:
    h = History()
    for event_id, on, side in [
        ("L1", "2025-03-01", "left"),
        ("L2", "2025-03-05", "left"),
        ("R1", "2025-03-10", "right"),
        ("R2", "2025-03-12", "right"),
        ("R3", "2025-03-13", "right"),
    ]:
        facet(h, event_id, on, side)
    assert pairs(h) == {"L1": "R1", "R1": "L1", "L2": "R2", "R2": "L2"}


def test_a_paired_procedure_is_not_paired_again() -> None:
    h = facet(
        facet(facet(History(), "L", "2025-03-01", "left"), "R1", "2025-03-02", "right"),
        "R2",
        "2025-03-03",
        "right",
    )
    assert pairs(h) == {"L": "R1", "R1": "L"}


def test_a_pair_counts_once_and_a_bilateral_procedure_counts_once() -> None:
    h = History()
    facet(h, "L", "2025-03-01", "left")
    facet(h, "R", "2025-03-10", "right")
    facet(h, "B", "2025-06-01", "bilateral")
    fam = h.fold().family("lumbar", "facet")
    assert fam.count_in_window(date(2025, 6, 30), months(12)) == 3
    assert fam.counted_in_window(date(2025, 6, 30), months(12), months(1)) == 2
    # Under a two-week window L and R (9 days apart) still pair; 3 weeks apart they would not.
    assert fam.counted_in_window(date(2025, 6, 30), months(12), weeks(2)) == 2


def test_a_pair_split_by_the_rolling_window_counts_each_member_inside_it() -> None:
    h = facet(facet(History(), "L", "2024-06-25", "left"), "R", "2024-07-05", "right")
    fam = h.fold().family("lumbar", "facet")
    # The rolling 12 months ending 2025-07-01 holds R but not L.
    assert fam.counted_in_window(date(2025, 7, 1), months(12), months(1)) == 1


def test_the_partner_of_a_proposed_procedure_is_the_earliest_unpaired_opposite_one() -> None:
    h = History()
    facet(h, "L1", "2025-03-01", "left")
    facet(h, "R1", "2025-03-02", "right")
    facet(h, "L2", "2025-03-05", "left")
    fam = h.fold().family("lumbar", "facet")
    partner = fam.partner_for(day("2025-03-20"), "right", L45, months(1))
    assert partner is not None and partner.event_id == "L2"
    assert fam.partner_for(day("2025-04-05"), "right", L45, months(1)) is None
    assert fam.partner_for(day("2025-03-20"), "right", ("L5-S1",), months(1)) is None
    assert fam.partner_for(day("2025-03-20"), "bilateral", L45, months(1)) is None


def test_a_proposed_procedure_pairs_before_later_dated_procedures_do() -> None:
    # Deciding a right-side block on Mar 10 while a right-side block dated Mar 20 is already
    # on record: in date order the Mar 10 one comes first, so it takes the Mar 1 left side.
    h = History()
    facet(h, "L1", "2025-03-01", "left")
    facet(h, "R-later", "2025-03-20", "right")
    fam = h.fold().family("lumbar", "facet")
    partner = fam.partner_for(day("2025-03-10"), "right", L45, months(1))
    assert partner is not None and partner.event_id == "L1"


def test_rfa_pairs_like_facet_blocks_in_its_own_family() -> None:
    h = (
        History()
        .procedure("L", "2025-03-01", family="rfa", laterality="left", levels=L45)
        .procedure("R", "2025-03-03", family="rfa", laterality="right", levels=L45)
        .procedure("F", "2025-03-02", family="facet", laterality="right", levels=L45)
    )
    state = h.fold()
    assert state.family("lumbar", "rfa").pairing(months(1)).partner_of == {"L": "R", "R": "L"}
    assert state.family("lumbar", "facet").pairing(months(1)).partner_of == {}
