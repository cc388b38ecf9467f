"""The criteria the guidelines state beyond intervals, caps and relief (issue 9): exclusions,
code restrictions, phase maxima by intent, per-session limits, device and trial criteria,
contraindications and attested facts. Each rule on both sides, dated ones on their boundary
day. Histories are folded in memory (see ``conftest``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.conftest import GOOD, History, decide, status

UMBRELLA = {"initial_criteria_met": True}


def case(id_: str, *values: Any) -> Any:
    return pytest.param(*values, id=id_)


# ------------------------------------------------------------------------ nia esi (300)


@pytest.mark.parametrize(
    "on, fields, clinical, rule, expected",
    [
        case(
            "post-operative pain control is excluded from the epidural guideline",
            "2024-03-04",
            {"indication": "post_operative_pain"},
            GOOD,
            "nia.esi.exclusion_post_operative",
            "fail",
        ),
        case(
            "an epidural for chronic pain is not post-operative pain control",
            "2024-03-04",
            {"indication": "chronic_pain"},
            GOOD,
            "nia.esi.exclusion_post_operative",
            None,
        ),
        case(
            "spinal anesthesia for surgery is excluded from May 2022 on",
            "2022-05-01",
            {"indication": "surgical_anesthesia"},
            GOOD,
            "nia.esi.exclusion_surgical_anesthesia",
            "fail",
        ),
        case(
            "spinal anesthesia for surgery was not yet excluded the day before May 2022",
            "2022-04-30",
            {"indication": "surgical_anesthesia"},
            GOOD,
            "nia.esi.exclusion_surgical_anesthesia",
            None,
        ),
        case(
            "an attested active infection contraindicates an epidural",
            "2024-03-04",
            {},
            GOOD | {"active_infection": True},
            "nia.esi.contraindications",
            "fail",
        ),
        case(
            "no contraindication attested leaves the epidural to its other rules",
            "2024-03-04",
            {},
            GOOD | {"active_infection": False},
            "nia.esi.contraindications",
            None,
        ),
        case(
            "a diagnostic epidural by the interlaminar route is not an indication",
            "2024-03-04",
            {"intent": "diagnostic", "codes": ("62323",)},
            GOOD,
            "nia.esi.diagnostic_transforaminal_only",
            "fail",
        ),
        case(
            "a diagnostic transforaminal epidural is the diagnostic indication",
            "2024-03-04",
            {"intent": "diagnostic"},
            GOOD,
            "nia.esi.diagnostic_transforaminal_only",
            "pass",
        ),
        case(
            "a diagnostic transforaminal epidural without a surgical plan is refused",
            "2024-03-04",
            {"intent": "diagnostic"},
            GOOD | {"surgical_plan_documented": False},
            "nia.esi.diagnostic_surgical_plan",
            "fail",
        ),
        case(
            "a diagnostic transforaminal epidural with no word on the surgical plan is pending",
            "2024-03-04",
            {"intent": "diagnostic"},
            {"pain_score": 7},
            "nia.esi.diagnostic_surgical_plan",
            "missing",
        ),
        case(
            "acute pain of 3 months is no longer acute pain",
            "2024-03-04",
            {"indication": "acute_pain"},
            GOOD | {"pain_duration_weeks": 13},
            "nia.esi.acute_pain_criteria",
            "fail",
        ),
        case(
            "acute pain of 12 weeks after 2 weeks of therapy meets the acute criteria",
            "2024-03-04",
            {"indication": "acute_pain"},
            GOOD | {"pain_duration_weeks": 12, "conservative_therapy_weeks": 2},
            "nia.esi.acute_pain_criteria",
            "pass",
        ),
        case(
            "a stated pain of 5/10 without functional disability fails the initial criteria",
            "2024-03-04",
            {},
            UMBRELLA | {"pain_score": 5},
            "nia.common.initial_pain",
            "fail",
        ),
        case(
            "pain causing functional disability meets the initial criteria at 5/10",
            "2024-03-04",
            {},
            UMBRELLA | {"pain_score": 5, "functional_disability": True},
            "nia.common.initial_pain",
            "pass",
        ),
        case(
            "five weeks of conservative therapy are short of the six the guideline asks",
            "2024-03-04",
            {},
            UMBRELLA | {"conservative_therapy_weeks": 5},
            "nia.common.initial_conservative_therapy",
            "fail",
        ),
        case(
            "six weeks of failed conservative therapy meet the initial criteria",
            "2024-03-04",
            {},
            UMBRELLA | {"conservative_therapy_weeks": 6},
            "nia.common.initial_conservative_therapy",
            "pass",
        ),
    ],
)
def test_epidural_criteria(
    on: str, fields: dict, clinical: dict, rule: str, expected: str | None
) -> None:
    codes = fields.pop("codes", ("64483",))
    d = decide(History(), on, codes, clinical=clinical, levels=("L4-L5",), **fields)
    assert status(d, rule) == expected, d.reasons


def esi_history() -> History:
    h = History()
    for i, day in enumerate(("2024-01-08", "2024-01-29", "2024-02-19"), 1):
        h.procedure(f"e{i}", day, intent="diagnostic", levels=("L4-L5",)).outcome(f"e{i}", day, 60)
    return h


def test_a_fourth_diagnostic_epidural_of_the_episode_is_past_the_three_allowed() -> None:
    d = decide(esi_history(), "2024-05-06", intent="diagnostic", levels=("L4-L5",))
    assert status(d, "nia.esi.diagnostic_max") == "fail"
    assert d.decision == "not_eligible"


def test_a_third_diagnostic_epidural_is_within_the_initial_phase() -> None:
    h = History().procedure("e1", "2024-01-08", intent="diagnostic", levels=("L4-L5",))
    h.outcome("e1", "2024-01-10", 60)
    h.procedure("e2", "2024-01-29", intent="diagnostic", levels=("L4-L5",))
    h.outcome("e2", "2024-01-31", 60)
    d = decide(h, "2024-02-19", intent="diagnostic", levels=("L4-L5",))
    assert status(d, "nia.esi.diagnostic_max") == "pass"


@pytest.mark.parametrize(
    "clinical, expected",
    [
        case(
            "pain of 4/10 alone fails the repeat criteria",
            {"pain_score": 4, "active_conservative_therapy": True},
            "fail",
        ),
        case(
            "pain of 4/10 causing functional disability meets them",
            {"pain_score": 4, "functional_disability": True, "active_conservative_therapy": True},
            "pass",
        ),
        case(
            "a documented reason therapy cannot be done replaces ongoing therapy",
            {
                "pain_score": 7,
                "active_conservative_therapy": False,
                "conservative_therapy_exception": True,
            },
            "pass",
        ),
        case(
            "no ongoing therapy and no reason fails",
            {"pain_score": 7, "active_conservative_therapy": False},
            "fail",
        ),
        case("nothing stated is pending documentation", {}, "missing"),
    ],
)
def test_repeat_pain_and_therapy(clinical: dict, expected: str) -> None:
    h = History().procedure("e1", "2024-01-08", levels=("L4-L5",)).outcome("e1", "2024-01-20", 60)
    d = decide(h, "2024-02-05", clinical=clinical, levels=("L4-L5",))
    assert status(d, "nia.common.repeat_pain_and_therapy") == expected


# ------------------------------------------------------------------------ nia facet (301)

CERVICAL_FACET = ("64490",)


@pytest.mark.parametrize(
    "on, codes, region, levels, rule, expected",
    [
        case(
            "a C1-2 (atlantoaxial) injection is excluded from May 2023",
            "2023-05-01",
            CERVICAL_FACET,
            "cervical",
            ("C1-C2",),
            "nia.facet.exclusion_atlantoaxial",
            "fail",
        ),
        case(
            "a C1-2 injection the day before May 2023 was not yet excluded",
            "2023-04-30",
            CERVICAL_FACET,
            "cervical",
            ("C1-C2",),
            "nia.facet.exclusion_atlantoaxial",
            None,
        ),
        case(
            "a C2-3 facet injection is not atlantoaxial",
            "2023-05-01",
            CERVICAL_FACET,
            "cervical",
            ("C2-C3",),
            "nia.facet.exclusion_atlantoaxial",
            None,
        ),
        case(
            "a sacral lateral branch block (S1-S2) is excluded from May 2022",
            "2022-05-01",
            ("64493",),
            "lumbar",
            ("S1-S2",),
            "nia.facet.exclusion_sacral_lateral_branch",
            "fail",
        ),
        case(
            "a sacral lateral branch block the day before May 2022 was not yet excluded",
            "2022-04-30",
            ("64493",),
            "lumbar",
            ("S1-S2",),
            "nia.facet.exclusion_sacral_lateral_branch",
            None,
        ),
        case(
            "the L5-S1 facet joint is not a sacral lateral branch",
            "2022-05-01",
            ("64493",),
            "lumbar",
            ("L5-S1",),
            "nia.facet.exclusion_sacral_lateral_branch",
            None,
        ),
        case(
            "an ultrasound-guided facet block the day before May 2022 was not an option",
            "2022-04-30",
            ("0216T",),
            "lumbar",
            ("L4-L5",),
            "nia.facet.fluoroscopic_or_ct_before_2022",
            "fail",
        ),
        case(
            "an ultrasound-guided facet block from May 2022 is an option",
            "2022-05-01",
            ("0216T",),
            "lumbar",
            ("L4-L5",),
            "nia.facet.fluoroscopic_or_ct_before_2022",
            None,
        ),
        case(
            "a fluoroscopic facet block before May 2022 was fine",
            "2022-04-30",
            ("64493",),
            "lumbar",
            ("L4-L5",),
            "nia.facet.fluoroscopic_or_ct_before_2022",
            "pass",
        ),
    ],
)
def test_facet_exclusions(
    on: str, codes: tuple, region: str, levels: tuple, rule: str, expected: str | None
) -> None:
    d = decide(History(), on, codes, region=region, levels=levels, intent="diagnostic")
    assert status(d, rule) == expected, d.reasons


def test_no_percutaneous_access_contraindicates_a_facet_injection() -> None:
    d = decide(
        History(),
        "2024-03-04",
        ("64493",),
        levels=("L4-L5",),
        clinical=GOOD | {"no_percutaneous_access": True},
    )
    assert status(d, "nia.facet.contraindications") == "fail"


def two_diagnostic_blocks(h: History | None = None) -> History:
    h = h or History()
    h.procedure("f1", "2024-01-08", ("64493",), intent="diagnostic", levels=("L4-L5",))
    h.outcome("f1", "2024-01-08", 80)
    h.procedure("f2", "2024-01-22", ("64493",), intent="diagnostic", levels=("L4-L5",))
    h.outcome("f2", "2024-01-22", 80)
    return h


@pytest.mark.parametrize(
    "rfa_relief, levels, clinical, expected",
    [
        case(
            "a third diagnostic facet block without denervation is past the phase",
            None,
            ("L4-L5",),
            GOOD,
            "fail",
        ),
        case(
            "after a successful denervation other levels may be blocked again",
            70,
            ("L3-L4",),
            GOOD,
            "pass",
        ),
        case(
            "after a successful denervation a pain generator in question allows it",
            70,
            ("L4-L5",),
            GOOD | {"pain_generator_in_question": True},
            "pass",
        ),
        case(
            "after a successful denervation the same levels without a question are refused",
            70,
            ("L4-L5",),
            GOOD,
            "fail",
        ),
        case(
            "after an unsuccessful denervation the phase maximum holds",
            20,
            ("L3-L4",),
            GOOD,
            "fail",
        ),
    ],
)
def test_facet_diagnostic_phase_maximum(
    rfa_relief: float | None, levels: tuple, clinical: dict, expected: str
) -> None:
    h = two_diagnostic_blocks()
    if rfa_relief is not None:
        h.procedure("r1", "2024-02-05", ("64635",), levels=("L4-L5",))
        h.outcome("r1", "2024-06-10", rfa_relief)
    d = decide(h, "2024-07-01", ("64493",), intent="diagnostic", levels=levels, clinical=clinical)
    assert status(d, "nia.facet.diagnostic_phase_max") == expected, d.reasons


def test_a_second_diagnostic_facet_block_is_within_the_diagnostic_phase() -> None:
    h = (
        History()
        .procedure("f1", "2024-01-08", ("64493",), intent="diagnostic", levels=("L4-L5",))
        .outcome("f1", "2024-01-08", 80)
    )
    d = decide(h, "2024-01-22", ("64493",), intent="diagnostic", levels=("L4-L5",))
    assert status(d, "nia.facet.diagnostic_phase_max") == "pass"


# ------------------------------------------------------------------------ nia rfa (302)


@pytest.mark.parametrize(
    "on, levels, clinical, rule, expected",
    [
        case(
            "sacral lateral branch denervation is excluded from May 2022",
            "2022-05-01",
            ("S1-S2",),
            GOOD,
            "nia.rfa.exclusion_sacral",
            "fail",
        ),
        case(
            "sacral denervation the day before May 2022 was not yet excluded",
            "2022-04-30",
            ("S1-S2",),
            GOOD,
            "nia.rfa.exclusion_sacral",
            None,
        ),
        case(
            "pain of 12 weeks is short of the 3 months denervation asks",
            "2024-03-04",
            ("L4-L5",),
            UMBRELLA | {"pain_duration_weeks": 12},
            "nia.common.initial_duration",
            "fail",
        ),
        case(
            "pain of 13 weeks meets the 3 months",
            "2024-03-04",
            ("L4-L5",),
            UMBRELLA | {"pain_duration_weeks": 13},
            "nia.common.initial_duration",
            "pass",
        ),
        case(
            "a needle-site infection contraindicates denervation",
            "2024-03-04",
            ("L4-L5",),
            GOOD | {"needle_site_infection": True},
            "nia.rfa.contraindications",
            "fail",
        ),
    ],
)
def test_denervation_criteria(
    on: str, levels: tuple, clinical: dict, rule: str, expected: str | None
) -> None:
    d = decide(History(), on, ("64635",), levels=levels, clinical=clinical)
    assert status(d, rule) == expected, d.reasons


def test_an_infection_contraindicates_a_sacroiliac_injection() -> None:
    d = decide(History(), "2024-03-04", ("27096",), clinical=GOOD | {"active_infection": True})
    assert status(d, "nia.sij.contraindications") == "fail"
    assert d.decision == "not_eligible"


# ------------------------------------------------------------------------ nia sympathetic (404)


@pytest.mark.parametrize(
    "on, code, fields, clinical, rule, expected",
    [
        case(
            "a lumbar sympathetic block is not the block for PTSD",
            "2024-03-04",
            "64520",
            {"indication": "ptsd"},
            GOOD,
            "nia.sympathetic.ptsd_stellate_only",
            "fail",
        ),
        case(
            "a stellate ganglion block treats PTSD",
            "2024-03-04",
            "64510",
            {"indication": "ptsd"},
            GOOD,
            "nia.sympathetic.ptsd_stellate_only",
            "pass",
        ),
        case(
            "a bilateral block for chronic pain does not fit pain in one extremity",
            "2024-03-04",
            "64520",
            {"indication": "chronic_pain", "laterality": "bilateral"},
            GOOD,
            "nia.sympathetic.chronic_one_extremity",
            "fail",
        ),
        case(
            "a bilateral block for ischemic limb pain is indicated",
            "2024-03-04",
            "64520",
            {"indication": "chronic_pain", "laterality": "bilateral"},
            GOOD | {"ischemic_limb_pain": True},
            "nia.sympathetic.chronic_one_extremity",
            "pass",
        ),
        case(
            "a left block for chronic pain fits pain in one extremity",
            "2024-03-04",
            "64520",
            {"indication": "chronic_pain", "laterality": "left"},
            GOOD,
            "nia.sympathetic.chronic_one_extremity",
            None,
        ),
        case(
            "sympathetic contraindications apply from May 2022",
            "2022-05-01",
            "64520",
            {},
            GOOD | {"active_infection": True},
            "nia.sympathetic.contraindications",
            "fail",
        ),
        case(
            "sympathetic contraindications did not exist the day before May 2022",
            "2022-04-30",
            "64520",
            {},
            GOOD | {"active_infection": True},
            "nia.sympathetic.contraindications",
            None,
        ),
        case(
            "acute pain for 13 weeks is not acute",
            "2024-03-04",
            "64520",
            {"indication": "acute_pain"},
            UMBRELLA | {"pain_duration_weeks": 13},
            "nia.sympathetic.acute_pain_criteria",
            "fail",
        ),
        case(
            "acute pain for 12 weeks is acute",
            "2024-03-04",
            "64520",
            {"indication": "acute_pain"},
            UMBRELLA | {"pain_duration_weeks": 12},
            "nia.sympathetic.acute_pain_criteria",
            "pass",
        ),
        case(
            "chronic pain for 12 weeks is not yet chronic",
            "2024-03-04",
            "64520",
            {"indication": "chronic_pain"},
            UMBRELLA | {"pain_duration_weeks": 12},
            "nia.sympathetic.chronic_pain_duration",
            "fail",
        ),
        case(
            "chronic pain for 13 weeks is chronic",
            "2024-03-04",
            "64520",
            {"indication": "chronic_pain"},
            UMBRELLA | {"pain_duration_weeks": 13},
            "nia.sympathetic.chronic_pain_duration",
            "pass",
        ),
    ],
)
def test_sympathetic_criteria(
    on: str, code: str, fields: dict, clinical: dict, rule: str, expected: str | None
) -> None:
    d = decide(History(), on, (code,), clinical=clinical, **fields)
    assert status(d, rule) == expected, d.reasons


# ------------------------------------------------------------------------ nia scs (405)


@pytest.mark.parametrize(
    "on, clinical, rule, expected",
    [
        case(
            "a stimulator trial without a psychological assessment is refused",
            "2024-03-04",
            UMBRELLA | {"psychological_assessment_completed": False},
            "nia.scs.psychological_assessment",
            "fail",
        ),
        case(
            "a stimulator trial with the assessment stated passes",
            "2024-03-04",
            {"psychological_assessment_completed": True},
            "nia.scs.psychological_assessment",
            "pass",
        ),
        case(
            "a stimulator trial with nothing stated about it is pending",
            "2024-03-04",
            {},
            "nia.scs.psychological_assessment",
            "missing",
        ),
        case(
            "25 weeks of conservative therapy are short of 6 months",
            "2024-03-04",
            UMBRELLA | {"conservative_therapy_weeks": 25},
            "nia.scs.trial_requirements",
            "fail",
        ),
        case(
            "26 weeks of conservative therapy are 6 months",
            "2024-03-04",
            UMBRELLA | {"conservative_therapy_weeks": 26},
            "nia.scs.trial_requirements",
            "pass",
        ),
        case(
            "insufficient body habitus contraindicates a trial from May 2022",
            "2022-05-01",
            UMBRELLA | {"insufficient_body_habitus": True},
            "nia.scs.contraindications",
            "fail",
        ),
        case(
            "the contraindications section did not exist the day before May 2022",
            "2022-04-30",
            UMBRELLA | {"insufficient_body_habitus": True},
            "nia.scs.contraindications",
            None,
        ),
    ],
)
def test_stimulator_trial_criteria(on: str, clinical: dict, rule: str, expected: str) -> None:
    d = decide(History(), on, ("63650",), intent="trial", clinical=clinical)
    assert status(d, rule) == expected, d.reasons


# ------------------------------------------------------------------------ nia trials (408)


@pytest.mark.parametrize(
    "agent, clinical, rule, expected",
    [
        case(
            "11 weeks of conservative therapy are short of the 12 a pain trial asks",
            "opioid",
            {"opioid_naive": False, "conservative_therapy_weeks": 11},
            "nia.intrathecal_trial.pain_criteria",
            "fail",
        ),
        case(
            "12 weeks of conservative therapy meet them",
            "opioid",
            {"opioid_naive": False, "conservative_therapy_weeks": 12},
            "nia.intrathecal_trial.pain_criteria",
            "pass",
        ),
        case(
            "11 weeks of standard therapies are short for a spasticity trial",
            "antispasmodic",
            {"conservative_therapy_weeks": 11},
            "nia.intrathecal_trial.spasticity_criteria",
            "fail",
        ),
        case(
            "an infection at the puncture site contraindicates a trial",
            "opioid",
            {"opioid_naive": False, "needle_site_infection": True},
            "nia.intrathecal_trial.contraindications",
            "fail",
        ),
    ],
)
def test_intrathecal_trial_criteria(agent: str, clinical: dict, rule: str, expected: str) -> None:
    d = decide(
        History(),
        "2024-03-04",
        ("62327",),
        indication="intrathecal_trial",
        agent=agent,
        clinical=clinical,
    )
    assert status(d, rule) == expected, d.reasons


# ------------------------------------------------------------------------ nia pump (310)


def pump_trial(relief: float, functional: bool = False, agent: str = "opioid") -> History:
    h = History().procedure(
        "t1", "2021-11-01", ("62327",), indication="intrathecal_trial", agent=agent
    )
    return h.outcome("t1", "2021-11-02", relief, functional)


@pytest.mark.parametrize(
    "history, on, indication, clinical, rule, expected",
    [
        case(
            "a trial with function improved but 30% pain relief does not qualify",
            pump_trial(30, functional=True),
            "2024-03-04",
            None,
            {},
            "nia.pump.implant_after_trial",
            "fail",
        ),
        case(
            "a trial with 50% pain relief qualifies",
            pump_trial(50),
            "2024-03-04",
            None,
            {},
            "nia.pump.implant_after_trial",
            "pass",
        ),
        case(
            "an opioid trial does not qualify a pump for spasticity",
            pump_trial(80),
            "2024-03-04",
            "spasticity",
            {},
            "nia.pump.spasticity_trial",
            "fail",
        ),
        case(
            "an antispasmodic trial with 50% spasm relief qualifies it",
            pump_trial(50, agent="antispasmodic"),
            "2024-03-04",
            "spasticity",
            {},
            "nia.pump.spasticity_trial",
            "pass",
        ),
        case(
            "11 weeks of opiate medication are short from May 2022",
            pump_trial(60),
            "2022-05-01",
            None,
            {"opioid_medication_weeks": 11},
            "nia.pump.opioid_medication",
            "fail",
        ),
        case(
            "12 weeks of opiate medication meet it",
            pump_trial(60),
            "2022-05-01",
            None,
            {"opioid_medication_weeks": 12},
            "nia.pump.opioid_medication",
            "pass",
        ),
        case(
            "the opiate medication requirement did not exist the day before May 2022",
            pump_trial(60),
            "2022-04-30",
            None,
            {"opioid_medication_weeks": 11},
            "nia.pump.opioid_medication",
            None,
        ),
        case(
            "a life expectancy of 2 months was too short until May 2023",
            pump_trial(60),
            "2023-04-30",
            None,
            {"life_expectancy_months": 2},
            "nia.pump.life_expectancy",
            "fail",
        ),
        case(
            "the life expectancy language was removed in May 2023",
            pump_trial(60),
            "2023-05-01",
            None,
            {"life_expectancy_months": 2},
            "nia.pump.life_expectancy",
            None,
        ),
        case(
            "before May 2022 a pain level without functional disability did not qualify",
            pump_trial(60),
            "2022-04-30",
            None,
            {"pain_score": 8, "functional_disability": False},
            "nia.pump.pain_level",
            "fail",
        ),
        case(
            "from May 2022 a persistent pain level of 6 qualifies",
            pump_trial(60),
            "2022-05-01",
            None,
            {"pain_score": 8, "functional_disability": False},
            "nia.pump.pain_level",
            "pass",
        ),
        case(
            "a pump without a psychological assessment is refused",
            pump_trial(60),
            "2024-03-04",
            None,
            {"psychological_assessment_completed": False},
            "nia.pump.implant_requirements",
            "fail",
        ),
        case(
            "intrathecal treatment for acute pain has no indication",
            pump_trial(60),
            "2024-03-04",
            "acute_pain",
            {},
            "nia.pump.other_indications",
            "fail",
        ),
        case(
            "intrathecal treatment for chronic pain is indicated",
            pump_trial(60),
            "2024-03-04",
            "chronic_pain",
            {},
            "nia.pump.other_indications",
            None,
        ),
    ],
)
def test_pump_implant_criteria(
    history: History,
    on: str,
    indication: str | None,
    clinical: dict,
    rule: str,
    expected: str | None,
) -> None:
    d = decide(history, on, ("62362",), intent="implant", indication=indication, clinical=clinical)
    assert status(d, rule) == expected, d.reasons


# ------------------------------------------------------------------------ nia-wa


def wa(on: str, codes: tuple, clinical: dict, **fields: Any) -> Any:
    return decide(History(), on, codes, clinical=clinical, policy_set="nia-wa", **fields)


@pytest.mark.parametrize(
    "codes, fields, clinical, rule, expected",
    [
        case(
            "62322 is done without imaging guidance: not covered in Washington",
            ("62322",),
            {},
            GOOD,
            "wa.esi.imaging_guidance",
            "fail",
        ),
        case(
            "62323 is done with imaging guidance",
            ("62323",),
            {},
            GOOD,
            "wa.esi.imaging_guidance",
            "pass",
        ),
        case(
            "a diagnostic 62322 is outside the Washington therapeutic limits",
            ("62322",),
            {"intent": "diagnostic"},
            GOOD,
            "wa.esi.imaging_guidance",
            None,
        ),
        case(
            "an epidural for axial (non-radicular) pain is not covered in Washington",
            ("64483",),
            {},
            GOOD | {"radicular_pain": False},
            "wa.esi.radicular_pain",
            "fail",
        ),
        case(
            "an epidural for radicular pain is",
            ("64483",),
            {},
            GOOD | {"radicular_pain": True},
            "wa.esi.radicular_pain",
            "pass",
        ),
        case(
            "an epidural before conservative therapy failed is not covered",
            ("64483",),
            {},
            GOOD | {"conservative_therapy_failed": False},
            "wa.esi.conservative_therapy_failed",
            "fail",
        ),
        case(
            "a sacroiliac injection before conservative therapy failed is not covered",
            ("27096",),
            {},
            GOOD | {"conservative_therapy_failed": False},
            "wa.sij.conservative_therapy_failed",
            "fail",
        ),
        case(
            "a neurotomy for a 17-year-old is not covered",
            ("64635",),
            {"levels": ("L4-L5",)},
            GOOD | {"patient_age": 17},
            "wa.rfa.age",
            "fail",
        ),
        case(
            "a neurotomy for an 18-year-old is",
            ("64635",),
            {"levels": ("L4-L5",)},
            GOOD | {"patient_age": 18},
            "wa.rfa.age",
            "pass",
        ),
        case(
            "25 weeks of pain are short of six months",
            ("64635",),
            {"levels": ("L4-L5",)},
            GOOD | {"pain_duration_weeks": 25},
            "wa.rfa.pain_duration",
            "fail",
        ),
        case(
            "26 weeks of pain are six months",
            ("64635",),
            {"levels": ("L4-L5",)},
            GOOD | {"pain_duration_weeks": 26},
            "wa.rfa.pain_duration",
            "pass",
        ),
        case(
            "radicular pain is not what neurotomy covers",
            ("64635",),
            {"levels": ("L4-L5",)},
            GOOD | {"radicular_pain": True},
            "wa.rfa.non_radicular",
            "fail",
        ),
        case(
            "cervical neurotomy for headache is not covered",
            ("64633",),
            {"levels": ("C3-C4",), "region": "cervical", "indication": "headache"},
            GOOD,
            "wa.rfa.headache_not_covered",
            "fail",
        ),
        case(
            "cervical neurotomy for chronic neck pain is not excluded as headache",
            ("64633",),
            {"levels": ("C3-C4",), "region": "cervical", "indication": "chronic_pain"},
            GOOD,
            "wa.rfa.headache_not_covered",
            None,
        ),
    ],
)
def test_washington_conditions(
    codes: tuple, fields: dict, clinical: dict, rule: str, expected: str | None
) -> None:
    d = wa("2024-03-04", codes, clinical, **fields)
    assert status(d, rule) == expected, d.reasons


# ------------------------------------------------------------------------ cohere


def neck(codes: tuple, clinical: dict | None = None, **fields: Any) -> Any:
    return decide(
        History(),
        "2024-03-04",
        codes,
        clinical=clinical or {},
        policy_set="cohere",
        region="cervical",
        **fields,
    )


@pytest.mark.parametrize(
    "codes, fields, rule, expected",
    [
        case(
            "two interlaminar injections at once are more than one at a time",
            (("62321", 2),),
            {},
            "cohere.esi.interlaminar_per_session",
            "fail",
        ),
        case(
            "one interlaminar injection at a time",
            ("62321",),
            {"levels": ("C6-C7",)},
            "cohere.esi.interlaminar_per_session",
            "pass",
        ),
        case(
            "a bilateral transforaminal injection at one level is two injections",
            ("64479",),
            {"laterality": "bilateral", "levels": ("C5-C6",)},
            "cohere.esi.transforaminal_per_session",
            "pass",
        ),
        case(
            "bilateral transforaminal injections at two levels are four",
            ("64479", "64480"),
            {"laterality": "bilateral", "levels": ("C5-C6", "C6-C7")},
            "cohere.esi.transforaminal_per_session",
            "fail",
        ),
        case(
            "unilateral transforaminal injections at two adjacent levels are appropriate",
            ("64479", "64480"),
            {"laterality": "left", "levels": ("C5-C6", "C6-C7")},
            "cohere.esi.transforaminal_per_session",
            "pass",
        ),
        case(
            "unilateral transforaminal injections at two levels apart are not",
            ("64479", "64480"),
            {"laterality": "left", "levels": ("C4-C5", "C6-C7")},
            "cohere.esi.transforaminal_per_session",
            "fail",
        ),
        case(
            "three transforaminal levels are more than two at a time",
            ("64479", ("64480", 2)),
            {"laterality": "left"},
            "cohere.esi.transforaminal_per_session",
            "fail",
        ),
        case(
            "62320 is an epidural without image guidance",
            ("62320",),
            {},
            "cohere.esi.image_guidance",
            "fail",
        ),
        case("62321 is with image guidance", ("62321",), {}, "cohere.esi.image_guidance", "pass"),
    ],
)
def test_cohere_epidural_session(codes: tuple, fields: dict, rule: str, expected: str) -> None:
    assert status(neck(codes, **fields), rule) == expected


@pytest.mark.parametrize(
    "codes, clinical, rule, expected",
    [
        case(
            "an epidural within the acute period (4 weeks) is not indicated",
            ("64479",),
            {"pain_duration_weeks": 4},
            "cohere.esi.indications",
            "fail",
        ),
        case(
            "an epidural after 5 weeks is outside the acute period",
            ("64479",),
            {"pain_duration_weeks": 5},
            "cohere.esi.indications",
            "pass",
        ),
        case(
            "indications not stated are named unverified, not refused",
            ("64479",),
            {},
            "cohere.esi.indications",
            "pass",
        ),
        case(
            "steroid hypersensitivity is a non-indication",
            ("64479",),
            {"steroid_hypersensitivity": True},
            "cohere.esi.non_indications",
            "fail",
        ),
        case(
            "12 weeks of conservative care are not more than 12",
            ("64490",),
            {"conservative_therapy_weeks": 12},
            "cohere.facet.indications",
            "fail",
        ),
        case(
            "13 weeks of conservative care are",
            ("64490",),
            {"conservative_therapy_weeks": 13},
            "cohere.facet.indications",
            "pass",
        ),
        case(
            "blood thinners are a facet non-indication",
            ("64490",),
            {"coagulopathy_or_anticoagulation": True},
            "cohere.facet.non_indications",
            "fail",
        ),
        case(
            "a local anesthetic allergy rules out ablation",
            ("64633",),
            {"local_anesthetic_allergy": True},
            "cohere.rfa.non_indications",
            "fail",
        ),
        case(
            "6 weeks of conservative management are not more than 6 for ablation",
            ("64633",),
            {"conservative_therapy_weeks": 6},
            "cohere.rfa.indications",
            "fail",
        ),
    ],
)
def test_cohere_indications(codes: tuple, clinical: dict, rule: str, expected: str) -> None:
    assert status(neck(codes, clinical), rule) == expected


def test_a_first_cyst_aspiration_needs_imaging_of_the_compression() -> None:
    d = neck(("64999",), {"imaging_confirms_target": False}, indication="facet_cyst_aspiration")
    assert status(d, "cohere.cyst.indications") == "fail"
    d = neck(("64999",), {"imaging_confirms_target": True}, indication="facet_cyst_aspiration")
    assert status(d, "cohere.cyst.indications") == "pass"


# ------------------------------------------------------------------------ cohere-ma


@pytest.mark.parametrize(
    "indication, clinical, rule, expected",
    [
        case(
            "a trial with intolerable side effects does not qualify a pump",
            "chronic_pain",
            {"trial_side_effects_tolerable": False},
            "cohere_ma.pump.tolerance",
            "fail",
        ),
        case(
            "a life expectancy of 2 months is short of three for cancer pain",
            "cancer_pain",
            {"life_expectancy_months": 2},
            "cohere_ma.cancer_pain.criteria",
            "fail",
        ),
        case(
            "a life expectancy of 3 months meets it",
            "cancer_pain",
            {"life_expectancy_months": 3},
            "cohere_ma.cancer_pain.criteria",
            "pass",
        ),
        case(
            "systemic opioids that still work rule out a pump for non-malignant pain",
            "chronic_pain",
            {"systemic_opioids_failed": False},
            "cohere_ma.non_malignant.criteria",
            "fail",
        ),
        case(
            "oral antispasmodics that still work rule out a pump for spasticity",
            "spasticity",
            {"oral_antispasmodics_failed": False},
            "cohere_ma.spasticity.criteria",
            "fail",
        ),
        case(
            "another programmable device is a contraindication",
            "chronic_pain",
            {"other_programmable_device": True},
            "cohere_ma.pump.contraindications",
            "fail",
        ),
    ],
)
def test_cohere_ma_pump_criteria(indication: str, clinical: dict, rule: str, expected: str) -> None:
    h = pump_trial(80)
    d = decide(
        h,
        "2024-07-01",
        ("62362",),
        intent="implant",
        indication=indication,
        clinical=clinical,
        policy_set="cohere-ma",
    )
    assert status(d, rule) == expected, d.reasons
