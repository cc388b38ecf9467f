"""nia-wa: everything in nia, tightened by the Washington State Health Care Authority limits
printed inside the NIA guidelines ("Legislative Requirements — Washington").

The esi and sij limits cover therapeutic injections for chronic pain: they apply when the
proposed intent is therapeutic and the indication is not acute_pain.
"""

from __future__ import annotations

from tests.builders import outcome, procedure, void
from tests.policy_sets.conftest import Desk

READY = {"pain_score": 7, "active_conservative_therapy": True, "initial_criteria_met": True}


def lumbar_esi(event_id: str, on: str, levels: tuple[str, ...] = ("L4-L5",)) -> dict:
    return procedure(
        event_id,
        on=on,
        codes=["64483"],
        laterality="left",
        levels=list(levels),
        agent="steroid",
        intent="therapeutic",
    )


def ask_esi(desk: Desk, on: str, policy_set: str = "nia-wa", levels=("L4-L5",), **fields):
    fields.setdefault("intent", "therapeutic")
    clinical = fields.pop("clinical", READY)
    return desk.ask(
        policy_set,
        on,
        ["64483"],
        laterality="left",
        levels=list(levels),
        agent="steroid",
        clinical=clinical,
        **fields,
    )


def three_good_esi(desk: Desk) -> None:
    """Three lumbar ESIs 2026-01-05, 02-02, 03-02, each with at least 50% relief, the last
    one sustained past two months (so nia allows a fourth from 2026-05-02)."""
    desk.record(
        lumbar_esi("esi-1", "2026-01-05"),
        outcome("o-1", of="esi-1", on="2026-01-19", relief=60),
        lumbar_esi("esi-2", "2026-02-02"),
        outcome("o-2", of="esi-2", on="2026-02-16", relief=60),
        lumbar_esi("esi-3", "2026-03-02"),
        outcome("o-3", of="esi-3", on="2026-03-16", relief=70),
        outcome("o-3b", of="esi-3", on="2026-05-04", relief=70),
    )


# --------------------------------------------------------------- esi: three in six months


def test_a_fourth_esi_within_six_months_is_refused_under_nia_wa_but_not_under_nia(
    desk: Desk,
) -> None:
    three_good_esi(desk)
    assert ask_esi(desk, "2026-06-01", policy_set="nia").decision == "eligible"
    answer = ask_esi(desk, "2026-06-01")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"wa.esi.six_month_cap"}
    assert answer.next_eligible_date == "2026-07-05"
    assert "three in six months" in answer.reason("wa.esi.six_month_cap")["citation"]


def test_the_six_month_cap_holds_the_day_before_the_first_esi_leaves_the_window(
    desk: Desk,
) -> None:
    three_good_esi(desk)
    answer = ask_esi(desk, "2026-07-04")
    assert answer.status_of("wa.esi.six_month_cap") == "fail"
    assert answer.next_eligible_date == "2026-07-05"


def test_the_six_month_cap_lifts_when_the_first_esi_leaves_the_window(desk: Desk) -> None:
    three_good_esi(desk)
    answer = ask_esi(desk, "2026-07-05")
    assert answer.decision == "eligible", answer
    assert answer.status_of("wa.esi.six_month_cap") == "pass"


def test_the_six_month_cap_does_not_limit_an_esi_for_acute_pain(desk: Desk) -> None:
    three_good_esi(desk)
    answer = ask_esi(desk, "2026-06-01", indication="acute_pain")
    assert answer.decision == "eligible", answer
    assert "fail" not in {r["status"] for r in answer.reasons if r["rule"].startswith("wa.")}


def test_the_six_month_cap_does_not_limit_a_diagnostic_esi(desk: Desk) -> None:
    three_good_esi(desk)
    answer = ask_esi(desk, "2026-06-01", intent="diagnostic")
    assert all(r["status"] != "fail" for r in answer.reasons if r["rule"].startswith("wa.")), answer


def test_a_voided_esi_does_not_count_toward_the_six_month_cap(desk: Desk) -> None:
    three_good_esi(desk)
    desk.record(void("void-1", of="esi-1"))
    assert ask_esi(desk, "2026-06-01").status_of("wa.esi.six_month_cap") == "pass"


def test_nia_wa_names_both_the_nia_guideline_and_the_washington_limits(desk: Desk) -> None:
    three_good_esi(desk)
    answer = ask_esi(desk, "2026-06-01")
    rules = answer.rules()
    assert any(r.startswith("nia.esi.") for r in rules), answer
    assert any(r.startswith("wa.esi.") for r in rules), answer
    assert answer.policy["set"] == "nia-wa"
    assert "NIA_CG_300" in str(answer.policy)
    assert "washington" in str(answer.policy).lower() or "hca" in str(answer.policy).lower()
    for reason in answer.reasons:
        assert reason["citation"], reason


# ----------------------------------------------- esi: two without meaningful improvement


def two_esi(desk: Desk, first_relief: float, second_relief: float) -> None:
    """Two lumbar ESIs at different levels (so nia's initial-phase rule passes either way)."""
    desk.record(
        lumbar_esi("esi-1", "2026-01-05", ("L3-L4",)),
        outcome("o-1", of="esi-1", on="2026-01-19", relief=first_relief),
        lumbar_esi("esi-2", "2026-02-02", ("L4-L5",)),
        outcome("o-2", of="esi-2", on="2026-02-16", relief=second_relief),
    )


def test_a_third_esi_after_two_without_meaningful_improvement_is_refused(desk: Desk) -> None:
    two_esi(desk, 20, 29)
    answer = ask_esi(desk, "2026-03-02", levels=("L5-S1",))
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("wa.esi.no_improvement_limit") == "fail"
    assert answer.next_eligible_date is None
    assert ask_esi(desk, "2026-03-02", policy_set="nia", levels=("L5-S1",)).decision == "eligible"


def test_a_third_esi_after_only_one_without_meaningful_improvement_is_allowed(
    desk: Desk,
) -> None:
    two_esi(desk, 20, 30)
    answer = ask_esi(desk, "2026-03-02", levels=("L5-S1",))
    assert answer.decision == "eligible", answer
    assert answer.status_of("wa.esi.no_improvement_limit") == "pass"


def test_functional_improvement_is_meaningful_improvement(desk: Desk) -> None:
    desk.record(
        lumbar_esi("esi-1", "2026-01-05", ("L3-L4",)),
        outcome("o-1", of="esi-1", on="2026-01-19", relief=10),
        lumbar_esi("esi-2", "2026-02-02", ("L4-L5",)),
        outcome("o-2", of="esi-2", on="2026-02-16", relief=10, functional_improvement=True),
    )
    assert (
        ask_esi(desk, "2026-03-02", levels=("L5-S1",)).status_of("wa.esi.no_improvement_limit")
        == "pass"
    )


def test_esi_of_an_earlier_episode_do_not_count_toward_the_improvement_limit(
    desk: Desk,
) -> None:
    desk.record(
        lumbar_esi("esi-1", "2023-01-05", ("L3-L4",)),
        outcome("o-1", of="esi-1", on="2023-01-19", relief=10),
        lumbar_esi("esi-2", "2023-02-02", ("L4-L5",)),
        outcome("o-2", of="esi-2", on="2023-02-16", relief=10),
    )
    answer = ask_esi(desk, "2026-03-02")  # more than two years later: a new episode
    assert answer.decision == "eligible", answer


# ------------------------------------------------------------------------------- sij


def ask_sij(desk: Desk, on: str, policy_set: str = "nia-wa", **fields):
    fields.setdefault("intent", "therapeutic")
    return desk.ask(
        policy_set, on, ["27096"], laterality="left", agent="steroid", clinical=READY, **fields
    )


def sij_history(desk: Desk, first_relief: float, *, functional: bool = False) -> None:
    desk.record(
        procedure("sij-1", on="2026-01-05", codes=["27096"], laterality="left", agent="steroid"),
        outcome(
            "s-o-1",
            of="sij-1",
            on="2026-01-19",
            relief=first_relief,
            functional_improvement=functional,
        ),
        procedure("sij-2", on="2026-02-02", codes=["27096"], laterality="left", agent="steroid"),
        outcome("s-o-2", of="sij-2", on="2026-02-16", relief=70),
        outcome("s-o-3", of="sij-2", on="2026-04-02", relief=70),
    )


def test_an_sij_injection_after_one_without_meaningful_improvement_is_refused(
    desk: Desk,
) -> None:
    sij_history(desk, 29)
    assert ask_sij(desk, "2026-04-06", policy_set="nia").decision == "eligible"
    answer = ask_sij(desk, "2026-04-06")
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"wa.sij.improvement_required"}
    assert answer.next_eligible_date is None


def test_an_sij_injection_after_only_meaningful_improvement_is_allowed(desk: Desk) -> None:
    sij_history(desk, 30)
    answer = ask_sij(desk, "2026-04-06")
    assert answer.decision == "eligible", answer
    assert answer.status_of("wa.sij.improvement_required") == "pass"


def test_functional_improvement_counts_as_meaningful_for_an_sij_injection(desk: Desk) -> None:
    sij_history(desk, 5, functional=True)
    assert ask_sij(desk, "2026-04-06").decision == "eligible"


def test_the_sij_improvement_limit_does_not_apply_to_acute_pain(desk: Desk) -> None:
    sij_history(desk, 29)
    assert ask_sij(desk, "2026-04-06", indication="acute_pain").decision == "eligible"


# ----------------------------------------------------------------------------- facet


def ask_facet(desk: Desk, approach: str | None, intent: str, policy_set: str = "nia-wa"):
    fields = {"approach": approach} if approach else {}
    return desk.ask(
        policy_set,
        "2026-03-02",
        ["64493"],
        laterality="left",
        levels=["L4-L5"],
        intent=intent,
        agent="local_anesthetic",
        clinical=READY,
        **fields,
    )


def test_an_intra_articular_facet_injection_is_not_covered_in_washington(desk: Desk) -> None:
    for intent in ("diagnostic", "therapeutic"):
        answer = ask_facet(desk, "intra_articular", intent)
        assert answer.decision == "not_eligible", (intent, answer)
        assert answer.status_of("wa.facet.intra_articular_not_covered") == "fail"
        assert answer.next_eligible_date is None
    assert ask_facet(desk, "intra_articular", "diagnostic", "nia").decision == "eligible"


def test_a_therapeutic_medial_branch_block_is_not_covered_in_washington(desk: Desk) -> None:
    answer = ask_facet(desk, "medial_branch", "therapeutic")
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("wa.facet.therapeutic_mbb_not_covered") == "fail"
    assert ask_facet(desk, "medial_branch", "therapeutic", "nia").decision == "eligible"


def test_a_diagnostic_medial_branch_block_goes_on_to_the_nia_rules(desk: Desk) -> None:
    answer = ask_facet(desk, "medial_branch", "diagnostic")
    assert answer.decision == "eligible", answer
    assert any(r.startswith("nia.") for r in answer.rules()), answer


def test_a_facet_request_without_an_approach_awaits_documentation_in_washington(
    desk: Desk,
) -> None:
    answer = ask_facet(desk, None, "diagnostic")
    assert answer.decision == "pending_documentation", answer
    assert any(
        r["status"] == "missing" and r["rule"].startswith("wa.facet.") for r in answer.reasons
    ), answer


# ------------------------------------------------------------------------------- rfa


def ask_rfa(desk: Desk, on: str, region: str, codes, levels, policy_set: str = "nia-wa"):
    return desk.ask(
        policy_set,
        on,
        codes,
        region=region,
        laterality="bilateral",
        levels=list(levels),
        intent="therapeutic",
        clinical=READY,
    )


def diagnostic_blocks(
    desk: Desk, region: str, reliefs, *, functional: bool = False, level: str = "L4-L5"
) -> None:
    code = "64493" if region == "lumbar" else "64490"
    events = []
    for n, (on, relief) in enumerate(
        zip(("2026-01-05", "2026-01-19"), reliefs, strict=False), start=1
    ):
        events.append(
            procedure(
                f"mbb-{n}",
                on=on,
                region=region,
                codes=[code],
                laterality="bilateral",
                levels=[level],
                intent="diagnostic",
                agent="local_anesthetic",
                approach="medial_branch",
            )
        )
        if relief is not None:
            events.append(
                outcome(
                    f"mbb-o-{n}",
                    of=f"mbb-{n}",
                    on=on,
                    relief=relief,
                    functional_improvement=functional,
                )
            )
    desk.record(*events)


def test_thoracic_facet_neurotomy_is_not_covered_in_washington(desk: Desk) -> None:
    diagnostic_blocks(desk, "thoracic", (100, 100), level="T4-T5")
    answer = ask_rfa(desk, "2026-02-02", "thoracic", ["64633"], ["T4-T5"])
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("wa.rfa.thoracic_not_covered") == "fail"
    assert (
        ask_rfa(desk, "2026-02-02", "thoracic", ["64633"], ["T4-T5"], "nia").decision == "eligible"
    )


def test_cervical_neurotomy_is_allowed_from_c3_c4_through_c6_c7(desk: Desk) -> None:
    diagnostic_blocks(desk, "cervical", (100, 100), level="C3-C4")
    for level in ("C3-C4", "C4-C5", "C5-C6", "C6-C7"):
        answer = ask_rfa(desk, "2026-02-02", "cervical", ["64633"], [level])
        assert answer.decision == "eligible", (level, answer)


def test_cervical_neurotomy_outside_c3_c4_through_c6_c7_is_not_covered(desk: Desk) -> None:
    diagnostic_blocks(desk, "cervical", (100, 100), level="C3-C4")
    for level in ("C2-C3", "C7-T1"):
        answer = ask_rfa(desk, "2026-02-02", "cervical", ["64633"], [level])
        assert answer.decision == "not_eligible", (level, answer)
        assert answer.status_of("wa.rfa.cervical_levels") == "fail"


def test_cervical_neurotomy_of_two_levels_in_one_procedure_is_not_covered(desk: Desk) -> None:
    diagnostic_blocks(desk, "cervical", (100, 100), level="C3-C4")
    answer = ask_rfa(desk, "2026-02-02", "cervical", ["64633", "64634"], ["C3-C4", "C4-C5"])
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("wa.rfa.cervical_levels") == "fail"
    assert "at most 1" in answer.reason("wa.rfa.cervical_levels")["message"]


def test_lumbar_neurotomy_of_two_levels_is_allowed_and_of_three_is_not(desk: Desk) -> None:
    diagnostic_blocks(desk, "lumbar", (80, 80))
    two = ask_rfa(desk, "2026-02-02", "lumbar", ["64635", "64636"], ["L3-L4", "L4-L5"])
    assert two.decision == "eligible", two
    three = ask_rfa(
        desk, "2026-02-02", "lumbar", ["64635", ("64636", 2)], ["L3-L4", "L4-L5", "L5-S1"]
    )
    assert three.decision == "not_eligible", three
    assert three.status_of("wa.rfa.lumbar_levels") == "fail"


def test_a_first_lumbar_neurotomy_needs_two_blocks_with_80_percent_relief(desk: Desk) -> None:
    diagnostic_blocks(desk, "lumbar", (80, 80))
    answer = ask_rfa(desk, "2026-02-02", "lumbar", ["64635"], ["L4-L5"])
    assert answer.decision == "eligible", answer
    assert answer.status_of("wa.rfa.diagnostic_blocks") == "pass"


def test_a_block_with_79_percent_relief_does_not_select_for_lumbar_neurotomy(
    desk: Desk,
) -> None:
    diagnostic_blocks(desk, "lumbar", (80, 79))
    answer = ask_rfa(desk, "2026-02-02", "lumbar", ["64635"], ["L4-L5"])
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"wa.rfa.diagnostic_blocks"}
    assert ask_rfa(desk, "2026-02-02", "lumbar", ["64635"], ["L4-L5"], "nia").decision == "eligible"


def test_functional_improvement_does_not_replace_80_percent_pain_relief(desk: Desk) -> None:
    diagnostic_blocks(desk, "lumbar", (79, 79), functional=True)
    answer = ask_rfa(desk, "2026-02-02", "lumbar", ["64635"], ["L4-L5"])
    assert answer.status_of("wa.rfa.diagnostic_blocks") == "fail", answer


def test_one_diagnostic_block_is_not_enough_for_a_first_neurotomy(desk: Desk) -> None:
    desk.record(
        procedure(
            "mbb-1",
            on="2026-01-05",
            codes=["64493"],
            laterality="bilateral",
            levels=["L4-L5"],
            intent="diagnostic",
            agent="local_anesthetic",
            approach="medial_branch",
        ),
        outcome("mbb-o-1", of="mbb-1", on="2026-01-05", relief=100),
    )
    answer = ask_rfa(desk, "2026-02-02", "lumbar", ["64635"], ["L4-L5"])
    assert answer.decision == "not_eligible", answer
    assert answer.status_of("wa.rfa.diagnostic_blocks") == "fail"


def test_a_diagnostic_block_without_outcome_leaves_the_selection_missing(desk: Desk) -> None:
    diagnostic_blocks(desk, "lumbar", (90, None))
    answer = ask_rfa(desk, "2026-02-02", "lumbar", ["64635"], ["L4-L5"])
    assert answer.status_of("wa.rfa.diagnostic_blocks") == "missing", answer


def test_a_cervical_neurotomy_needs_100_percent_relief_from_both_blocks(desk: Desk) -> None:
    diagnostic_blocks(desk, "cervical", (100, 99), level="C4-C5")
    answer = ask_rfa(desk, "2026-02-02", "cervical", ["64633"], ["C4-C5"])
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"wa.rfa.diagnostic_blocks"}
    assert "100%" in answer.reason("wa.rfa.diagnostic_blocks")["citation"]


def repeat_history(desk: Desk, *outcomes: tuple[str, float]) -> None:
    diagnostic_blocks(desk, "lumbar", (90, 90))
    desk.record(
        procedure(
            "rfa-1",
            on="2026-01-26",
            codes=["64635"],
            laterality="bilateral",
            levels=["L4-L5"],
            intent="therapeutic",
        )
    )
    desk.record(
        *(
            outcome(f"rfa-o-{n}", of="rfa-1", on=on, relief=relief)
            for n, (on, relief) in enumerate(outcomes, start=1)
        )
    )


def test_a_repeat_neurotomy_before_six_months_of_relief_is_refused_until_the_day(
    desk: Desk,
) -> None:
    repeat_history(desk, ("2026-02-26", 60), ("2026-06-01", 60), ("2026-07-26", 60))
    assert ask_rfa(desk, "2026-07-01", "lumbar", ["64635"], ["L4-L5"], "nia").decision == "eligible"
    answer = ask_rfa(desk, "2026-07-01", "lumbar", ["64635"], ["L4-L5"])
    assert answer.decision == "not_eligible", answer
    assert answer.rules("fail") == {"wa.rfa.repeat_sustained"}
    assert answer.next_eligible_date == "2026-07-26"
    assert (
        ask_rfa(desk, "2026-07-25", "lumbar", ["64635"], ["L4-L5"]).next_eligible_date
        == "2026-07-26"
    )


def test_a_repeat_neurotomy_after_six_months_of_relief_is_eligible(desk: Desk) -> None:
    repeat_history(desk, ("2026-02-26", 60), ("2026-06-01", 60), ("2026-07-26", 60))
    answer = ask_rfa(desk, "2026-07-26", "lumbar", ["64635"], ["L4-L5"])
    assert answer.decision == "eligible", answer
    assert answer.status_of("wa.rfa.repeat_sustained") == "pass"


def test_a_repeat_neurotomy_after_relief_below_30_percent_is_refused(desk: Desk) -> None:
    repeat_history(desk, ("2026-02-26", 60), ("2026-04-01", 25))
    answer = ask_rfa(desk, "2026-08-03", "lumbar", ["64635"], ["L4-L5"])
    assert answer.status_of("wa.rfa.repeat_sustained") == "fail", answer
    assert answer.next_eligible_date is None


# ------------------------------------------------------------------ devices are as nia


def test_devices_follow_the_nia_rules_under_nia_wa(desk: Desk) -> None:
    answer = desk.ask(
        "nia-wa",
        "2026-03-02",
        ["62362"],
        intent="replacement",
        clinical={"device_reason": "battery_depletion"},
    )
    assert answer.decision == "eligible", answer
    answer = desk.ask(
        "nia-wa",
        "2026-03-02",
        ["62362"],
        intent="replacement",
        clinical={"device_reason": "recall"},
    )
    assert answer.decision == "not_eligible", answer
