"""A patient state finds procedures by family and by date through its indexes, and finds
exactly those a scan of every procedure finds: on random histories, and on a state built
by hand with its procedures out of date order (then it scans)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.state import PatientState, Procedure
from tests.projections.history import History

BASE = date(2024, 2, 29)
FAMILIES = ["esi", "facet", "rfa"]

steps = st.lists(
    st.tuples(
        st.integers(0, 300),
        st.sampled_from(["lumbar", "cervical"]),
        st.sampled_from(FAMILIES),
    ),
    max_size=40,
)


def state_of(history: list[tuple[int, str, str]]) -> PatientState:
    h = History()
    for n, (offset, region, family) in enumerate(history):
        h.procedure(f"p{n:03d}", BASE + timedelta(days=offset), region=region, family=family)
    return h.fold()


def scanned_near(
    state: PatientState, on: date, days: int, families: list[str], exclude: str | None
) -> list[Procedure]:
    return [
        p
        for p in state.procedures
        if p.family in families
        and p.region != exclude
        and 0 < abs((p.date_of_service - on).days) < days
    ]


def check(state: PatientState, on: date, days: int, family: str, exclude: str | None) -> None:
    for region in (None, "lumbar", "cervical"):
        assert state.of_family(family, region=region) == [
            p
            for p in state.procedures
            if p.family == family and (region is None or p.region == region)
        ]
    assert state.on_date(on) == [p for p in state.procedures if p.date_of_service == on]
    assert state.on_date(on, [family]) == [
        p for p in state.procedures if p.date_of_service == on and p.family == family
    ]
    assert state.near(on, days, [family, "esi"], exclude) == scanned_near(
        state, on, days, [family, "esi"], exclude
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=steps,
    on=st.integers(-20, 320),
    days=st.integers(-1, 90),
    family=st.sampled_from(FAMILIES),
    exclude=st.sampled_from([None, "lumbar", "cervical"]),
)
def test_lookups_by_family_and_date_find_what_a_scan_finds(
    history: list[tuple[int, str, str]], on: int, days: int, family: str, exclude: str | None
) -> None:
    state = state_of(history)
    check(state, BASE + timedelta(days=on), days, family, exclude)
    shuffled = replace(state, procedures=tuple(reversed(state.procedures)))
    check(shuffled, BASE + timedelta(days=on), days, family, exclude)


def test_a_span_past_the_end_of_the_calendar_still_finds_the_near_procedures() -> None:
    state = state_of([(0, "cervical", "esi"), (3, "cervical", "esi")])
    assert [p.event_id for p in state.near(BASE, 10**6, ["esi"], "lumbar")] == ["p001"]


fact_days = st.lists(st.integers(0, 300), max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=steps, surgeries=fact_days, on=st.integers(-20, 1200))
def test_a_placement_counts_episodes_and_the_episode_so_far_as_a_scan_does(
    history: list[tuple[int, str, str]], surgeries: list[int], on: int
) -> None:
    h = History()
    for n, (offset, region, family) in enumerate(history):
        h.procedure(f"p{n:03d}", BASE + timedelta(days=offset * 3), region=region, family=family)
    for n, offset in enumerate(surgeries):
        h.surgery(f"s{n}", BASE + timedelta(days=offset * 3))
    day = BASE + timedelta(days=on)
    for fam in h.fold().families.values():
        place = fam.placement(day)
        prior = fam.prior(day)
        if place.new_episode:
            assert place.episode_number == len({fam.episode_of[p.event_id] for p in prior}) + 1
        else:
            number = fam.episode_of[prior[-1].event_id]
            assert place.episode_number == number
            assert place.prior_in_episode == tuple(
                p for p in prior if fam.episode_of[p.event_id] == number
            )
