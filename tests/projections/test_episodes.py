"""Episodes of care, positions in an episode and the first year of treatment.

An episode (per patient, region and family) starts at its first procedure; a new one starts
when the DOS is >= 2 years after the previous procedure of that family in that region, or when
a surgery_performed or pathology_diagnosed in that region is dated after the previous
procedure and on or before the DOS. First year of treatment: DOS < episode start + 12 months.
"""

from __future__ import annotations

from datetime import date

import pytest

from projections.state import EpisodeReason
from tests.projections.history import History, day

S = pytest.param


def episodes_of(
    h: History, region: str = "lumbar", family: str = "esi"
) -> list[tuple[str, str, list[str]]]:
    fam = h.fold().family(region, family)
    return [
        (e.start.isoformat(), e.reason.value, [p.event_id for p in e.procedures])
        for e in fam.episodes
    ]


@pytest.mark.parametrize(
    ("previous", "dos", "new_episode"),
    [
        S(
            "2023-03-10",
            "2025-03-10",
            True,
            id="a procedure exactly two years later starts a new episode",
        ),
        S(
            "2023-03-10",
            "2025-03-09",
            False,
            id="a procedure one day short of two years continues the episode",
        ),
        S("2024-02-29", "2026-02-28", True, id="two years after Feb 29 is Feb 28"),
        S(
            "2024-02-29",
            "2026-02-27",
            False,
            id="the day before Feb 28 two years after Feb 29 continues",
        ),
        S("2023-01-31", "2025-01-31", True, id="two years after Jan 31 is Jan 31"),
        S("2022-02-28", "2024-02-28", True, id="two years after Feb 28 is Feb 28 of the leap year"),
        S("2022-02-28", "2024-02-27", False, id="a day before it continues the episode"),
    ],
)
def test_a_two_year_gap_to_the_day_starts_a_new_episode(
    previous: str, dos: str, new_episode: bool
) -> None:
    h = History().procedure("first", previous).procedure("second", dos)
    eps = episodes_of(h)
    if new_episode:
        assert eps == [(previous, "first_procedure", ["first"]), (dos, "two_year_gap", ["second"])]
    else:
        assert eps == [(previous, "first_procedure", ["first", "second"])]


def test_the_gap_counts_from_the_previous_procedure_not_from_the_episode_start() -> None:
    h = (
        History()
        .procedure("a", "2021-01-10")
        .procedure("b", "2022-06-01")
        .procedure("c", "2024-05-31")
        .procedure("d", "2026-05-31")
    )
    assert episodes_of(h) == [
        ("2021-01-10", "first_procedure", ["a", "b", "c"]),
        ("2026-05-31", "two_year_gap", ["d"]),
    ]


@pytest.mark.parametrize("kind", ["surgery", "pathology"])
@pytest.mark.parametrize(
    ("dated", "new_episode"),
    [
        S("2025-01-10", False, id="dated on the previous DOS it does not start an episode"),
        S("2025-01-11", True, id="dated the day after the previous DOS it starts an episode"),
        S("2025-02-01", True, id="dated on the DOS itself it starts an episode"),
        S("2025-02-02", False, id="dated after the DOS it does not start an episode"),
        S(
            "2024-12-01",
            False,
            id="dated before the previous procedure it does not start an episode",
        ),
    ],
)
def test_surgery_or_pathology_between_procedures_starts_a_new_episode(
    kind: str, dated: str, new_episode: bool
) -> None:
    h = History().procedure("prev", "2025-01-10")
    getattr(h, kind)("fact", dated)
    h.procedure("next", "2025-02-01")
    if new_episode:
        assert episodes_of(h) == [
            ("2025-01-10", "first_procedure", ["prev"]),
            ("2025-02-01", kind, ["next"]),
        ]
    else:
        assert episodes_of(h) == [("2025-01-10", "first_procedure", ["prev", "next"])]


def test_surgery_in_another_region_does_not_start_an_episode() -> None:
    h = (
        History()
        .procedure("prev", "2025-01-10")
        .surgery("s", "2025-01-20", region="cervical")
        .procedure("next", "2025-02-01")
    )
    assert episodes_of(h) == [("2025-01-10", "first_procedure", ["prev", "next"])]


def test_surgery_starts_a_new_episode_in_every_family_of_its_region() -> None:
    h = (
        History()
        .procedure("e1", "2025-01-10")
        .procedure("f1", "2025-01-12", family="facet")
        .surgery("s", "2025-01-20")
        .procedure("e2", "2025-02-01")
        .procedure("f2", "2025-02-03", family="facet")
    )
    assert [e[1] for e in episodes_of(h)] == ["first_procedure", "surgery"]
    assert [e[1] for e in episodes_of(h, family="facet")] == ["first_procedure", "surgery"]


def test_a_surgery_before_the_first_procedure_leaves_it_a_first_procedure_episode() -> None:
    h = History().surgery("s", "2024-05-01").procedure("a", "2025-01-10")
    assert episodes_of(h) == [("2025-01-10", "first_procedure", ["a"])]


def test_positions_count_within_the_episode_and_restart_with_each_episode() -> None:
    h = (
        History()
        .procedure("a", "2023-01-05")
        .procedure("b", "2023-03-05")
        .procedure("c", "2023-03-05")
        .pathology("x", "2023-04-01")
        .procedure("d", "2023-05-01")
        .procedure("e", "2023-06-01")
    )
    fam = h.fold().family("lumbar", "esi")
    assert fam.position_of == {"a": 1, "b": 2, "c": 3, "d": 1, "e": 2}
    assert fam.episode_of == {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}


def test_procedures_are_placed_in_date_order_whatever_the_recording_order() -> None:
    h = (
        History()
        .procedure("late", "2025-03-01")
        .procedure("early", "2025-01-01")
        .procedure("middle", "2025-02-01")
    )
    fam = h.fold().family("lumbar", "esi")
    assert [p.event_id for p in fam.procedures] == ["early", "middle", "late"]
    assert fam.position_of == {"early": 1, "middle": 2, "late": 3}


@pytest.mark.parametrize(
    ("on", "episode", "position", "new", "reason"),
    [
        S(
            "2025-01-05",
            1,
            1,
            True,
            "first_procedure",
            id="before any procedure it would be the first",
        ),
        S(
            "2025-04-01",
            1,
            3,
            False,
            "first_procedure",
            id="after two procedures it would be third",
        ),
        S(
            "2025-03-01",
            1,
            2,
            False,
            "first_procedure",
            id="on the day of the second it would be second too",
        ),
        S(
            "2027-03-01",
            2,
            1,
            True,
            "two_year_gap",
            id="two years after the last it would open episode 2",
        ),
    ],
)
def test_the_placement_of_a_proposed_procedure_uses_only_earlier_procedures(
    on: str, episode: int, position: int, new: bool, reason: str
) -> None:
    fam = (
        History()
        .procedure("a", "2025-02-01")
        .procedure("b", "2025-03-01")
        .fold()
        .family("lumbar", "esi")
    )
    place = fam.placement(day(on))
    assert (place.episode_number, place.position, place.new_episode, place.reason.value) == (
        episode,
        position,
        new,
        reason,
    )


@pytest.mark.parametrize(
    ("start", "dos", "first_year"),
    [
        S(
            "2025-03-10",
            "2026-03-09",
            True,
            id="the day before the anniversary is in the first year",
        ),
        S("2025-03-10", "2026-03-10", False, id="the anniversary itself is not in the first year"),
        S("2024-02-29", "2025-02-27", True, id="from Feb 29 the first year holds Feb 27"),
        S("2024-02-29", "2025-02-28", False, id="from Feb 29 the first year ends on Feb 28"),
        S("2025-01-31", "2026-01-30", True, id="from Jan 31 the first year holds Jan 30"),
    ],
)
def test_the_first_year_of_treatment_ends_twelve_months_after_the_episode_start(
    start: str, dos: str, first_year: bool
) -> None:
    fam = History().procedure("a", start).procedure("b", dos).fold().family("lumbar", "esi")
    assert fam.placement(day(dos)).first_year is first_year
    # The procedure already on that date reports the same.
    assert (day(dos) < fam.episodes[0].first_year_end) is first_year


def test_the_first_year_count_counts_earlier_procedures_of_the_episode_in_its_first_year() -> None:
    h = History()
    for i, on in enumerate(
        ["2024-02-29", "2024-06-01", "2024-10-01", "2025-02-27", "2025-02-28", "2025-06-01"]
    ):
        h.procedure(f"p{i}", on)
    fam = h.fold().family("lumbar", "esi")
    assert fam.first_year_count(date(2025, 2, 27)) == 3  # p0..p2, not p3 on that very day
    assert fam.first_year_count(date(2025, 2, 28)) == 4  # p3 was the last first-year one
    assert fam.first_year_count(date(2025, 9, 1)) == 4  # p4 and p5 are past the first year


def test_episodes_are_per_family_in_a_region() -> None:
    h = History().procedure("e", "2025-01-10").procedure("f", "2025-06-10", family="facet")
    state = h.fold()
    assert episodes_of(h) == [("2025-01-10", "first_procedure", ["e"])]
    assert state.family("lumbar", "facet").episodes[0].start == date(2025, 6, 10)
    assert state.family("lumbar", "facet").episodes[0].reason is EpisodeReason.FIRST_PROCEDURE
