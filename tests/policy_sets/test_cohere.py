"""cohere: Cohere Neck Pain care path V3.0 for cervical and thoracic codes, and Spinal
Allogeneic Tissue-Based Injections V1.0 (investigational), from the guideline text."""

from __future__ import annotations

from tests.builders import outcome, procedure, surgery
from tests.policy_sets.conftest import Desk

NECK_FILE = "003_7b9ff1361290faac.txt"
TISSUE_FILE = "000_1677e384dbe4ebfe.txt"


def cervical_esi(event_id: str, on: str) -> dict:
    return procedure(
        event_id,
        on=on,
        region="cervical",
        codes=["62321"],
        agent="steroid",
        levels=["C6-C7"],
        intent="therapeutic",
    )


def ask_esi(desk: Desk, on: str, **fields):
    return desk.ask(
        "cohere",
        on,
        ["62321"],
        region="cervical",
        agent="steroid",
        levels=["C6-C7"],
        intent="therapeutic",
        **fields,
    )


# --------------------------------------------------------------------------------- esi


def test_a_first_cervical_esi_is_eligible_under_cohere(desk: Desk) -> None:
    answer = ask_esi(desk, "2026-01-05")
    assert answer.decision == "eligible", answer
    assert answer.policy["set"] == "cohere"
    assert answer.policy["source"] == NECK_FILE
    assert answer.reasons


def test_a_second_cervical_esi_three_weeks_after_a_50_percent_response_is_eligible(
    desk: Desk,
) -> None:
    desk.record(
        cervical_esi("esi-1", "2026-01-05"), outcome("o-1", of="esi-1", on="2026-01-19", relief=50)
    )
    answer = ask_esi(desk, "2026-01-26")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.esi.interval") == "pass"
    assert answer.status_of("cohere.esi.second_response") == "pass"


def test_a_second_cervical_esi_sooner_than_three_weeks_is_refused_until_day_21(
    desk: Desk,
) -> None:
    desk.record(
        cervical_esi("esi-1", "2026-01-05"), outcome("o-1", of="esi-1", on="2026-01-19", relief=50)
    )
    answer = ask_esi(desk, "2026-01-25")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"cohere.esi.interval"}
    assert answer.next_eligible_date == "2026-01-26"
    assert "3 weeks" in answer.reason("cohere.esi.interval")["citation"]


def test_a_second_cervical_esi_after_a_49_percent_response_is_refused(desk: Desk) -> None:
    desk.record(
        cervical_esi("esi-1", "2026-01-05"), outcome("o-1", of="esi-1", on="2026-01-19", relief=49)
    )
    answer = ask_esi(desk, "2026-01-26")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.esi.second_response") == "fail"
    assert answer.next_eligible_date is None


def test_a_second_cervical_esi_without_a_reported_response_awaits_documentation(
    desk: Desk,
) -> None:
    desk.record(cervical_esi("esi-1", "2026-01-05"))
    answer = ask_esi(desk, "2026-01-26")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("cohere.esi.second_response") == "missing"


def test_an_esi_more_than_six_months_after_the_last_needs_no_response(desk: Desk) -> None:
    desk.record(
        cervical_esi("esi-1", "2026-01-05"), outcome("o-1", of="esi-1", on="2026-01-19", relief=10)
    )
    assert ask_esi(desk, "2026-07-06").decision == "eligible"


def two_esi(desk: Desk, *later: tuple[str, float]) -> None:
    desk.record(
        cervical_esi("esi-1", "2026-01-05"),
        outcome("o-1", of="esi-1", on="2026-01-19", relief=60),
        cervical_esi("esi-2", "2026-02-02"),
        outcome("o-2", of="esi-2", on="2026-02-16", relief=60),
        *(
            outcome(f"o-2-{n}", of="esi-2", on=on, relief=relief)
            for n, (on, relief) in enumerate(later, start=1)
        ),
    )


def test_a_third_cervical_esi_needs_three_months_of_relief_from_the_previous(
    desk: Desk,
) -> None:
    two_esi(desk, ("2026-05-02", 60))
    answer = ask_esi(desk, "2026-04-01")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"cohere.esi.third_sustained"}
    assert answer.next_eligible_date == "2026-05-02"
    assert ask_esi(desk, "2026-05-01").next_eligible_date == "2026-05-02"


def test_a_third_cervical_esi_after_three_months_of_50_percent_relief_is_eligible(
    desk: Desk,
) -> None:
    two_esi(desk, ("2026-05-02", 60))
    answer = ask_esi(desk, "2026-05-02")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.esi.third_sustained") == "pass"
    assert answer.status_of("cohere.esi.six_month_cap") == "pass"


def test_a_third_cervical_esi_after_relief_faded_below_50_percent_is_refused(
    desk: Desk,
) -> None:
    two_esi(desk, ("2026-03-20", 40), ("2026-05-02", 60))
    answer = ask_esi(desk, "2026-05-04")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.esi.third_sustained") == "fail"
    assert answer.next_eligible_date is None


def three_esi(desk: Desk) -> None:
    two_esi(desk)
    desk.record(
        cervical_esi("esi-3", "2026-03-02"),
        outcome("o-3", of="esi-3", on="2026-03-16", relief=70),
        outcome("o-3b", of="esi-3", on="2026-06-02", relief=70),
    )


def test_a_fourth_cervical_esi_within_six_months_is_refused_under_cohere(desk: Desk) -> None:
    three_esi(desk)
    answer = ask_esi(desk, "2026-06-10")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"cohere.esi.six_month_cap"}
    assert answer.next_eligible_date == "2026-07-05"
    assert ask_esi(desk, "2026-07-04").next_eligible_date == "2026-07-05"


def test_a_fourth_cervical_esi_once_the_first_leaves_the_six_months_is_eligible(
    desk: Desk,
) -> None:
    three_esi(desk)
    answer = ask_esi(desk, "2026-07-05")
    assert answer.decision == "eligible", answer


def test_cap_interval_and_sustained_relief_failing_together_give_the_first_day_all_pass(
    desk: Desk,
) -> None:
    three_esi(desk)
    desk.record(
        cervical_esi("esi-4", "2026-07-05"),
        outcome("o-4", of="esi-4", on="2026-07-06", relief=90),
        outcome("o-4b", of="esi-4", on="2026-10-05", relief=90),
    )
    # On 2026-07-20 the window holds 02-02, 03-02 and 07-05 (cap, until 08-02), 07-05 is less
    # than three weeks before (interval, until 07-26) and, two being in the six months, its
    # relief has yet to last three months (until 10-05). On 09-02 03-02 leaves the six
    # months: one prior, so only its latest response (90%) counts.
    answer = ask_esi(desk, "2026-07-20")
    assert answer.rules("fail") == {
        "cohere.esi.six_month_cap",
        "cohere.esi.interval",
        "cohere.esi.third_sustained",
    }
    assert answer.next_eligible_date == "2026-09-02"
    assert ask_esi(desk, "2026-09-01").next_eligible_date == "2026-09-02"
    assert ask_esi(desk, "2026-09-02").decision == "eligible"


def test_the_cap_and_the_interval_failing_together_give_the_later_of_their_dates(
    desk: Desk,
) -> None:
    desk.record(
        cervical_esi("esi-1", "2026-01-05"),
        outcome("o-1", of="esi-1", on="2026-01-19", relief=60),
        cervical_esi("esi-2", "2026-02-02"),
        outcome("o-2", of="esi-2", on="2026-05-04", relief=60),
        cervical_esi("esi-3", "2026-06-20"),
        outcome("o-3", of="esi-3", on="2026-06-21", relief=60),
        outcome("o-3b", of="esi-3", on="2026-06-22", relief=60),
    )
    # 07-01: 01-05, 02-02 and 06-20 are in the six months (cap, until 07-05); 06-20 is less
    # than three weeks before (interval, until 07-11); while 02-02 is in the six months
    # (until 08-02) esi-3's relief must last three months (until 09-20).
    answer = ask_esi(desk, "2026-07-01")
    assert {"cohere.esi.six_month_cap", "cohere.esi.interval"} <= answer.rules("fail")
    assert answer.next_eligible_date == "2026-08-02"
    assert ask_esi(desk, "2026-08-02").decision == "eligible"


# ------------------------------------------------------------------------------- facet


def cervical_facet(event_id: str, on: str, intent: str = "diagnostic") -> dict:
    return procedure(
        event_id,
        on=on,
        region="cervical",
        codes=["64490"],
        laterality="left",
        levels=["C4-C5"],
        intent=intent,
        agent="local_anesthetic",
        approach="medial_branch",
    )


def ask_facet(desk: Desk, on: str, levels=("C4-C5",)):
    return desk.ask(
        "cohere",
        on,
        ["64490"],
        region="cervical",
        laterality="left",
        levels=list(levels),
        intent="diagnostic",
        agent="local_anesthetic",
        approach="medial_branch",
    )


def test_a_first_cervical_facet_injection_is_eligible_under_cohere(desk: Desk) -> None:
    assert ask_facet(desk, "2026-01-05").decision == "eligible"


def test_a_second_facet_injection_needs_more_than_80_percent_relief(desk: Desk) -> None:
    desk.record(
        cervical_facet("f-1", "2026-01-05"), outcome("fo-1", of="f-1", on="2026-01-05", relief=81)
    )
    answer = ask_facet(desk, "2026-01-19")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.facet.second_response") == "pass"


def test_a_second_facet_injection_after_exactly_80_percent_relief_is_refused(
    desk: Desk,
) -> None:
    desk.record(
        cervical_facet("f-1", "2026-01-05"), outcome("fo-1", of="f-1", on="2026-01-05", relief=80)
    )
    answer = ask_facet(desk, "2026-01-19")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.facet.second_response") == "fail"
    assert answer.next_eligible_date is None


def test_functional_improvement_alone_does_not_justify_a_second_facet_injection(
    desk: Desk,
) -> None:
    desk.record(
        cervical_facet("f-1", "2026-01-05"),
        outcome("fo-1", of="f-1", on="2026-01-05", relief=60, functional_improvement=True),
    )
    assert ask_facet(desk, "2026-01-19").status_of("cohere.facet.second_response") == "fail"


def test_a_second_facet_injection_without_reported_relief_awaits_documentation(
    desk: Desk,
) -> None:
    desk.record(cervical_facet("f-1", "2026-01-05"))
    answer = ask_facet(desk, "2026-01-19")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("cohere.facet.second_response") == "missing"


def two_facets(desk: Desk, *later: tuple[str, float]) -> None:
    desk.record(
        cervical_facet("f-1", "2026-01-05"),
        outcome("fo-1", of="f-1", on="2026-01-05", relief=90),
        cervical_facet("f-2", "2026-01-19", "therapeutic"),
        outcome("fo-2", of="f-2", on="2026-02-02", relief=60),
        *(
            outcome(f"fo-2-{n}", of="f-2", on=on, relief=relief)
            for n, (on, relief) in enumerate(later, start=1)
        ),
    )


def test_a_third_facet_injection_before_three_months_of_relief_is_refused_until_then(
    desk: Desk,
) -> None:
    two_facets(desk, ("2026-04-19", 60))
    answer = ask_facet(desk, "2026-04-18")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"cohere.facet.repeat_sustained"}
    assert answer.next_eligible_date == "2026-04-19"


def test_a_third_facet_injection_after_three_months_of_50_percent_relief_is_eligible(
    desk: Desk,
) -> None:
    two_facets(desk, ("2026-04-19", 60))
    answer = ask_facet(desk, "2026-04-19")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.facet.repeat_sustained") == "pass"


def test_a_third_facet_injection_after_relief_fell_below_50_percent_is_refused(
    desk: Desk,
) -> None:
    two_facets(desk, ("2026-03-01", 49), ("2026-04-19", 60))
    answer = ask_facet(desk, "2026-04-20")
    assert answer.status_of("cohere.facet.repeat_sustained") == "fail", answer
    assert answer.next_eligible_date is None


def test_a_facet_injection_at_a_fused_level_is_refused(desk: Desk) -> None:
    desk.record(
        surgery("fusion-1", on="2025-06-02", region="cervical", kind="fusion", levels=["C4-C5"])
    )
    answer = ask_facet(desk, "2026-01-05", levels=("C4-C5",))
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.facet.fusion_exclusion") == "fail"
    assert answer.next_eligible_date is None
    assert "fusion" in answer.reason("cohere.facet.fusion_exclusion")["citation"]


def test_a_facet_injection_at_a_level_the_fusion_did_not_touch_is_eligible(desk: Desk) -> None:
    desk.record(
        surgery("fusion-1", on="2025-06-02", region="cervical", kind="fusion", levels=["C5-C6"])
    )
    answer = ask_facet(desk, "2026-01-05", levels=("C4-C5",))
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.facet.fusion_exclusion") == "pass"


def test_a_decompression_at_the_level_is_not_a_fusion(desk: Desk) -> None:
    desk.record(
        surgery(
            "surg-1", on="2025-06-02", region="cervical", kind="decompression", levels=["C4-C5"]
        )
    )
    assert ask_facet(desk, "2026-01-05").decision == "eligible"


def test_a_lumbar_fusion_does_not_exclude_a_cervical_facet_injection(desk: Desk) -> None:
    desk.record(
        surgery("fusion-1", on="2025-06-02", region="lumbar", kind="fusion", levels=["C4-C5"])
    )
    assert ask_facet(desk, "2026-01-05").decision == "eligible"


# --------------------------------------------------------------------------------- rfa


def mbb(
    event_id: str,
    on: str,
    relief: float | None,
    *,
    approach: str | None = "medial_branch",
    intent: str = "diagnostic",
) -> list[dict]:
    fields = {"approach": approach} if approach else {}
    events = [
        procedure(
            event_id,
            on=on,
            region="cervical",
            codes=["64490"],
            laterality="bilateral",
            levels=["C4-C5"],
            intent=intent,
            agent="local_anesthetic",
            **fields,
        )
    ]
    if relief is not None:
        events.append(outcome(f"{event_id}-o", of=event_id, on=on, relief=relief))
    return events


def ask_rfa(desk: Desk, on: str):
    return desk.ask(
        "cohere",
        on,
        ["64633"],
        region="cervical",
        laterality="bilateral",
        levels=["C4-C5"],
        intent="therapeutic",
    )


def test_an_rfa_after_two_medial_branch_blocks_with_50_percent_relief_is_eligible(
    desk: Desk,
) -> None:
    desk.record(*mbb("m-1", "2026-01-05", 50), *mbb("m-2", "2026-01-19", 60, approach=None))
    answer = ask_rfa(desk, "2026-02-02")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.rfa.diagnostic_blocks") == "pass"


def test_an_rfa_after_a_block_with_49_percent_relief_is_refused(desk: Desk) -> None:
    desk.record(*mbb("m-1", "2026-01-05", 50), *mbb("m-2", "2026-01-19", 49))
    answer = ask_rfa(desk, "2026-02-02")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.rfa.diagnostic_blocks") == "fail"
    assert answer.next_eligible_date is None


def test_an_rfa_after_one_block_is_refused(desk: Desk) -> None:
    desk.record(*mbb("m-1", "2026-01-05", 90))
    assert ask_rfa(desk, "2026-02-02").status_of("cohere.rfa.diagnostic_blocks") == "fail"


def test_intra_articular_or_therapeutic_injections_are_not_diagnostic_medial_branch_blocks(
    desk: Desk,
) -> None:
    desk.record(
        *mbb("m-1", "2026-01-05", 90),
        *mbb("m-2", "2026-01-19", 90, approach="intra_articular"),
        *mbb("m-3", "2026-01-20", 90, intent="therapeutic"),
    )
    assert ask_rfa(desk, "2026-02-02").status_of("cohere.rfa.diagnostic_blocks") == "fail"


def test_an_rfa_after_a_block_without_reported_relief_awaits_documentation(desk: Desk) -> None:
    desk.record(*mbb("m-1", "2026-01-05", 90), *mbb("m-2", "2026-01-19", None))
    answer = ask_rfa(desk, "2026-02-02")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("cohere.rfa.diagnostic_blocks") == "missing"


def rfa_history(desk: Desk, on: str, relief: float) -> None:
    desk.record(
        *mbb("m-1", "2025-06-02", 90),
        *mbb("m-2", "2025-06-16", 90),
        procedure(
            "rfa-1",
            on=on,
            region="cervical",
            codes=["64633"],
            laterality="bilateral",
            levels=["C4-C5"],
            intent="therapeutic",
        ),
        outcome("rfa-o", of="rfa-1", on="2026-02-10", relief=relief),
    )


def test_a_second_rfa_before_six_months_is_refused_until_the_day(desk: Desk) -> None:
    rfa_history(desk, "2026-01-05", 50)
    answer = ask_rfa(desk, "2026-07-04")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"cohere.rfa.repeat_interval"}
    assert answer.next_eligible_date == "2026-07-05"


def test_a_second_rfa_six_months_after_a_50_percent_response_is_eligible(desk: Desk) -> None:
    rfa_history(desk, "2026-01-05", 50)
    answer = ask_rfa(desk, "2026-07-05")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.rfa.repeat_response") == "pass"


def test_six_months_after_the_last_day_of_august_is_the_last_day_of_february(
    desk: Desk,
) -> None:
    rfa_history(desk, "2025-08-31", 50)
    assert ask_rfa(desk, "2026-02-27").next_eligible_date == "2026-02-28"
    assert ask_rfa(desk, "2026-02-28").decision == "eligible"


def test_a_second_rfa_after_a_49_percent_response_is_refused(desk: Desk) -> None:
    rfa_history(desk, "2026-01-05", 49)
    answer = ask_rfa(desk, "2026-07-05")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.rfa.repeat_response") == "fail"
    assert answer.next_eligible_date is None


# ------------------------------------------------------------------- facet cyst aspiration


def cyst(event_id: str, on: str) -> dict:
    return procedure(
        event_id,
        on=on,
        region="cervical",
        codes=["64999"],
        indication="facet_cyst_aspiration",
        levels=["C5-C6"],
    )


def ask_cyst(desk: Desk, on: str):
    return desk.ask(
        "cohere",
        on,
        ["64999"],
        region="cervical",
        indication="facet_cyst_aspiration",
        levels=["C5-C6"],
    )


def test_a_first_cyst_aspiration_is_eligible_under_cohere(desk: Desk) -> None:
    answer = ask_cyst(desk, "2026-01-05")
    assert answer.decision == "eligible", answer
    assert answer.reasons


def test_a_second_cyst_aspiration_before_three_months_is_refused_until_the_day(
    desk: Desk,
) -> None:
    desk.record(
        cyst("c-1", "2026-01-05"),
        outcome("co-1", of="c-1", on="2026-02-05", relief=60),
        outcome("co-2", of="c-1", on="2026-04-05", relief=60),
    )
    answer = ask_cyst(desk, "2026-04-04")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") <= {"cohere.cyst.repeat_interval", "cohere.cyst.repeat_sustained"}
    assert "cohere.cyst.repeat_interval" in answer.rules("fail")
    assert answer.next_eligible_date == "2026-04-05"


def test_a_second_cyst_aspiration_after_three_months_of_50_percent_relief_is_eligible(
    desk: Desk,
) -> None:
    desk.record(
        cyst("c-1", "2026-01-05"),
        outcome("co-1", of="c-1", on="2026-02-05", relief=60),
        outcome("co-2", of="c-1", on="2026-04-05", relief=50),
    )
    answer = ask_cyst(desk, "2026-04-05")
    assert answer.decision == "eligible", answer
    assert answer.status_of("cohere.cyst.repeat_sustained") == "pass"


def test_a_second_cyst_aspiration_after_relief_fell_below_50_percent_is_refused(
    desk: Desk,
) -> None:
    desk.record(
        cyst("c-1", "2026-01-05"),
        outcome("co-1", of="c-1", on="2026-02-05", relief=49),
        outcome("co-2", of="c-1", on="2026-04-05", relief=60),
    )
    answer = ask_cyst(desk, "2026-04-06")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("cohere.cyst.repeat_sustained") == "fail"
    assert answer.next_eligible_date is None


def test_a_second_cyst_aspiration_without_late_enough_outcome_awaits_documentation(
    desk: Desk,
) -> None:
    desk.record(cyst("c-1", "2026-01-05"), outcome("co-1", of="c-1", on="2026-02-05", relief=60))
    answer = ask_cyst(desk, "2026-04-06")
    assert answer.decision == "pending_documentation", answer
    assert answer.status_of("cohere.cyst.repeat_sustained") == "missing"


# ---------------------------------------------------------- investigational, not governed


def test_an_allogeneic_disc_injection_is_investigational_under_cohere(desk: Desk) -> None:
    for code in ("0627T", "0629T"):
        answer = desk.ask("cohere", "2026-01-05", [code], region="lumbar", levels=["L4-L5"])
        assert answer.decision == "not_eligible", (code, answer)
        assert answer.next_eligible_date is None
        reason = answer.reason("cohere.tissue.investigational")
        assert reason["status"] == "fail"
        assert "investigational" in reason["citation"]
        assert answer.policy["source"] == TISSUE_FILE


def test_lumbar_codes_have_no_guideline_under_cohere(desk: Desk) -> None:
    for code, fields in (
        ("64483", {"levels": ["L4-L5"]}),
        ("62323", {}),
        ("64493", {"levels": ["L4-L5"]}),
        ("64635", {"levels": ["L4-L5"]}),
        ("27096", {}),
    ):
        desk.ask("cohere", "2026-01-05", [code], region="lumbar", **fields).assert_no_guideline(
            "cohere", code
        )


def test_codes_outside_the_neck_pain_and_tissue_guidelines_are_a_422_under_cohere(
    desk: Desk,
) -> None:
    for code, region in (
        ("64510", "cervical"),
        ("63650", "thoracic"),
        ("0263T", "lumbar"),
        ("95990", "lumbar"),
    ):
        desk.ask("cohere", "2026-01-05", [code], region=region).assert_no_guideline("cohere", code)
