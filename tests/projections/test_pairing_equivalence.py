"""Bilateral pairing works each procedure against only the candidates it could pair with, yet
pairs exactly as the guideline's plain reading does: every unilateral procedure, in date
order, pairs with the earliest still-unpaired earlier one of the opposite side at the same
levels within the window. The plain reading is written out here and compared on random
histories, for whole histories, for histories cut at a date, and for proposed procedures."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.calendar import Span, days, months, within
from projections.state import OPPOSITE, FamilyState, Procedure
from tests.projections.history import History

BASE = date(2024, 1, 31)
WINDOWS = [months(1), days(30), days(7), months(2)]
LEVELS = [(), ("L4-L5",), ("L5-S1",), ("L4-L5", "L5-S1"), ("L5-S1", "L4-L5")]

procedures = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.sampled_from(["left", "right", "left", "right", "bilateral", None]),
        st.sampled_from(LEVELS),
    ),
    min_size=0,
    max_size=40,
)


def plain_pairing(fam: FamilyState, window: Span, through: date | None) -> dict[str, str]:
    partner_of: dict[str, str] = {}
    unpaired: list[Procedure] = []
    for proc in fam.procedures:
        if through is not None and proc.date_of_service > through:
            break
        if proc.laterality in OPPOSITE and proc.levels:
            for candidate in unpaired:
                if _pairs(proc.laterality, proc.levels, proc.date_of_service, candidate, window):
                    partner_of[proc.event_id] = candidate.event_id
                    partner_of[candidate.event_id] = proc.event_id
                    unpaired.remove(candidate)
                    break
            else:
                unpaired.append(proc)
    return partner_of


def plain_partner(
    fam: FamilyState, on: date, side: str | None, levels: tuple[str, ...], window: Span
) -> str | None:
    if side not in OPPOSITE or not levels:
        return None
    paired = plain_pairing(fam, window, on)
    for proc in fam.procedures:
        if proc.date_of_service > on:
            break
        if proc.event_id not in paired and _pairs(side, levels, on, proc, window):
            return proc.event_id
    return None


def _pairs(
    side: str | None, levels: tuple[str, ...], on: date, earlier: Procedure, window: Span
) -> bool:
    return (
        side in OPPOSITE
        and earlier.laterality == OPPOSITE[side]
        and bool(levels)
        and frozenset(earlier.levels) == frozenset(levels)
        and within(on, earlier.date_of_service, window)
    )


def family(steps: list[tuple[int, str | None, tuple[str, ...]]]) -> FamilyState:
    h = History()
    for n, (offset, side, levels) in enumerate(steps):
        h.procedure(
            f"p{n:03d}", BASE + timedelta(days=offset), family="facet", laterality=side,
            levels=levels,
        )  # fmt: skip
    return h.fold().family("lumbar", "facet")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=procedures,
    window=st.sampled_from(WINDOWS),
    cut=st.one_of(st.none(), st.integers(0, 400)),
)
def test_pairs_form_exactly_as_the_plain_reading_says(
    steps: list[tuple[int, str | None, tuple[str, ...]]], window: Span, cut: int | None
) -> None:
    fam = family(steps)
    through = BASE + timedelta(days=cut) if cut is not None else None
    assert fam.pairing(window, through=through).partner_of == plain_pairing(fam, window, through)
    # Asked again (the state keeps what it worked out): the same answer.
    assert fam.pairing(window, through=through).partner_of == plain_pairing(fam, window, through)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=procedures,
    window=st.sampled_from(WINDOWS),
    on=st.integers(0, 420),
    side=st.sampled_from(["left", "right", "bilateral", None]),
    levels=st.sampled_from(LEVELS),
)
def test_a_proposed_procedure_finds_the_partner_the_plain_reading_finds(
    steps: list[tuple[int, str | None, tuple[str, ...]]],
    window: Span,
    on: int,
    side: str | None,
    levels: tuple[str, ...],
) -> None:
    fam = family(steps)
    day = BASE + timedelta(days=on)
    found = fam.partner_for(day, side, levels, window)
    assert (found.event_id if found else None) == plain_partner(fam, day, side, levels, window)


def test_a_candidate_too_old_for_one_procedure_stays_unpaired_for_the_later_ones() -> None:
    fam = family([(0, "left", ("L4-L5",)), (40, "right", ("L4-L5",)), (45, "left", ("L4-L5",))])
    assert fam.pairing(months(1)).partner_of == {"p001": "p002", "p002": "p001"}
