"""Calendar months and rolling windows: the exact day a window opens and closes.

A rolling window of N months ending on D holds dates strictly after D - N months and on or
before D; months are calendar months with the end of the month clamped.
"""

from __future__ import annotations

from datetime import date

import pytest

from projections.calendar import add_months, days, in_window, months, weeks, within
from tests.projections.history import History, day

S = pytest.param


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        S("2025-01-31", 1, "2025-02-28", id="Jan 31 plus one month is Feb 28 in a common year"),
        S("2024-01-31", 1, "2024-02-29", id="Jan 31 plus one month is Feb 29 in a leap year"),
        S("2025-03-31", 1, "2025-04-30", id="Mar 31 plus one month is Apr 30"),
        S("2025-03-31", -1, "2025-02-28", id="Mar 31 minus one month is Feb 28"),
        S("2024-02-29", 12, "2025-02-28", id="Feb 29 plus twelve months is Feb 28"),
        S("2024-02-29", 48, "2028-02-29", id="Feb 29 plus four years is Feb 29 again"),
        S("2024-02-29", 24, "2026-02-28", id="Feb 29 plus two years is Feb 28"),
        S("2025-08-31", -6, "2025-02-28", id="Aug 31 minus six months is Feb 28"),
        S("2024-08-31", -6, "2024-02-29", id="Aug 31 minus six months is Feb 29 in a leap year"),
        S(
            "2025-02-28",
            -12,
            "2024-02-28",
            id="Feb 28 minus twelve months is Feb 28 of the leap year",
        ),
    ],
)
def test_months_are_calendar_months_clamped_to_the_end_of_the_month(
    start: str, n: int, expected: str
) -> None:
    assert add_months(day(start), n) == day(expected)


@pytest.mark.parametrize(
    ("dated", "end", "n", "inside"),
    [
        S(
            "2025-01-31",
            "2025-07-31",
            6,
            False,
            id="the day exactly N months before the end is outside",
        ),
        S(
            "2025-02-01",
            "2025-07-31",
            6,
            True,
            id="the day after N months before the end is inside",
        ),
        S("2025-07-31", "2025-07-31", 6, True, id="the end date itself is inside"),
        S("2025-08-01", "2025-07-31", 6, False, id="the day after the end is outside"),
        S(
            "2025-02-28",
            "2025-08-31",
            6,
            False,
            id="clamped start: Feb 28 is outside a window ending Aug 31",
        ),
        S(
            "2025-03-01",
            "2025-08-31",
            6,
            True,
            id="clamped start: Mar 1 is inside a window ending Aug 31",
        ),
        S(
            "2024-02-29",
            "2024-08-31",
            6,
            False,
            id="leap year: Feb 29 is outside a window ending Aug 31",
        ),
        S(
            "2024-02-29",
            "2025-02-28",
            12,
            True,
            id="leap day is inside the year ending next Feb 28",
        ),
        S(
            "2024-02-28",
            "2025-02-28",
            12,
            False,
            id="Feb 28 is outside the year ending next Feb 28",
        ),
        S("2024-03-01", "2025-02-28", 12, True, id="Mar 1 is inside the year ending next Feb 28"),
        S("2024-03-01", "2025-03-01", 12, False, id="a year to the day before the end is outside"),
    ],
)
def test_a_rolling_window_holds_dates_after_its_start_and_up_to_its_end(
    dated: str, end: str, n: int, inside: bool
) -> None:
    assert in_window(day(dated), day(end), months(n)) is inside


@pytest.mark.parametrize(
    ("later", "earlier", "span", "inside"),
    [
        S("2025-03-14", "2025-03-01", weeks(2), True, id="13 days is within two weeks"),
        S("2025-03-15", "2025-03-01", weeks(2), False, id="14 days is two weeks apart, not within"),
        S("2025-02-27", "2025-01-31", months(1), True, id="Feb 27 is within a month of Jan 31"),
        S("2025-02-28", "2025-01-31", months(1), False, id="Feb 28 is a month after Jan 31"),
        S("2025-03-01", "2025-03-01", days(7), True, id="the same day is within any span"),
        S("2025-02-28", "2025-03-01", days(7), False, id="an earlier day is not within"),
    ],
)
def test_within_a_span_is_the_complement_of_n_apart(
    later: str, earlier: str, span: object, inside: bool
) -> None:
    assert within(day(later), day(earlier), span) is inside  # type: ignore[arg-type]


def test_the_family_window_count_includes_the_end_date_and_excludes_the_opening_day() -> None:
    h = History()
    for i, on in enumerate(["2025-01-31", "2025-02-01", "2025-05-15", "2025-07-31", "2025-08-01"]):
        h.procedure(f"p{i}", on)
    fam = h.fold().family("lumbar", "esi")
    assert fam.count_in_window(date(2025, 7, 31), months(6)) == 3
    assert fam.count_in_window(date(2025, 7, 31), months(6), before=date(2025, 7, 31)) == 2
    # A day later the window opens a day later: Feb 1 drops out, Aug 1 comes in.
    assert [p.event_id for p in fam.in_window(date(2025, 8, 1), months(6))] == ["p2", "p3", "p4"]


def test_window_counts_are_per_region_and_family() -> None:
    h = (
        History()
        .procedure("l1", "2025-03-01")
        .procedure("c1", "2025-03-02", region="cervical")
        .procedure("f1", "2025-03-03", family="facet")
    )
    state = h.fold()
    assert state.family("lumbar", "esi").count_in_window(date(2025, 3, 31), months(12)) == 1
    assert state.family("cervical", "esi").count_in_window(date(2025, 3, 31), months(12)) == 1
    assert state.family("thoracic", "esi").count_in_window(date(2025, 3, 31), months(12)) == 0
