"""The ``nia-wa`` tightening as data: the Washington State Health Care Authority limits that
the NIA guidelines print under "Legislative Requirements — Washington" (Health Technology
Assessments 20160318B Spinal Injections and 20140321B Facet Neurotomy).

``nia-wa`` is every ``nia`` guideline followed by :data:`WA_HCA`; both apply to a request
they govern, so its response names the NIA guideline as ``policy`` and the Washington limits
under ``policy.also``, and its reasons carry ``nia.*`` and ``wa.*`` rules side by side.

- The esi and sij limits cover therapeutic injections for chronic pain: they apply when the
  proposed intent is therapeutic and the indication is not acute_pain.
- esi: at most 3 in a rolling 6 months per region (time rule); fails when 2 or more prior esi
  of the episode have outcomes that do not meet 30%.
- sij: fails when a prior sij of the episode has an outcome that does not meet 30%.
- facet: intra-articular injections are not covered; a therapeutic medial branch block is not
  covered; a diagnostic medial branch block goes on to the nia rules; no approach -> missing.
- rfa: thoracic not covered; cervical only at C3-C4 .. C6-C7 and one level per procedure;
  lumbar at most 2 levels; the first of an episode needs 2 prior diagnostic facet blocks in
  the region whose earliest outcomes reach 80% (lumbar) or 100% (cervical) pain relief alone;
  a repeat needs the previous rfa to meet 30% sustained 6 months (time rule).
"""

from __future__ import annotations

from policies.citations import CITATIONS, NIA
from policies.engine import Guideline, GuidelineVersion, Rule, When
from policies.kinds import FactTest
from projections.calendar import months

ESI_CODES = frozenset({"62320", "62321", "62322", "62323", "64479", "64483"})
SIJ_CODES = frozenset({"27096"})
FACET_CODES = frozenset({"64490", "64493", "0213T", "0216T"})
RFA_CODES = frozenset({"64633", "64635"})
CERVICAL_RFA_LEVELS = ("C3-C4", "C4-C5", "C5-C6", "C6-C7")

THERAPEUTIC = frozenset({"therapeutic"})
ACUTE = frozenset({"acute_pain"})


def _chronic_therapeutic(codes: frozenset[str]) -> When:
    return When(cpt_in=codes, intent_in=THERAPEUTIC, indication_not_in=ACUTE)


FAILED_THERAPY = FactTest(
    "conservative_therapy_failed", "==", True, "conservative therapy tried and failed"
)


def _attested(rule_id: str, description: str, test: FactTest, when: When) -> Rule:
    """A Washington coverage condition the provider attests; ``initial_criteria_met`` covers
    it when not stated one by one."""
    return Rule(
        rule_id,
        "criteria",
        description,
        {
            "items": ((test,),),
            "covered_by": "initial_criteria_met",
            "label": "Washington coverage condition",
        },
        when=when,
    )


RFA = When(cpt_in=RFA_CODES)


def _diagnostic_blocks(region: str, threshold: int, citation: str) -> Rule:
    return Rule(
        "wa.rfa.diagnostic_blocks",
        "prior_procedure",
        f"The first {region} neurotomy of an episode needs two prior diagnostic medial branch "
        f"blocks in the region, each with at least {threshold}% pain relief (pain relief "
        "alone, first outcome).",
        {
            "family": "facet",
            "intent_in": frozenset({"diagnostic"}),
            "measure": "earliest",
            "threshold": threshold,
            "functional_counts": False,
            "min_count": 2,
            "label": f"diagnostic facet block in the {region} region",
        },
        when=When(cpt_in=RFA_CODES, region_in=frozenset({region}), new_episode=True),
        citation_override=CITATIONS[citation],
    )


WA_HCA = Guideline(
    id="WA_HCA",
    title="Washington State Health Care Authority limits (Health Technology Assessments "
    "20160318B Spinal Injections and 20140321B Facet Neurotomy), as printed in the NIA "
    "guidelines",
    source=NIA,
    families=frozenset({"esi", "sij", "facet", "rfa"}),
    versions=(GuidelineVersion("2024", None, {}, "as printed in the 2024 NIA guidelines"),),
    rules=(
        # ---- scope of the spinal injection limits
        Rule(
            "wa.esi.chronic_therapeutic_scope",
            "exemption",
            "The Washington epidural limits cover therapeutic injections for chronic pain.",
            {
                "message": "a therapeutic epidural injection for chronic pain: the Washington "
                "limits apply"
            },
            when=_chronic_therapeutic(ESI_CODES),
        ),
        Rule(
            "wa.esi.chronic_therapeutic_scope",
            "exemption",
            "The Washington epidural limits cover therapeutic injections for chronic pain.",
            {
                "message": "not a therapeutic epidural injection for chronic pain (diagnostic, "
                "or for acute pain): the Washington limits do not apply"
            },
            when=When(cpt_in=ESI_CODES),
            unless=_chronic_therapeutic(ESI_CODES),
        ),
        Rule(
            "wa.sij.chronic_therapeutic_scope",
            "exemption",
            "The Washington sacroiliac limits cover therapeutic injections for chronic pain.",
            {
                "message": "a therapeutic sacroiliac joint injection for chronic pain: the "
                "Washington limits apply"
            },
            when=_chronic_therapeutic(SIJ_CODES),
        ),
        Rule(
            "wa.sij.chronic_therapeutic_scope",
            "exemption",
            "The Washington sacroiliac limits cover therapeutic injections for chronic pain.",
            {
                "message": "not a therapeutic sacroiliac joint injection for chronic pain: the "
                "Washington limits do not apply"
            },
            when=When(cpt_in=SIJ_CODES),
            unless=_chronic_therapeutic(SIJ_CODES),
        ),
        # ---- esi
        Rule(
            "wa.esi.imaging_guidance",
            "code_restriction",
            "Covered with fluoroscopic or CT guidance: 62320 and 62322 are, by their own "
            "definition, done without imaging guidance.",
            {
                "codes": frozenset({"62321", "62323", "64479", "64483"}),
                "label": "Washington covers therapeutic epidural injections with fluoroscopic "
                "or CT guidance (62320 and 62322 are without imaging guidance)",
            },
            when=_chronic_therapeutic(ESI_CODES),
        ),
        _attested(
            "wa.esi.radicular_pain",
            "Covered for the treatment of radicular pain.",
            FactTest("radicular_pain", "==", True, "radicular pain"),
            _chronic_therapeutic(ESI_CODES),
        ),
        _attested(
            "wa.esi.conservative_therapy_failed",
            "Covered after failure of conservative therapy.",
            FAILED_THERAPY,
            _chronic_therapeutic(ESI_CODES),
        ),
        Rule(
            "wa.esi.six_month_cap",
            "rolling_cap",
            "At most three therapeutic epidural injections per region in a rolling 6 months.",
            {"length": months(6), "limit": 3},
            when=_chronic_therapeutic(ESI_CODES),
            time_rule=True,
        ),
        Rule(
            "wa.esi.no_improvement_limit",
            "prior_poor_responses",
            "No more than two epidural injections of the episode without clinically "
            "meaningful improvement (30% relief or functional improvement).",
            {"threshold": 30, "fail_at": 2},
            when=_chronic_therapeutic(ESI_CODES),
        ),
        # ---- sij
        _attested(
            "wa.sij.conservative_therapy_failed",
            "Covered after failure of conservative therapy.",
            FAILED_THERAPY,
            _chronic_therapeutic(SIJ_CODES),
        ),
        Rule(
            "wa.sij.improvement_required",
            "prior_poor_responses",
            "No more than one sacroiliac joint injection of the episode without clinically "
            "meaningful improvement (30% relief or functional improvement).",
            {"threshold": 30, "fail_at": 1},
            when=_chronic_therapeutic(SIJ_CODES),
        ),
        # ---- facet
        Rule(
            "wa.facet.intra_articular_not_covered",
            "procedure_attribute",
            "Facet (intra-articular) joint injections are not a covered benefit; only medial "
            "branch blocks are considered, so the approach must be stated.",
            {
                "field": "approach",
                "allowed": frozenset({"medial_branch"}),
                "label": "the approach (intra-articular facet injections are not covered)",
            },
            when=When(cpt_in=FACET_CODES),
        ),
        Rule(
            "wa.facet.therapeutic_mbb_not_covered",
            "not_covered",
            "Therapeutic medial branch nerve block injections are not a covered benefit.",
            {
                "message": "a therapeutic medial branch block is not a covered benefit in "
                "Washington (diagnostic blocks are)"
            },
            when=When(
                cpt_in=FACET_CODES, approach_in=frozenset({"medial_branch"}), intent_in=THERAPEUTIC
            ),
        ),
        # ---- rfa
        _attested(
            "wa.rfa.age",
            "Neurotomy patients must be over 17 years of age.",
            FactTest("patient_age", ">", 17, "over 17 years of age"),
            RFA,
        ),
        _attested(
            "wa.rfa.pain_duration",
            "At least six months of continuous pain referable to the facet joint.",
            FactTest("pain_duration_weeks", ">=", 26, "at least six months (26 weeks) of pain"),
            RFA,
        ),
        _attested(
            "wa.rfa.non_radicular",
            "The pain is non-radicular.",
            FactTest("radicular_pain", "==", False, "non-radicular pain"),
            RFA,
        ),
        _attested(
            "wa.rfa.conservative_therapy_failed",
            "The condition is unresponsive to other therapies including conservative care.",
            FAILED_THERAPY,
            RFA,
        ),
        Rule(
            "wa.rfa.headache_not_covered",
            "exclusion",
            "Facet neurotomy for headache is not covered.",
            {
                "message": "facet neurotomy for headache is not covered in Washington",
                "indications": frozenset({"headache"}),
            },
            when=RFA,
        ),
        Rule(
            "wa.rfa.thoracic_not_covered",
            "not_covered",
            "Facet neurotomy for the thoracic spine is not covered.",
            {"message": "thoracic facet neurotomy is not covered in Washington"},
            when=When(cpt_in=RFA_CODES, region_in=frozenset({"thoracic"})),
        ),
        Rule(
            "wa.rfa.cervical_levels",
            "levels_limit",
            "Cervical facet neurotomy is limited to C3-C4 through C6-C7.",
            {"allowed_levels": CERVICAL_RFA_LEVELS},
            when=When(cpt_in=RFA_CODES, region_in=frozenset({"cervical"})),
        ),
        # One reason for the cervical limits (range and count), quoting each sentence.
        Rule(
            "wa.rfa.cervical_levels",
            "levels_limit",
            "One cervical joint per intervention.",
            {"max_levels": 1},
            when=When(cpt_in=RFA_CODES, region_in=frozenset({"cervical"})),
            citation_override=CITATIONS["wa.rfa.cervical_one_joint"],
        ),
        Rule(
            "wa.rfa.lumbar_levels",
            "levels_limit",
            "One or two lumbar joints (levels) per intervention.",
            {"max_levels": 2},
            when=When(cpt_in=RFA_CODES, region_in=frozenset({"lumbar"})),
        ),
        _diagnostic_blocks("lumbar", 80, "wa.rfa.diagnostic_blocks"),
        _diagnostic_blocks("cervical", 100, "wa.rfa.diagnostic_blocks_cervical"),
        Rule(
            "wa.rfa.repeat_sustained",
            "previous_relief",
            "A further neurotomy needs clinically significant improvement (30% relief or "
            "functional improvement) from the previous one for six months.",
            {"threshold": 30, "measure": "sustained", "sustained": months(6)},
            when=When(cpt_in=RFA_CODES, new_episode=False),
            time_rule=True,
        ),
    ),
)

WA_GUIDELINES: tuple[Guideline, ...] = (WA_HCA,)
