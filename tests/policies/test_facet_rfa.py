"""nia facet (NIA_CG_301) and rfa (NIA_CG_302), written from the guidelines."""

from __future__ import annotations

from datetime import date

import pytest

from tests.policies.conftest import History, decide, reason, status

FACET = ("64493",)
RFA = ("64635",)
LV = ["L4-L5"]


def one_facet(
    relief: float | None = 80,
    *,
    intent: str = "diagnostic",
    agent: str | None = "local_anesthetic",
    approach: str = "medial_branch",
) -> History:
    h = History().procedure(
        "f1", "2025-01-06", FACET, intent=intent, agent=agent, approach=approach, levels=LV
    )
    return h if relief is None else h.outcome("f1", "2025-01-07", relief)


@pytest.mark.parametrize(
    "agent, on, expected, next_date",
    [
        pytest.param(
            "local_anesthetic",
            "2025-01-12",
            "fail",
            date(2025, 1, 13),
            id="2nd facet 6 days after a local anesthetic diagnostic block is refused",
        ),
        pytest.param(
            "local_anesthetic",
            "2025-01-13",
            "pass",
            None,
            id="2nd facet 7 days after a local anesthetic diagnostic block is allowed",
        ),
        pytest.param(
            "steroid",
            "2025-01-19",
            "fail",
            date(2025, 1, 20),
            id="2nd facet 13 days after a steroid block is refused",
        ),
        pytest.param(
            "steroid",
            "2025-01-20",
            "pass",
            None,
            id="2nd facet 14 days after a steroid block is allowed",
        ),
    ],
)
def test_diagnostic_interval(agent: str, on: str, expected: str, next_date: date | None) -> None:
    d = decide(
        one_facet(agent=agent), on, FACET, intent="diagnostic", approach="medial_branch", levels=LV
    )
    assert status(d, "nia.facet.diagnostic_interval") == expected
    assert d.next_eligible_date == next_date


@pytest.mark.parametrize(
    "relief, approach, levels, expected",
    [
        pytest.param(50, "medial_branch", LV, "pass", id="2nd facet after 50% relief is allowed"),
        pytest.param(
            49,
            "medial_branch",
            LV,
            "fail",
            id="2nd facet after 49% relief, same levels and approach, is refused",
        ),
        pytest.param(
            49,
            "intra_articular",
            LV,
            "pass",
            id="2nd facet after 49% relief with intra-articular instead of medial branch is allowed",
        ),
        pytest.param(
            49,
            "medial_branch",
            ["L5-S1"],
            "pass",
            id="2nd facet after 49% relief at other levels is allowed",
        ),
        pytest.param(
            None,
            "medial_branch",
            LV,
            "missing",
            id="2nd facet without an outcome of the first is missing",
        ),
    ],
)
def test_diagnostic_response(
    relief: float | None, approach: str, levels: list[str], expected: str
) -> None:
    d = decide(
        one_facet(relief),
        "2025-01-20",
        FACET,
        intent="diagnostic",
        approach=approach,
        levels=levels,
    )
    assert status(d, "nia.facet.diagnostic_response") == expected


def test_diagnostic_phase_is_the_first_two() -> None:
    h = one_facet().procedure("f2", "2025-01-20", FACET, intent="diagnostic", levels=LV)
    h.outcome("f2", "2025-01-21", 80)
    d = decide(h, "2025-02-20", FACET, levels=LV)
    assert "past the diagnostic phase" in reason(d, "nia.facet.diagnostic_phase_max").message
    assert status(d, "nia.facet.diagnostic_interval") is None
    assert status(d, "nia.facet.therapeutic_response") == "pass"  # previous was diagnostic


@pytest.mark.parametrize(
    "on, relief_on, expected, next_date",
    [
        pytest.param(
            "2025-04-19",
            "2025-03-01",
            "fail",
            date(2025, 4, 20),
            id="3rd facet before 2 months of relief after a therapeutic one is refused",
        ),
        pytest.param(
            "2025-04-20",
            "2025-04-20",
            "pass",
            None,
            id="3rd facet after 50% relief sustained 2 months after a therapeutic one is allowed",
        ),
    ],
)
def test_therapeutic_response_is_sustained_after_a_therapeutic_facet(
    on: str, relief_on: str, expected: str, next_date: date | None
) -> None:
    h = one_facet().procedure("f2", "2025-02-20", FACET, intent="therapeutic", levels=LV)
    h.outcome("f2", relief_on, 70)
    d = decide(h, on, FACET, levels=LV)
    assert status(d, "nia.facet.therapeutic_response") == expected
    assert d.next_eligible_date == next_date


@pytest.mark.parametrize(
    "on, therapy, expected",
    [
        pytest.param(
            "2025-02-05",
            False,
            "pass",
            id="diagnostic facet within 1 month of the previous needs no conservative therapy",
        ),
        pytest.param(
            "2025-02-06",
            False,
            "fail",
            id="diagnostic facet 1 month after the previous needs conservative therapy",
        ),
    ],
)
def test_conservative_therapy_exemption(on: str, therapy: bool, expected: str) -> None:
    d = decide(
        one_facet(),
        on,
        FACET,
        intent="diagnostic",
        levels=LV,
        clinical={"pain_score": 7, "active_conservative_therapy": therapy},
    )
    assert status(d, "nia.common.repeat_pain_and_therapy") == expected


def four_facets(pair_second: str = "2025-01-20") -> History:
    """Four facet procedures in 2025: left then right at the same levels (a pair counted once
    when ``pair_second`` is within 1 month of the left one), then two more."""
    h = History()
    h.procedure("f1", "2025-01-06", FACET, laterality="left", levels=LV).outcome(
        "f1", "2025-01-07", 80
    )
    h.procedure("f2", pair_second, FACET, laterality="right", levels=LV).outcome(
        "f2", pair_second, 80
    )
    for i, (day, seen) in enumerate(
        (("2025-03-24", "2025-05-24"), ("2025-05-26", "2025-07-26")), 3
    ):
        h.procedure(f"f{i}", day, FACET, intent="diagnostic", levels=LV).outcome(f"f{i}", seen, 80)
    return h


@pytest.mark.parametrize(
    "pair_second, clinical, expected, next_date",
    [
        pytest.param(
            "2025-01-20",
            {},
            "pass",
            None,
            id="a left and right pair counts once so the 5th facet procedure is the 4th counted",
        ),
        pytest.param(
            "2025-02-06",
            {},
            "fail",
            date(2026, 1, 6),
            id="opposite sides a month apart are not a pair so a 5th facet in 12 months is refused",
        ),
        pytest.param(
            "2025-02-06",
            {"special_circumstances": True},
            "pass",
            None,
            id="special circumstances lift the facet cap",
        ),
    ],
)
def test_facet_annual_cap(
    pair_second: str, clinical: dict, expected: str, next_date: date | None
) -> None:
    facts = {"pain_score": 7, "active_conservative_therapy": True} | clinical
    # A therapeutic 5th procedure: a diagnostic one past the diagnostic phase (the first 2 of
    # the episode) is refused by nia.facet.diagnostic_phase_max whatever the cap says.
    d = decide(
        four_facets(pair_second),
        "2025-07-28",
        FACET,
        intent="therapeutic",
        levels=LV,
        clinical=facts,
    )
    assert status(d, "nia.facet.annual_cap") == expected
    assert d.next_eligible_date == next_date


# ---------------------------------------------------------------------------------- rfa


@pytest.mark.parametrize(
    "relief, expected",
    [
        pytest.param(
            [70], "pass", id="first rfa after a diagnostic block with 70% relief is allowed"
        ),
        pytest.param(
            [69], "fail", id="first rfa after a diagnostic block with 69% relief is refused"
        ),
        pytest.param(
            [60, 90], "fail", id="first rfa judges the diagnostic block's earliest outcome"
        ),
        pytest.param(
            [], "missing", id="first rfa after a diagnostic block without outcome is missing"
        ),
    ],
)
def test_rfa_needs_a_diagnostic_block(relief: list[float], expected: str) -> None:
    h = History().procedure("f1", "2025-01-06", FACET, intent="diagnostic", levels=LV)
    for i, r in enumerate(relief):
        h.outcome("f1", f"2025-01-0{7 + i}", r)
    d = decide(h, "2025-02-03", RFA, levels=LV)
    assert status(d, "nia.rfa.diagnostic_block_prerequisite") == expected


def test_first_rfa_without_any_diagnostic_block_is_refused() -> None:
    h = History().procedure("f1", "2025-01-06", FACET, intent="therapeutic", levels=LV)
    h.outcome("f1", "2025-01-07", 90)
    d = decide(h, "2025-02-03", RFA, levels=LV)
    assert status(d, "nia.rfa.diagnostic_block_prerequisite") == "fail"
    assert d.next_eligible_date is None


def one_rfa(laterality: str = "left", relief_on: str | None = None) -> History:
    h = History().procedure("f1", "2025-01-06", FACET, intent="diagnostic", levels=LV)
    h.outcome("f1", "2025-01-07", 90)
    h.procedure("r1", "2025-02-03", RFA, laterality=laterality, levels=LV)
    return h if relief_on is None else h.outcome("r1", relief_on, 60)


@pytest.mark.parametrize(
    "on, relief_on, expected, next_date",
    [
        pytest.param(
            "2025-06-02",
            "2025-05-01",
            "fail",
            date(2025, 6, 3),
            id="repeat rfa before 4 months of relief is refused until previous plus 4 months",
        ),
        pytest.param(
            "2025-06-03",
            "2025-06-03",
            "pass",
            None,
            id="repeat rfa after 50% relief sustained 4 months is allowed",
        ),
    ],
)
def test_repeat_rfa_sustained_relief(
    on: str, relief_on: str, expected: str, next_date: date | None
) -> None:
    d = decide(one_rfa(relief_on=relief_on), on, RFA, laterality="left", levels=LV)
    assert status(d, "nia.rfa.repeat_sustained_relief") == expected
    assert d.next_eligible_date == next_date


@pytest.mark.parametrize(
    "on, exempt",
    [
        pytest.param(
            "2025-03-02", True, id="opposite side rfa within 1 month needs no outcome or interval"
        ),
        pytest.param(
            "2025-03-03", False, id="opposite side rfa 1 month later needs sustained relief again"
        ),
    ],
)
def test_rfa_opposite_side(on: str, exempt: bool) -> None:
    d = decide(one_rfa(), on, RFA, laterality="right", levels=LV)
    assert status(d, "nia.rfa.opposite_side") == ("pass" if exempt else None)
    assert status(d, "nia.rfa.repeat_sustained_relief") == (None if exempt else "fail")


def test_rfa_cap_counts_a_bilateral_pair_once() -> None:
    h = one_rfa().procedure("r2", "2025-02-17", RFA, laterality="right", levels=LV)
    h.outcome("r1", "2025-06-03", 80).outcome("r2", "2025-06-17", 80)
    d = decide(h, "2025-06-17", RFA, laterality="left", levels=LV)
    assert status(d, "nia.rfa.annual_cap") == "pass"
    h.procedure("r3", "2025-06-17", RFA, laterality="left", levels=LV).outcome(
        "r3", "2025-10-17", 80
    )
    d = decide(h, "2025-10-17", RFA, levels=LV, laterality="left")
    assert status(d, "nia.rfa.annual_cap") == "fail"
    # 2026-02-03 drops the pair's left member, but the right one (2025-02-17) still counts
    # until it leaves the 12 months on 2026-02-17.
    assert d.next_eligible_date == date(2026, 2, 17)
