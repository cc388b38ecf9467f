"""The ``cohere-ma`` set as data: Cohere Health Medicare Advantage policy, Intrathecal Pain
Pumps V2 (2024-06-10).

- pump implant (62360-62362, intent ``implant``): a prior intrathecal trial of the patient
  whose latest outcome meets 50%; for indication cancer_pain the policy asks only "adequate
  pain relief": the trial's latest outcome shows some relief (pain_relief_percent > 0 or
  functional improvement).
- pump replacement (intent ``replacement``): ``device_reason`` malfunction,
  battery_depletion, recall or impending_failure; newer_technology fails with the policy's
  own non-indication.
- intrathecal trial: allowed on the initial criteria (``initial_criteria_met``).
- other pump codes (refills, analyses, catheters): eligible; an ``exemption`` says what was
  checked.
"""

from __future__ import annotations

from datetime import date

from policies.citations import COHERE_MA_PUMPS
from policies.engine import Guideline, GuidelineVersion, Rule, When
from policies.kinds import FactTest
from policies.kinds_criteria import stated_criteria
from policies.nia_devices import not_limited

PUMP_DEVICES = frozenset({"62360", "62361", "62362"})
REPLACEMENT_REASONS = frozenset({"malfunction", "battery_depletion", "recall", "impending_failure"})
CANCER = frozenset({"cancer_pain"})
TRIAL = When(indication_in=frozenset({"intrathecal_trial"}))
IMPLANT = When(cpt_in=PUMP_DEVICES, intent_in=frozenset({"implant"}))
REPLACEMENT = When(
    intent_in=frozenset({"replacement"}), indication_not_in=frozenset({"intrathecal_trial"})
)

SYSTEMIC_OPIOIDS = FactTest(
    "systemic_opioids_failed", "==", True, "oral, transdermal or subcutaneous opioids failed"
)


_stated = stated_criteria
DEVICE_INTENTS = frozenset({"trial", "implant", "replacement"})


def _contraindications(when: When, unless: When | None = None) -> Rule:
    return Rule(
        "cohere_ma.pump.contraindications",
        "exclusion",
        "Contraindications: drug allergy, active infection, insufficient body size, other "
        "implanted programmable devices.",
        {
            "message": "a contraindication the policy lists",
            "facts": frozenset(
                {
                    "drug_allergy",
                    "active_infection",
                    "insufficient_body_habitus",
                    "other_programmable_device",
                }
            ),
        },
        when=when,
        unless=unless,
    )


_TRIAL_PARAMS = {"family": "intrathecal_trial", "scope": "patient", "label": "intrathecal trial"}

INTRATHECAL_PUMPS = Guideline(
    id="COHERE_MA_INTRATHECAL_PUMPS",
    title="Cohere Health Medicare Advantage Intrathecal Pain Pumps V2",
    source=COHERE_MA_PUMPS,
    families=frozenset({"pump", "intrathecal_trial"}),
    versions=(GuidelineVersion("V2", date(2024, 6, 10), {}, "published 2024-06-10"),),
    rules=(
        Rule(
            "cohere_ma.intrathecal_trial.criteria",
            "facts",
            "An intrathecal pain pump trial is allowed when the indication's criteria are met.",
            {
                "tests": (
                    FactTest(
                        "initial_criteria_met",
                        "==",
                        True,
                        "the criteria for an intrathecal pump trial are met",
                    ),
                )
            },
            when=TRIAL,
        ),
        Rule(
            "cohere_ma.pump.implant_after_trial",
            "prior_procedure",
            "A permanent pump needs an initial injection or infusion with at least 50% pain "
            "relief.",
            {**_TRIAL_PARAMS, "threshold": 50, "functional_counts": False},
            when=IMPLANT,
            unless=When(indication_in=CANCER),
        ),
        Rule(
            "cohere_ma.pump.cancer_pain_relief",
            "prior_procedure",
            "For cancer-related pain a permanent pump needs an initial injection or infusion "
            "with adequate pain relief (any relief, or functional improvement).",
            {**_TRIAL_PARAMS, "threshold": 0, "strictly_above": True, "functional_counts": False},
            when=When(cpt_in=PUMP_DEVICES, intent_in=frozenset({"implant"}), indication_in=CANCER),
        ),
        Rule(
            "cohere_ma.pump.replacement_reasons",
            "facts",
            "Replacement needs a device not functioning, a manufacturer recall or a "
            "notification of impending failure.",
            {
                "tests": (
                    FactTest(
                        "device_reason",
                        "in",
                        REPLACEMENT_REASONS,
                        "malfunction, battery depletion, recall or impending failure",
                    ),
                )
            },
            when=REPLACEMENT,
        ),
        Rule(
            "cohere_ma.pump.newer_technology",
            "facts",
            "Replacing or upgrading a functional device because newer technology is available "
            "is not appropriate.",
            {
                "tests": (
                    FactTest(
                        "device_reason",
                        "not_in",
                        frozenset({"newer_technology"}),
                        "a reason other than newer technology being available",
                    ),
                )
            },
            when=REPLACEMENT,
        ),
        _stated(
            "cohere_ma.pump.tolerance",
            "A permanent pump needs a trial with minimal side effects that the patient tolerated.",
            (
                (
                    FactTest(
                        "trial_side_effects_tolerable",
                        "==",
                        True,
                        "minimal side effects and patient tolerance",
                    ),
                ),
            ),
            IMPLANT,
        ),
        _stated(
            "cohere_ma.cancer_pain.criteria",
            "Cancer-related pain: a documented life expectancy of three months or more and "
            "systemic opioids failed or not tolerated.",
            (
                (FactTest("life_expectancy_months", ">=", 3, "life expectancy of 3 months"),),
                (SYSTEMIC_OPIOIDS,),
            ),
            When(indication_in=CANCER),
            unless=REPLACEMENT,
        ),
        _stated(
            "cohere_ma.non_malignant.criteria",
            "Chronic non-malignant pain: documented failure of conservative management and of "
            "systemic opioids.",
            (
                (
                    FactTest(
                        "conservative_therapy_failed", "==", True, "failed conservative management"
                    ),
                ),
                (SYSTEMIC_OPIOIDS,),
            ),
            When(indication_in=frozenset({"chronic_pain"})),
            unless=REPLACEMENT,
        ),
        _stated(
            "cohere_ma.spasticity.criteria",
            "Painful spasticity: oral antispasmodics failed over at least 6 weeks or produced "
            "intolerable side effects.",
            (
                (
                    FactTest(
                        "oral_antispasmodics_failed",
                        "==",
                        True,
                        "oral antispasmodics failed (6-week trial) or were not tolerated",
                    ),
                ),
            ),
            When(indication_in=frozenset({"spasticity"})),
            unless=REPLACEMENT,
        ),
        _contraindications(When(intent_in=DEVICE_INTENTS)),
        _contraindications(TRIAL, unless=When(intent_in=DEVICE_INTENTS)),
        *not_limited(
            "cohere_ma.pump.not_limited",
            "Pump procedures other than implanting a pump or reservoir (62360-62362) or "
            "replacing one (refills, analyses, catheters) have no criteria in the policy.",
            "the policy sets no criteria for it (checked: implant after trial, replacement "
            "reasons)",
            When(indication_not_in=frozenset({"intrathecal_trial"})),
        ),
    ),
)


COHERE_MA_GUIDELINES: tuple[Guideline, ...] = (INTRATHECAL_PUMPS,)
