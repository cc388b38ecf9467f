"""cohere-ma (Cohere Medicare Advantage Intrathecal Pain Pumps V2) and bcbs-ma (Blue Cross
medical policy 254, orthopedic applications of stem cell therapy), from the guideline text."""

from __future__ import annotations

from tests.builders import outcome, procedure
from tests.policy_sets.conftest import Desk

PUMPS_FILE = "004_360f9122cf201a7f.txt"
BCBS_FILE = "001_d49e9b8430e4a577.txt"
REPLACEMENT_REASONS = ("malfunction", "battery_depletion", "recall", "impending_failure")


def trial(desk: Desk, relief: float | None, *, functional: bool = False) -> None:
    events = [
        procedure(
            "it-trial",
            on="2026-01-05",
            codes=["62327"],
            intent="trial",
            indication="intrathecal_trial",
            agent="opioid",
        )
    ]
    if relief is not None:
        events.append(
            outcome(
                "it-out",
                of="it-trial",
                on="2026-01-06",
                relief=relief,
                functional_improvement=functional,
            )
        )
    desk.record(*events)


def ask_implant(desk: Desk, indication: str | None = None, code: str = "62362"):
    fields = {"indication": indication} if indication else {}
    return desk.ask("cohere-ma", "2026-02-02", [code], intent="implant", **fields)


# ---------------------------------------------------------------------------- cohere-ma


def test_a_pump_after_a_trial_with_50_percent_relief_is_eligible_under_cohere_ma(
    desk: Desk,
) -> None:
    trial(desk, 50)
    answer = ask_implant(desk)
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere_ma.pump.implant_after_trial") == "pass"
    assert answer.policy["set"] == "cohere-ma"
    assert answer.policy["source"] == PUMPS_FILE


def test_a_pump_after_a_trial_with_49_percent_relief_is_refused_under_cohere_ma(
    desk: Desk,
) -> None:
    trial(desk, 49)
    answer = ask_implant(desk)
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere_ma.pump.implant_after_trial") == "fail"
    assert answer.next_eligible_date is None


def test_a_pump_without_a_trial_is_refused_under_cohere_ma(desk: Desk) -> None:
    answer = ask_implant(desk)
    assert answer.decision == "not_eligible", answer


def test_a_pump_after_a_trial_without_outcome_awaits_documentation_under_cohere_ma(
    desk: Desk,
) -> None:
    trial(desk, None)
    assert ask_implant(desk).decision == "pending_documentation"


def test_for_cancer_pain_any_relief_from_the_trial_is_adequate(desk: Desk) -> None:
    trial(desk, 10)
    answer = ask_implant(desk, "cancer_pain")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere_ma.pump.cancer_pain_relief") == "pass"
    assert "adequate pain relief" in answer.reason("cohere_ma.pump.cancer_pain_relief")["citation"]


def test_for_cancer_pain_functional_improvement_alone_is_not_adequate_pain_relief(
    desk: Desk,
) -> None:
    # "demonstrates adequate pain relief": the stated relief itself, not function alone.
    trial(desk, 0, functional=True)
    answer = ask_implant(desk, "cancer_pain")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere_ma.pump.cancer_pain_relief") == "fail"


def test_for_cancer_pain_any_pain_relief_is_adequate(desk: Desk) -> None:
    trial(desk, 10)
    assert ask_implant(desk, "cancer_pain").decision == "eligible"


def test_for_cancer_pain_a_trial_with_no_relief_at_all_is_not_adequate(desk: Desk) -> None:
    trial(desk, 0)
    answer = ask_implant(desk, "cancer_pain")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere_ma.pump.cancer_pain_relief") == "fail"


def test_every_listed_reason_allows_replacing_a_pump_under_cohere_ma(desk: Desk) -> None:
    for reason in REPLACEMENT_REASONS:
        answer = desk.ask(
            "cohere-ma",
            "2026-02-02",
            ["62362"],
            intent="replacement",
            clinical={"device_reason": reason},
        )
        assert answer.decision == "eligible", (reason, answer)
        assert answer.status_of("cohere_ma.pump.replacement_reasons") == "pass"


def test_replacing_a_working_pump_for_newer_technology_is_refused(desk: Desk) -> None:
    answer = desk.ask(
        "cohere-ma",
        "2026-02-02",
        ["62362"],
        intent="replacement",
        clinical={"device_reason": "newer_technology"},
    )
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere_ma.pump.newer_technology") == "fail"
    assert "newer technology" in answer.reason("cohere_ma.pump.newer_technology")["citation"]
    assert answer.next_eligible_date is None


def test_replacing_a_pump_for_an_unlisted_reason_is_refused(desk: Desk) -> None:
    answer = desk.ask(
        "cohere-ma",
        "2026-02-02",
        ["62362"],
        intent="replacement",
        clinical={"device_reason": "patient_demand"},
    )
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere_ma.pump.replacement_reasons") == "fail"


def test_replacing_a_pump_without_a_stated_reason_awaits_documentation(desk: Desk) -> None:
    answer = desk.ask("cohere-ma", "2026-02-02", ["62362"], intent="replacement")
    assert answer.decision == "pending_documentation", answer


def test_an_intrathecal_trial_meeting_the_initial_criteria_is_allowed_under_cohere_ma(
    desk: Desk,
) -> None:
    answer = desk.ask(
        "cohere-ma",
        "2026-01-05",
        ["62327"],
        intent="trial",
        indication="intrathecal_trial",
        agent="opioid",
        clinical={"initial_criteria_met": True},
    )
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere_ma.intrathecal_trial.criteria") == "pass"


def test_an_intrathecal_trial_not_meeting_the_initial_criteria_is_refused_under_cohere_ma(
    desk: Desk,
) -> None:
    answer = desk.ask(
        "cohere-ma",
        "2026-01-05",
        ["62327"],
        intent="trial",
        indication="intrathecal_trial",
        agent="opioid",
        clinical={"initial_criteria_met": False},
    )
    assert answer.decision == "not_eligible", answer


def test_a_pump_refill_is_eligible_under_cohere_ma_listing_what_was_checked(
    desk: Desk,
) -> None:
    answer = desk.ask("cohere-ma", "2026-02-02", ["95990"])
    assert answer.decision == "eligible", answer
    assert answer.reasons and all(r["status"] == "pass" and r["citation"] for r in answer.reasons)


def test_injections_and_stimulators_have_no_guideline_under_cohere_ma(desk: Desk) -> None:
    for code, region in (("64483", "lumbar"), ("62323", "lumbar"), ("63650", "thoracic")):
        desk.ask("cohere-ma", "2026-02-02", [code], region=region).assert_no_guideline(
            "cohere-ma", code
        )


# ------------------------------------------------------------------------------ bcbs-ma


def test_stem_cell_codes_are_investigational_under_bcbs_ma(desk: Desk) -> None:
    for code, fields in (
        ("0263T", {}),
        ("0490T", {}),
        ("0566T", {}),
        ("20930", {"indication": "stem_cell"}),
        ("0627T", {}),
    ):
        answer = desk.ask("bcbs-ma", "2026-02-02", [code], **fields)
        assert answer.decision == "not_eligible", (code, answer)
        assert answer.next_eligible_date is None
        reason = answer.reason("bcbs.stem_cell.investigational")
        assert reason["status"] == "fail"
        assert "investigational" in reason["citation"]
        assert answer.policy["source"] == BCBS_FILE


def test_an_allogeneic_disc_injection_is_refused_under_cohere_and_bcbs_ma(desk: Desk) -> None:
    for policy_set, rule in (
        ("cohere", "cohere.tissue.investigational"),
        ("bcbs-ma", "bcbs.stem_cell.investigational"),
    ):
        answer = desk.ask(policy_set, "2026-02-02", ["0627T"], region="lumbar")
        assert answer.decision == "not_eligible", (policy_set, answer)
        assert answer.next_eligible_date is None
        assert answer.reason(rule)["citation"]


def test_anything_but_investigational_codes_is_a_422_under_bcbs_ma(desk: Desk) -> None:
    for code, region in (
        ("64483", "lumbar"),
        ("62321", "cervical"),
        ("95990", "lumbar"),
        ("63650", "thoracic"),
    ):
        desk.ask("bcbs-ma", "2026-02-02", [code], region=region).assert_no_guideline(
            "bcbs-ma", code
        )
