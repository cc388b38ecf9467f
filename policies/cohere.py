"""The ``cohere`` set as data: Cohere Health Neck Pain care path V3.0 (cervical and thoracic
codes: epidural steroid injections, facet injections / medial branch blocks, radiofrequency
ablation, facet cyst aspiration) and Spinal Allogeneic Tissue-Based Injections V1.0
(investigational, 0627T-0630T).

Lumbar codes (and every other code) have no guideline in this set: a 422.

- esi: fewer than 3 in the rolling 6 months (time rule); DOS >= previous + 21 days (time
  rule); 1 prior in the 6 months -> the previous meets 50%; 2 or more -> the previous meets
  50% sustained 3 months (its waiting part a time rule).
- facet: 1 prior in the episode -> the previous had pain relief > 80% (functional improvement
  alone does not count); 2 or more -> the previous meets 50% sustained 3 months; a fusion in
  the region at an overlapping level fails.
- rfa: 2 or more prior diagnostic medial branch blocks in the region (facet, intent
  diagnostic, approach medial_branch or absent) each meeting 50%; a repeat needs DOS >=
  previous rfa + 6 months (time rule) and the previous meets 50%.
- cyst aspiration (64999): a repeat needs DOS >= previous + 3 months (time rule) and the
  previous meets 50% sustained 3 months.
- 0627T-0630T: investigational, not_eligible, no next eligible date.
"""

from __future__ import annotations

from datetime import date

from policies.citations import COHERE_NECK, COHERE_TISSUE
from policies.engine import Guideline, GuidelineVersion, Rule, When
from policies.kinds import FactTest
from policies.kinds_criteria import stated_criteria
from projections.calendar import days, months

ESI_CODES = frozenset({"62320", "62321", "64479"})
FACET_CODES = frozenset({"64490", "0213T"})
RFA_CODES = frozenset({"64633"})
CYST_CODES = frozenset({"64999"})
TISSUE_CODES = frozenset({"0627T", "0628T", "0629T", "0630T"})

IMAGING = FactTest("imaging_confirms_target", "==", True, "advanced imaging shows what is treated")
EXCEPTION = FactTest(
    "conservative_therapy_exception",
    "==",
    True,
    "conservative care cannot be completed (a documented medical reason)",
)


def _conservative(weeks: int) -> FactTest:
    return FactTest(
        "conservative_therapy_weeks", ">", weeks, f"more than {weeks} weeks of conservative care"
    )


def _indications(rule_id: str, description: str, items: tuple, when: When) -> Rule:
    """The service's indications (the care path asks no attestation: see stated_criteria)."""
    return stated_criteria(rule_id, description, items, when, label="indications")


def _non_indications(rule_id: str, facts: frozenset[str], when: When) -> Rule:
    return Rule(
        rule_id,
        "exclusion",
        "Non-indications: any of them attested excludes the service.",
        {"message": "a non-indication of the care path", "facts": facts},
        when=when,
    )


_ESI = When(cpt_in=ESI_CODES)
_FACET = When(cpt_in=FACET_CODES)
_RFA = When(cpt_in=RFA_CODES)
_CYST = When(cpt_in=CYST_CODES)

NECK_PAIN = Guideline(
    id="COHERE_NECK_PAIN",
    title="Cohere Health Neck Pain care path V3.0",
    source=COHERE_NECK,
    families=frozenset({"esi", "facet", "rfa", "cyst_aspiration"}),
    codes=ESI_CODES | FACET_CODES | RFA_CODES | CYST_CODES,
    versions=(GuidelineVersion("V3.0", date(2023, 1, 13), {}, "published 2023-01-13"),),
    rules=(
        # ---- epidural steroid injections
        _indications(
            "cohere.esi.indications",
            "Outside the acute period (more than 4 weeks), more than 6 weeks of conservative "
            "care (or unable to complete it), imaging showing nerve impingement.",
            (
                (FactTest("pain_duration_weeks", ">", 4, "outside the acute period (4 weeks)"),),
                (_conservative(6), EXCEPTION),
                (IMAGING,),
            ),
            _ESI,
        ),
        _non_indications(
            "cohere.esi.non_indications",
            frozenset(
                {
                    "steroid_hypersensitivity",
                    "active_infection",
                    "needle_site_infection",
                    "coagulopathy_or_anticoagulation",
                    "uncontrolled_diabetes",
                }
            ),
            _ESI,
        ),
        Rule(
            "cohere.esi.image_guidance",
            "code_restriction",
            "Epidural steroid injections are performed with radiographic image guidance: 62320 "
            "is without it.",
            {
                "codes": frozenset({"62321", "64479"}),
                "label": "epidural steroid injections with radiographic image guidance (62320 "
                "is without imaging guidance)",
            },
            when=_ESI,
        ),
        Rule(
            "cohere.esi.interlaminar_per_session",
            "session_limit",
            "One interlaminar injection at a time.",
            {
                "codes": frozenset({"62320", "62321"}),
                "limit": 1,
                "label": "interlaminar injections",
            },
            when=_ESI,
        ),
        Rule(
            "cohere.esi.transforaminal_per_session",
            "session_limit",
            "Up to two transforaminal injections at a time: bilaterally at one level or "
            "unilaterally at two adjacent levels.",
            {
                "codes": frozenset({"64479", "64480"}),
                "limit": 2,
                "label": "transforaminal injections",
                "bilateral_doubles": True,
                "adjacent_levels": True,
            },
            when=_ESI,
        ),
        Rule(
            "cohere.esi.six_month_cap",
            "rolling_cap",
            "A total of 3 epidural steroid injections per region may be performed in 6 months.",
            {"length": months(6), "limit": 3},
            when=_ESI,
            time_rule=True,
        ),
        Rule(
            "cohere.esi.interval",
            "min_interval",
            "At least 3 weeks between epidural steroid injections.",
            {"span": days(21)},
            when=_ESI,
            time_rule=True,
        ),
        Rule(
            "cohere.esi.second_response",
            "previous_relief",
            "With one injection in the past 6 months, the previous one gave 50% improvement.",
            {"threshold": 50},
            when=When(cpt_in=ESI_CODES, prior_in_window=(months(6), 1, 1)),
        ),
        Rule(
            "cohere.esi.third_sustained",
            "previous_relief",
            "With two or more injections in the past 6 months, the previous one gave 50% "
            "improvement for three months.",
            {"threshold": 50, "measure": "sustained", "sustained": months(3)},
            when=When(cpt_in=ESI_CODES, prior_in_window=(months(6), 2, None)),
            time_rule=True,
        ),
        # ---- facet injections / medial branch blocks
        _indications(
            "cohere.facet.indications",
            "More than 12 weeks of conservative management and imaging showing facet arthritis "
            "or spondylosis at the level.",
            ((_conservative(12),), (IMAGING,)),
            _FACET,
        ),
        _non_indications(
            "cohere.facet.non_indications",
            frozenset(
                {"active_infection", "needle_site_infection", "coagulopathy_or_anticoagulation"}
            ),
            _FACET,
        ),
        Rule(
            "cohere.facet.second_response",
            "previous_relief",
            "A second injection needs greater than 80% relief from the previous one (pain "
            "relief alone).",
            {"threshold": 80, "strictly_above": True, "functional_counts": False},
            when=When(cpt_in=FACET_CODES, min_position=2, max_position=2),
        ),
        Rule(
            "cohere.facet.repeat_sustained",
            "previous_relief",
            "After 2 or more injections, the previous one gave 50% improvement for 3 months.",
            {"threshold": 50, "measure": "sustained", "sustained": months(3)},
            when=When(cpt_in=FACET_CODES, min_position=3),
            time_rule=True,
        ),
        Rule(
            "cohere.facet.fusion_exclusion",
            "surgery_conflict",
            "Not appropriate after a previous fusion at the symptomatic level.",
            {"surgery_kind": "fusion", "overlapping_levels": True},
            when=_FACET,
        ),
        # ---- radiofrequency ablation
        _indications(
            "cohere.rfa.indications",
            "More than 6 weeks of conservative management.",
            ((_conservative(6),),),
            _RFA,
        ),
        _non_indications(
            "cohere.rfa.non_indications",
            frozenset({"needle_site_infection", "local_anesthetic_allergy"}),
            _RFA,
        ),
        Rule(
            "cohere.rfa.diagnostic_blocks",
            "prior_procedure",
            "Two or more diagnostic medial branch blocks in the region, each with 50% or "
            "greater relief.",
            {
                "family": "facet",
                "intent_in": frozenset({"diagnostic"}),
                "approach_in": frozenset({"medial_branch", None}),
                "threshold": 50,
                "min_count": 2,
                "label": "diagnostic medial branch block in the region",
            },
            when=_RFA,
        ),
        Rule(
            "cohere.rfa.repeat_interval",
            "min_interval",
            "A second radiofrequency ablation only after 6 months.",
            {"span": months(6)},
            when=_RFA,
            time_rule=True,
        ),
        Rule(
            "cohere.rfa.repeat_response",
            "previous_relief",
            "A second radiofrequency ablation needs 50% improvement from the previous one.",
            {"threshold": 50},
            when=_RFA,
        ),
        # ---- facet cyst aspiration
        _indications(
            "cohere.cyst.indications",
            "A first aspiration needs imaging confirming compression or displacement of the "
            "nerve root.",
            ((IMAGING,),),
            When(cpt_in=CYST_CODES, has_previous=False),
        ),
        _non_indications(
            "cohere.cyst.non_indications",
            frozenset({"needle_site_infection", "local_anesthetic_allergy"}),
            _CYST,
        ),
        Rule(
            "cohere.cyst.first_request",
            "exemption",
            "A first cyst aspiration has no criteria on earlier aspirations.",
            {
                "message": "a first facet cyst aspiration in the region: no earlier aspiration "
                "to meet criteria for (checked: 3-month interval, sustained relief)"
            },
            when=When(cpt_in=CYST_CODES, has_previous=False),
        ),
        Rule(
            "cohere.cyst.repeat_interval",
            "min_interval",
            "A second cyst aspiration only after 3 months.",
            {"span": months(3)},
            when=_CYST,
            time_rule=True,
        ),
        Rule(
            "cohere.cyst.repeat_sustained",
            "previous_relief",
            "A second cyst aspiration needs 50% or more improvement for at least 3 months.",
            {"threshold": 50, "measure": "sustained", "sustained": months(3)},
            when=_CYST,
            time_rule=True,
        ),
    ),
)

TISSUE_INJECTIONS = Guideline(
    id="COHERE_TISSUE_INJECTIONS",
    title="Cohere Health Spinal Allogeneic Tissue-Based Injections V1.0",
    source=COHERE_TISSUE,
    families=frozenset({"investigational"}),
    codes=TISSUE_CODES,
    versions=(GuidelineVersion("V1.0", date(2023, 8, 28), {}, "published 2023-08-28"),),
    rules=(
        Rule(
            "cohere.tissue.investigational",
            "not_covered",
            "Spinal allogeneic tissue-based injections are experimental/investigational.",
            {
                "message": "spinal allogeneic tissue-based injections are experimental/"
                "investigational under Cohere: not covered on any date"
            },
        ),
    ),
)

COHERE_GUIDELINES: tuple[Guideline, ...] = (NECK_PAIN, TISSUE_INJECTIONS)
