"""nia sij (NIA_CG_305), sympathetic (NIA_CG_404) and the rules common to the injection
guidelines (episodes, same day, different regions within 7 days)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.policies.conftest import History, decide, reason, status

SIJ = ("27096",)
TF = ("64483",)
FACET = ("64493",)
CERV_ESI = ("64479",)
STELLATE = ("64510",)
LUMBAR_SYMP = ("64520",)


def sij_once(relief: float | None = 80) -> History:
    h = History().procedure("s1", "2025-01-06", SIJ)
    return h if relief is None else h.outcome("s1", "2025-01-07", relief)


@pytest.mark.parametrize(
    "on, relief, rule, expected",
    [
        pytest.param(
            "2025-01-19",
            80,
            "nia.sij.initial_interval",
            "fail",
            id="2nd SIJ 13 days after the first is refused",
        ),
        pytest.param(
            "2025-01-20",
            80,
            "nia.sij.initial_interval",
            "pass",
            id="2nd SIJ 14 days after the first is allowed",
        ),
        pytest.param(
            "2025-01-20",
            50,
            "nia.sij.initial_response",
            "pass",
            id="2nd SIJ after 50% relief is allowed",
        ),
        pytest.param(
            "2025-01-20",
            49,
            "nia.sij.initial_response",
            "fail",
            id="2nd SIJ after 49% relief is refused",
        ),
        pytest.param(
            "2025-01-20",
            None,
            "nia.sij.initial_response",
            "missing",
            id="2nd SIJ without an outcome is missing",
        ),
    ],
)
def test_sij_initial_phase(on: str, relief: float | None, rule: str, expected: str) -> None:
    assert status(decide(sij_once(relief), on, SIJ), rule) == expected


@pytest.mark.parametrize(
    "on, relief_on, expected, next_date",
    [
        pytest.param(
            "2025-05-19",
            "2025-04-01",
            "fail",
            date(2025, 5, 20),
            id="3rd SIJ the day before 2 months of relief is refused",
        ),
        pytest.param(
            "2025-05-20",
            "2025-05-20",
            "pass",
            None,
            id="3rd SIJ after 50% relief sustained 2 months is allowed",
        ),
    ],
)
def test_sij_sustained_relief(
    on: str, relief_on: str, expected: str, next_date: date | None
) -> None:
    h = sij_once().procedure("s2", "2025-03-20", SIJ).outcome("s2", relief_on, 70)
    d = decide(h, on, SIJ)
    assert status(d, "nia.sij.therapeutic_sustained_relief") == expected
    assert d.next_eligible_date == next_date


def test_5th_sij_in_12_months_is_refused_until_the_oldest_leaves() -> None:
    h = sij_once()
    for i, (day, seen) in enumerate(
        (("2025-01-20", "2025-01-21"), ("2025-03-20", "2025-05-20"), ("2025-05-20", "2025-07-20")),
        2,
    ):
        h.procedure(f"s{i}", day, SIJ).outcome(f"s{i}", seen, 80)
    d = decide(h, "2025-07-20", SIJ)
    assert status(d, "nia.sij.annual_cap") == "fail"
    assert d.next_eligible_date == date(2026, 1, 6)
    assert status(decide(h, "2026-01-06", SIJ), "nia.sij.annual_cap") == "pass"


@pytest.mark.parametrize(
    "exam, expected",
    [
        pytest.param(
            True,
            "pass",
            id="SIJ after a lumbar ESI since the previous SIJ with a positive provocative exam is allowed",
        ),
        pytest.param(
            False,
            "fail",
            id="SIJ after a lumbar ESI since the previous SIJ without a positive exam is refused",
        ),
        pytest.param(
            None,
            "missing",
            id="SIJ after a lumbar ESI since the previous SIJ with no exam documented is missing",
        ),
    ],
)
def test_sij_provocative_exam(exam: bool | None, expected: str) -> None:
    h = sij_once().procedure("e1", "2025-01-13", TF)
    facts = {"pain_score": 7, "active_conservative_therapy": True}
    if exam is not None:
        facts["positive_provocative_exam"] = exam
    assert (
        status(decide(h, "2025-01-20", SIJ, clinical=facts), "nia.sij.provocative_exam") == expected
    )
    assert (
        status(decide(sij_once(), "2025-01-20", SIJ, clinical=facts), "nia.sij.provocative_exam")
        is None
    )


# ---------------------------------------------------------------------------- sympathetic


@pytest.mark.parametrize(
    "on, expected",
    [
        pytest.param(
            "2025-01-12",
            "fail",
            id="sympathetic block 6 days after one in another region is refused",
        ),
        pytest.param(
            "2025-01-13",
            "pass",
            id="sympathetic block 7 days after one in another region is allowed",
        ),
    ],
)
def test_sympathetic_interval_spans_regions(on: str, expected: str) -> None:
    h = History().procedure("y1", "2025-01-06", STELLATE, region="cervical")
    d = decide(h, on, LUMBAR_SYMP)
    assert status(d, "nia.sympathetic.interval") == expected
    assert status(d, "nia.sympathetic.response") is None  # no previous block in lumbar
    if expected == "fail":
        assert d.next_eligible_date == date(2025, 1, 13)


@pytest.mark.parametrize(
    "reliefs, expected",
    [
        pytest.param([50, 10], "pass", id="repeat block judged by the first outcome of 50%"),
        pytest.param([49, 90], "fail", id="repeat block after a first outcome of 49% is refused"),
        pytest.param([], "missing", id="repeat block without an outcome is missing"),
    ],
)
def test_sympathetic_response(reliefs: list[float], expected: str) -> None:
    h = History().procedure("y1", "2025-01-06", LUMBAR_SYMP)
    for i, r in enumerate(reliefs):
        h.outcome("y1", f"2025-01-0{7 + i}", r)
    assert status(decide(h, "2025-01-20", LUMBAR_SYMP), "nia.sympathetic.response") == expected


def ptsd_blocks(days: list[str]) -> History:
    h = History()
    for i, day in enumerate(days, 1):
        h.procedure(f"y{i}", day, STELLATE, region="cervical", indication="ptsd").outcome(
            f"y{i}", day, 80
        )
    return h


def test_4th_ptsd_block_in_the_first_12_weeks_is_refused_until_week_12() -> None:
    h = ptsd_blocks(["2025-01-06", "2025-01-13", "2025-01-20"])
    d = decide(h, "2025-01-27", STELLATE, region="cervical", indication="ptsd", clinical={})
    assert status(d, "nia.sympathetic.ptsd_caps") == "fail"
    assert status(d, "nia.common.repeat_pain_and_therapy") is None  # not needed for PTSD
    assert d.next_eligible_date == date(2025, 3, 31)  # 2025-01-06 + 12 weeks
    assert (
        status(
            decide(h, "2025-03-31", STELLATE, region="cervical", indication="ptsd"),
            "nia.sympathetic.ptsd_caps",
        )
        == "pass"
    )


def test_7th_ptsd_block_in_12_months_is_refused() -> None:
    h = ptsd_blocks(
        ["2025-01-06", "2025-01-13", "2025-01-20", "2025-04-07", "2025-05-05", "2025-06-02"]
    )
    d = decide(h, "2025-07-07", STELLATE, region="cervical", indication="ptsd")
    assert status(d, "nia.sympathetic.ptsd_caps") == "fail"
    assert d.next_eligible_date == date(2026, 1, 6)


@pytest.mark.parametrize(
    "indication, blocks, expected",
    [
        pytest.param("acute_pain", 5, "pass", id="6th acute pain block in 12 months is allowed"),
        pytest.param("acute_pain", 6, "fail", id="7th acute pain block in 12 months is refused"),
        pytest.param(
            "chronic_pain", 3, "pass", id="4th chronic pain block in 12 months is allowed"
        ),
        pytest.param(
            "chronic_pain", 4, "fail", id="5th chronic pain block in 12 months is refused"
        ),
        pytest.param(
            None, 4, "fail", id="5th block with no indication counts as chronic and is refused"
        ),
    ],
)
def test_sympathetic_caps(indication: str | None, blocks: int, expected: str) -> None:
    h = History()
    for i in range(blocks):
        day = date(2025, 1 + i, 6)
        h.procedure(f"y{i}", day, LUMBAR_SYMP, indication=indication).outcome(f"y{i}", day, 80)
    d = decide(h, "2025-08-04", LUMBAR_SYMP, indication=indication)
    rule = (
        "nia.sympathetic.acute_cap" if indication == "acute_pain" else "nia.sympathetic.chronic_cap"
    )
    assert status(d, rule) == expected
    if expected == "fail":
        assert d.next_eligible_date == date(2026, 1, 6)


# ---------------------------------------------------------------------------- common


@pytest.mark.parametrize(
    "pain, therapy, expected",
    [
        pytest.param(
            6, True, "pass", id="repeat ESI with pain 6 and conservative therapy is allowed"
        ),
        pytest.param(5, True, "fail", id="repeat ESI with pain 5 is refused"),
        pytest.param(7, False, "fail", id="repeat ESI without conservative therapy is refused"),
        pytest.param(None, True, "missing", id="repeat ESI without a pain score is missing"),
    ],
)
def test_repeat_pain_and_therapy(pain: int | None, therapy: bool, expected: str) -> None:
    h = History().procedure("e1", "2025-01-06", TF).outcome("e1", "2025-01-07", 80)
    facts = {"active_conservative_therapy": therapy} | (
        {} if pain is None else {"pain_score": pain}
    )
    assert (
        status(decide(h, "2025-01-20", TF, clinical=facts), "nia.common.repeat_pain_and_therapy")
        == expected
    )


@pytest.mark.parametrize(
    "on, new_episode",
    [
        pytest.param("2027-01-05", False, id="ESI one day short of 2 years continues the episode"),
        pytest.param("2027-01-06", True, id="ESI 2 years after the previous starts a new episode"),
    ],
)
def test_two_year_gap_starts_a_new_episode(on: str, new_episode: bool) -> None:
    h = History().procedure("e1", "2025-01-06", TF).outcome("e1", "2025-03-06", 80)
    d = decide(h, on, TF, clinical={"pain_score": 7, "active_conservative_therapy": True})
    assert d.state.new_episode is new_episode
    assert status(d, "nia.common.initial_criteria") == ("missing" if new_episode else None)


def test_surgery_starts_a_new_episode_and_voided_procedures_count_for_nothing() -> None:
    h = History().procedure("e1", "2025-01-06", TF).surgery("s1", "2025-01-10")
    d = decide(h, "2025-01-12", TF)
    assert d.state.new_episode and d.state.episode_reason == "surgery"
    h2 = History().procedure("e1", "2025-01-06", TF).void("e1")
    assert decide(h2, "2025-01-08", TF).state.position == 1


@pytest.mark.parametrize(
    "region, codes, other_codes, clinical, expected",
    [
        pytest.param(
            "cervical",
            CERV_ESI,
            TF,
            {},
            "fail",
            id="same-day ESI in another region without a medical reason is refused",
        ),
        pytest.param(
            "cervical",
            CERV_ESI,
            TF,
            {"multi_region_medical_reason": True},
            "pass",
            id="same-day ESI in another region with a medical reason is allowed",
        ),
        pytest.param(
            "lumbar",
            FACET,
            TF,
            {"synovial_cyst_confirmed": True},
            "pass",
            id="same-day facet and ESI in one region for a synovial cyst is allowed",
        ),
        pytest.param(
            "lumbar",
            FACET,
            TF,
            {"synovial_cyst_confirmed": False},
            "fail",
            id="same-day facet and ESI in one region without a cyst is refused",
        ),
        pytest.param(
            "lumbar",
            SIJ,
            TF,
            {"synovial_cyst_confirmed": True},
            "fail",
            id="same-day SIJ and ESI in one region is refused",
        ),
    ],
)
def test_same_day(
    region: str, codes: tuple, other_codes: tuple, clinical: dict, expected: str
) -> None:
    h = History().procedure("o1", "2025-01-06", other_codes)
    d = decide(
        h, "2025-01-06", codes, region=region, clinical={"initial_criteria_met": True} | clinical
    )
    assert status(d, "nia.common.same_day") == expected
    if expected == "fail":
        assert d.next_eligible_date is None  # not a time rule


@pytest.mark.parametrize(
    "on, clinical, expected, next_date",
    [
        pytest.param(
            "2025-01-12",
            {},
            "fail",
            date(2025, 1, 13),
            id="cervical ESI 6 days after a lumbar ESI is refused for a day",
        ),
        pytest.param(
            "2025-01-13", {}, "pass", None, id="cervical ESI 7 days after a lumbar ESI is allowed"
        ),
        pytest.param(
            "2025-01-12",
            {"multi_region_medical_reason": True},
            "pass",
            None,
            id="cervical ESI 6 days after a lumbar one with a medical reason is allowed",
        ),
        pytest.param(
            "2025-01-01",
            {},
            "fail",
            date(2025, 1, 13),
            id="cervical ESI 5 days before a recorded lumbar ESI waits until 7 days after it",
        ),
    ],
)
def test_cross_region_7_days(
    on: str, clinical: dict, expected: str, next_date: date | None
) -> None:
    h = History().procedure("e1", "2025-01-06", TF)
    d = decide(
        h, on, CERV_ESI, region="cervical", clinical={"initial_criteria_met": True} | clinical
    )
    assert status(d, "nia.common.cross_region_7_days") == expected
    assert d.next_eligible_date == next_date
    assert reason(d, "nia.common.cross_region_7_days").citation is not None
