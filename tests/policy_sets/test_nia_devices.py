"""nia devices and trials: spinal cord stimulation (NIA_CG_405), implantable infusion pumps
(NIA_CG_310) and single-injection intrathecal trials (NIA_CG_408), from the guideline text.

"A permanent spinal cord stimulator is appropriate when ... a successful trial of the temporary
SCS device providing at least 50% reduction in pain and significant functional improvement for
a minimum duration of 3 days ... The same type of stimulator device will be used."
"""

from __future__ import annotations

from tests.builders import outcome, procedure
from tests.policy_sets.conftest import Desk

NIA_FILE = "002_fc2de44da7ae47dd.txt"
SCS_REASONS = (
    "lead_migration",
    "loss_of_effectiveness",
    "intolerance",
    "infection",
    "painful_generator_site",
    "neurological_deficit",
    "patient_demand",
)


def scs_trial(
    desk: Desk,
    *,
    on: str = "2026-01-05",
    device: str = "paresthesia-8",
    relief: float | None = 60,
    assessed: str = "2026-01-08",
    functional: bool = True,
    region: str = "thoracic",
) -> None:
    events = [
        procedure(
            "scs-trial", on=on, region=region, codes=["63650"], intent="trial", device_type=device
        )
    ]
    if relief is not None:
        events.append(
            outcome(
                "scs-trial-out",
                of="scs-trial",
                on=assessed,
                relief=relief,
                functional_improvement=functional,
            )
        )
    desk.record(*events)


def ask_implant(
    desk: Desk,
    *,
    on: str = "2026-02-02",
    device: str = "paresthesia-8",
    region: str = "thoracic",
    **clinical: object,
):
    return desk.ask(
        "nia",
        on,
        ["63685"],
        region=region,
        intent="implant",
        device_type=device,
        clinical=dict(clinical),
    )


# ---------------------------------------------------------------------------- scs trial


def test_an_scs_trial_meeting_the_initial_criteria_is_eligible(desk: Desk) -> None:
    answer = desk.ask(
        "nia",
        "2026-01-05",
        ["63650"],
        region="thoracic",
        intent="trial",
        device_type="paresthesia-8",
        clinical={"initial_criteria_met": True},
    )
    assert answer.decision == "eligible", answer
    assert answer.status_of("nia.scs.trial_criteria") == "pass"
    assert answer.policy["guideline"] == "NIA_CG_405"
    assert answer.policy["source"] == NIA_FILE


def test_an_scs_trial_not_meeting_the_initial_criteria_is_refused(desk: Desk) -> None:
    answer = desk.ask(
        "nia",
        "2026-01-05",
        ["63650"],
        region="thoracic",
        intent="trial",
        clinical={"initial_criteria_met": False},
    )
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.scs.trial_criteria") == "fail"
    assert answer.next_eligible_date is None


def test_an_scs_trial_without_attested_initial_criteria_awaits_documentation(desk: Desk) -> None:
    answer = desk.ask("nia", "2026-01-05", ["63650"], region="thoracic", intent="trial")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("nia.scs.trial_criteria") == "missing"


# -------------------------------------------------------------------------- scs implant


def test_a_permanent_stimulator_after_a_successful_trial_of_the_same_device_is_eligible(
    desk: Desk,
) -> None:
    scs_trial(desk)
    answer = ask_implant(desk)
    assert answer.decision == "eligible", answer
    reason = answer.reason("nia.scs.implant_after_trial")
    assert reason["status"] == "pass"
    assert "50%" in reason["citation"] and reason["message"]


def test_a_trial_outcome_assessed_on_the_third_day_counts(desk: Desk) -> None:
    scs_trial(desk, on="2026-01-05", assessed="2026-01-08")
    assert ask_implant(desk).decision == "eligible"


def test_a_trial_outcome_assessed_before_the_third_day_does_not_show_a_3_day_trial(
    desk: Desk,
) -> None:
    scs_trial(desk, on="2026-01-05", assessed="2026-01-07")
    answer = ask_implant(desk)
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.scs.implant_after_trial") == "fail"
    assert answer.next_eligible_date is None


def test_a_trial_with_50_percent_relief_but_no_functional_improvement_is_not_successful(
    desk: Desk,
) -> None:
    scs_trial(desk, relief=80, functional=False)
    answer = ask_implant(desk)
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.scs.implant_after_trial") == "fail"


def test_a_trial_with_functional_improvement_but_49_percent_relief_is_not_successful(
    desk: Desk,
) -> None:
    scs_trial(desk, relief=49, functional=True)
    assert ask_implant(desk).status_of("nia.scs.implant_after_trial") == "fail"


def test_a_trial_with_exactly_50_percent_relief_and_functional_improvement_is_successful(
    desk: Desk,
) -> None:
    scs_trial(desk, relief=50, functional=True)
    assert ask_implant(desk).status_of("nia.scs.implant_after_trial") == "pass"


def test_a_permanent_stimulator_of_another_device_type_than_the_trial_is_refused(
    desk: Desk,
) -> None:
    scs_trial(desk, device="paresthesia-8")
    answer = ask_implant(desk, device="high-frequency-10k")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.scs.implant_after_trial") == "fail"


def test_a_permanent_stimulator_without_any_trial_is_refused(desk: Desk) -> None:
    answer = ask_implant(desk)
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.scs.implant_after_trial") == "fail"
    assert answer.next_eligible_date is None


def test_a_permanent_stimulator_after_a_trial_without_outcome_awaits_documentation(
    desk: Desk,
) -> None:
    scs_trial(desk, relief=None)
    answer = ask_implant(desk)
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("nia.scs.implant_after_trial") == "missing"


def test_a_trial_on_the_same_day_as_the_implant_is_not_a_prior_trial(desk: Desk) -> None:
    scs_trial(desk, on="2026-02-02", assessed="2026-02-02")
    assert ask_implant(desk, on="2026-02-02").status_of("nia.scs.implant_after_trial") != "pass"


def test_a_trial_outcome_assessed_after_the_implant_date_does_not_count(desk: Desk) -> None:
    scs_trial(desk, on="2026-01-05", assessed="2026-02-10")
    answer = ask_implant(desk, on="2026-02-02")
    assert answer.status_of("nia.scs.implant_after_trial") == "missing", answer


def test_a_trial_in_another_region_of_the_patient_counts(desk: Desk) -> None:
    scs_trial(desk, region="cervical")
    assert ask_implant(desk, region="thoracic").decision == "eligible"


def test_a_voided_trial_counts_for_nothing(desk: Desk) -> None:
    from tests.builders import void

    scs_trial(desk)
    desk.record(void("void-trial", of="scs-trial"))
    assert ask_implant(desk).status_of("nia.scs.implant_after_trial") == "fail"


# ----------------------------------------------------------------- scs revision, removal


def test_every_listed_reason_allows_revising_a_stimulator(desk: Desk) -> None:
    for reason in SCS_REASONS:
        answer = desk.ask(
            "nia",
            "2026-03-02",
            ["63663"],
            region="thoracic",
            intent="revision",
            clinical={"device_reason": reason},
        )
        assert answer.decision == "eligible", (reason, answer)
        assert answer.status_of("nia.scs.revision_reasons") == "pass"


def test_removing_a_stimulator_on_patient_demand_is_eligible(desk: Desk) -> None:
    answer = desk.ask(
        "nia",
        "2026-03-02",
        ["63661"],
        region="thoracic",
        intent="removal",
        clinical={"device_reason": "patient_demand"},
    )
    assert answer.decision == "eligible", answer


def test_revising_a_stimulator_for_an_unlisted_reason_is_refused(desk: Desk) -> None:
    for reason in ("battery_depletion", "newer_technology", "malfunction"):
        answer = desk.ask(
            "nia",
            "2026-03-02",
            ["63688"],
            region="thoracic",
            intent="revision",
            clinical={"device_reason": reason},
        )
        assert answer.decision == "not_eligible", (reason, answer)
        assert answer.status_of("nia.scs.revision_reasons") == "fail"
        assert answer.next_eligible_date is None


def test_revising_a_stimulator_without_a_stated_reason_awaits_documentation(desk: Desk) -> None:
    answer = desk.ask("nia", "2026-03-02", ["63688"], region="thoracic", intent="removal")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("nia.scs.revision_reasons") == "missing"


# --------------------------------------------------------------------- intrathecal trial


def test_an_intrathecal_opioid_trial_in_an_opioid_tolerant_patient_is_eligible(
    desk: Desk,
) -> None:
    answer = desk.ask(
        "nia",
        "2026-01-05",
        ["62327"],
        intent="trial",
        indication="intrathecal_trial",
        agent="opioid",
        clinical={"opioid_naive": False},
    )
    assert answer.decision == "eligible", answer
    assert answer.status_of("nia.intrathecal_trial.opioid_tolerance") == "pass"
    assert answer.policy["guideline"] == "NIA_CG_408"


def test_an_intrathecal_trial_in_an_opiate_naive_patient_is_refused(desk: Desk) -> None:
    answer = desk.ask(
        "nia",
        "2026-01-05",
        ["62327"],
        intent="trial",
        indication="intrathecal_trial",
        agent="opioid",
        clinical={"opioid_naive": True},
    )
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.intrathecal_trial.opioid_tolerance") == "fail"
    assert "opiate-na" in answer.reason("nia.intrathecal_trial.opioid_tolerance")["citation"]


def test_an_intrathecal_trial_without_stated_opioid_tolerance_awaits_documentation(
    desk: Desk,
) -> None:
    answer = desk.ask(
        "nia",
        "2026-01-05",
        ["62322"],
        intent="trial",
        indication="intrathecal_trial",
        agent="opioid",
    )
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("nia.intrathecal_trial.opioid_tolerance") == "missing"


def test_a_spasticity_trial_with_an_antispasmodic_needs_no_opioid_tolerance(desk: Desk) -> None:
    answer = desk.ask(
        "nia",
        "2026-01-05",
        ["62327"],
        intent="trial",
        indication="intrathecal_trial",
        agent="antispasmodic",
        clinical={"opioid_naive": True},
    )
    assert answer.decision == "eligible", answer


# --------------------------------------------------------------------------- pump implant


def intrathecal_trial(
    desk: Desk, relief: float | None, *, functional: bool = False, region: str = "lumbar"
) -> None:
    events = [
        procedure(
            "it-trial",
            on="2026-01-05",
            region=region,
            codes=["62327"],
            intent="trial",
            indication="intrathecal_trial",
            agent="opioid",
        )
    ]
    if relief is not None:
        events.append(
            outcome(
                "it-trial-out",
                of="it-trial",
                on="2026-01-06",
                relief=relief,
                functional_improvement=functional,
            )
        )
    desk.record(*events)


def ask_pump(
    desk: Desk,
    policy_set: str = "nia",
    *,
    on: str = "2026-02-02",
    code: str = "62362",
    intent: str = "implant",
    **fields: object,
):
    clinical = fields.pop("clinical", {})
    return desk.ask(policy_set, on, [code], intent=intent, clinical=clinical, **fields)


def test_a_pump_after_a_trial_with_50_percent_relief_is_eligible(desk: Desk) -> None:
    intrathecal_trial(desk, 50)
    for code in ("62360", "62361", "62362"):
        answer = ask_pump(desk, code=code)
        assert answer.decision == "eligible", (code, answer)
        assert answer.status_of("nia.pump.implant_after_trial") == "pass"
        assert answer.policy["guideline"] == "NIA_CG_310"


def test_a_pump_after_a_trial_with_49_percent_relief_is_refused(desk: Desk) -> None:
    intrathecal_trial(desk, 49)
    answer = ask_pump(desk)
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.pump.implant_after_trial") == "fail"
    assert answer.next_eligible_date is None


def test_a_pump_without_a_prior_intrathecal_trial_is_refused(desk: Desk) -> None:
    answer = ask_pump(desk)
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("nia.pump.implant_after_trial") == "fail"


def test_a_pump_after_a_trial_without_outcome_awaits_documentation(desk: Desk) -> None:
    intrathecal_trial(desk, None)
    answer = ask_pump(desk)
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("nia.pump.implant_after_trial") == "missing"


def test_a_trial_in_another_region_of_the_patient_allows_the_pump(desk: Desk) -> None:
    intrathecal_trial(desk, 70, region="thoracic")
    assert ask_pump(desk, region="lumbar").decision == "eligible"


# ----------------------------------------------------------------------- pump replacement


def test_a_pump_replacement_for_malfunction_or_battery_depletion_is_eligible(
    desk: Desk,
) -> None:
    for reason in ("malfunction", "battery_depletion"):
        answer = ask_pump(desk, intent="replacement", clinical={"device_reason": reason})
        assert answer.decision == "eligible", (reason, answer)
        assert answer.status_of("nia.pump.replacement_reasons") == "pass"


def test_a_pump_replacement_for_any_other_reason_is_refused_under_nia(desk: Desk) -> None:
    for reason in ("recall", "impending_failure", "newer_technology", "patient_demand"):
        answer = ask_pump(desk, intent="replacement", clinical={"device_reason": reason})
        assert answer.decision == "not_eligible", (reason, answer)
        assert answer.status_of("nia.pump.replacement_reasons") == "fail"


def test_a_pump_replacement_without_a_stated_reason_awaits_documentation(desk: Desk) -> None:
    answer = ask_pump(desk, intent="replacement")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("nia.pump.replacement_reasons") == "missing"


# ---------------------------------------------------------------- what no rule limits


def test_a_pump_refill_is_eligible_listing_what_was_checked(desk: Desk) -> None:
    answer = desk.ask("nia", "2026-02-02", ["95990"], intent="therapeutic")
    assert answer.decision == "eligible", answer
    assert answer.next_eligible_date is None
    assert answer.reasons, "an eligible refill still says what was checked"
    for reason in answer.reasons:
        assert reason["status"] == "pass"
        assert reason["rule"] and reason["message"] and reason["citation"]


def test_pump_analysis_codes_are_never_limited(desk: Desk) -> None:
    for code in ("62367", "62368", "62369", "62370", "95991"):
        answer = desk.ask("nia", "2026-02-02", [code])
        assert answer.decision == "eligible", (code, answer)
        assert answer.reasons


def test_a_stem_cell_injection_has_no_guideline_under_nia(desk: Desk) -> None:
    desk.ask("nia", "2026-02-02", ["0627T"]).assert_no_guideline("nia", "0627T")


def test_a_catheter_implant_or_a_pump_removal_is_eligible_saying_what_was_checked(
    desk: Desk,
) -> None:
    for code, intent in (("62350", "implant"), ("62365", "removal"), ("62355", "removal")):
        answer = desk.ask("nia", "2026-02-02", [code], intent=intent)
        assert answer.decision == "eligible", (code, answer)
        assert answer.status_of("nia.pump.not_limited") == "pass", answer
        assert answer.rules("fail") == set(), answer


def test_replacing_any_part_of_a_pump_needs_a_listed_reason(desk: Desk) -> None:
    answer = desk.ask(
        "nia",
        "2026-02-02",
        ["62350"],
        intent="replacement",
        clinical={"device_reason": "patient_demand"},
    )
    assert answer.status_of("nia.pump.replacement_reasons") == "fail", answer
