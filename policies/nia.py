"""The ``nia`` injection guidelines as data: NIA/Evolent 2024 IPM guidelines NIA_CG_300 (esi),
NIA_CG_301 (facet), NIA_CG_302 (rfa), NIA_CG_305 (sij) and NIA_CG_404 (sympathetic), with the
version-dependent parameters of their policy history.

Every rule below paraphrases its guideline sentence in ``description``; the verbatim quote is
the citation keyed by the rule id in :mod:`policies.citations`. Nothing here is code beyond
building tuples: the evaluators live in :mod:`policies.kinds`.
"""

from __future__ import annotations

from datetime import date

from policies.citations import NIA
from policies.engine import Guideline, GuidelineVersion, OtherSince, Ref, Rule, When
from policies.kinds import FactTest
from projections.calendar import days, months, weeks

INJECTION_FAMILIES = frozenset({"esi", "facet", "rfa", "sij", "sympathetic"})
CROSS_REGION_FAMILIES = frozenset({"esi", "facet", "rfa", "sij"})

INITIAL_CRITERIA = FactTest(
    "initial_criteria_met", "==", True, "the initial injection criteria are met"
)
PAIN_AT_LEAST_6 = FactTest("pain_score", ">=", 6, "pain score of at least 6/10")
FUNCTIONAL_DISABILITY = FactTest(
    "functional_disability", "==", True, "pain causing functional disability"
)
CONSERVATIVE_THERAPY = FactTest(
    "active_conservative_therapy", "==", True, "ongoing active conservative therapy"
)
THERAPY_EXCEPTION = FactTest(
    "conservative_therapy_exception",
    "==",
    True,
    "a documented medical reason conservative therapy cannot be done",
)
PAIN_ITEM = (PAIN_AT_LEAST_6, FUNCTIONAL_DISABILITY)


def therapy_weeks(weeks: int, what: str = "non-operative conservative therapy") -> FactTest:
    return FactTest("conservative_therapy_weeks", ">=", weeks, f"at least {weeks} weeks of {what}")


def pain_weeks(op: str, weeks: int, label: str) -> FactTest:
    return FactTest("pain_duration_weeks", op, weeks, label)


CONTRA_INFECTIONS = frozenset({"active_infection", "needle_site_infection"})
NEW_EPISODE = When(new_episode=True)
REPEAT = When(new_episode=False)
ACUTE = frozenset({"acute_pain"})
MAY_2022 = date(2022, 5, 1)
MAY_2023 = date(2023, 5, 1)


def initial_refinements(conservative: bool = True, duration: bool = False) -> tuple[Rule, ...]:
    """The items of the initial criteria a request may state one by one (pain level or
    functional disability, conservative therapy, duration): a stated item that misses fails
    even when ``initial_criteria_met`` is attested; items not stated are covered by it."""
    rules = [
        Rule(
            "nia.common.initial_pain",
            "criteria",
            "A new episode needs pain causing functional disability or an average pain level "
            "of at least 6/10.",
            {
                "items": (PAIN_ITEM,),
                "covered_by": "initial_criteria_met",
                "label": "initial criteria (pain)",
            },
            when=NEW_EPISODE,
        )
    ]
    if conservative:
        rules.append(
            Rule(
                "nia.common.initial_conservative_therapy",
                "criteria",
                "A new episode needs at least 6 weeks of failed conservative therapy targeting "
                "the region (or ongoing therapy after prior injections, or a documented medical "
                "reason it cannot be done).",
                {
                    "items": ((therapy_weeks(6), CONSERVATIVE_THERAPY, THERAPY_EXCEPTION),),
                    "covered_by": "initial_criteria_met",
                    "label": "initial criteria (conservative therapy)",
                },
                when=NEW_EPISODE,
                unless=When(indication_in=ACUTE),
            )
        )
    if duration:
        rules.append(
            Rule(
                "nia.common.initial_duration",
                "criteria",
                "A new episode needs pain lasting at least 3 months.",
                {
                    "items": ((pain_weeks(">=", 13, "pain for at least 3 months (13 weeks)"),),),
                    "covered_by": "initial_criteria_met",
                    "label": "initial criteria (duration of pain)",
                },
                when=NEW_EPISODE,
            )
        )
    return tuple(rules)


def acute_pain_criteria(rule_id: str) -> Rule:
    """For acute pain: pain for less than 3 months and 2 weeks of failed therapy."""
    return Rule(
        rule_id,
        "criteria",
        "For acute pain: pain for less than 3 months and at least 2 weeks of failed "
        "conservative therapy (or a documented reason it cannot be done).",
        {
            "items": (
                (pain_weeks("<", 13, "pain for less than 3 months (13 weeks)"),),
                (therapy_weeks(2), THERAPY_EXCEPTION),
            ),
            "covered_by": "initial_criteria_met",
            "label": "acute pain criteria",
        },
        when=When(new_episode=True, indication_in=ACUTE),
    )


def contraindications(
    rule_id: str,
    facts: frozenset[str],
    when: When | None = None,
    effective_from: date | None = None,
) -> Rule:
    """The guideline's contraindications as attested facts: any attested true excludes."""
    return Rule(
        rule_id,
        "exclusion",
        "Contraindications: any of them attested excludes the procedure.",
        {"message": "a contraindication the guideline lists", "facts": facts},
        when=when or When(),
        effective_from=effective_from,
    )


def initial_criteria() -> Rule:
    return Rule(
        "nia.common.initial_criteria",
        "facts",
        "A procedure that starts a new episode of care (first one, 2 years after the previous, "
        "or after surgery or a new pathology in the region) must meet the initial criteria.",
        {"tests": (INITIAL_CRITERIA,)},
        when=NEW_EPISODE,
    )


def repeat_pain_and_therapy(unless: When | None = None) -> Rule:
    return Rule(
        "nia.common.repeat_pain_and_therapy",
        "criteria",
        "A repeat injection needs pain causing functional disability or average pain of at "
        "least 6/10, and ongoing active conservative therapy unless a medical reason it cannot "
        "be done is documented.",
        {
            "items": (PAIN_ITEM, (CONSERVATIVE_THERAPY, THERAPY_EXCEPTION)),
            "label": "repeat criteria",
        },
        when=REPEAT,
        unless=unless,
    )


SAME_DAY = Rule(
    "nia.common.same_day",
    "same_day_conflict",
    "Multiple interventional pain procedures on the same date are not medically necessary: "
    "another region needs a documented medical reason; in the same region only a facet "
    "injection with an ESI for a synovial cyst confirmed on imaging.",
    {
        "families": INJECTION_FAMILIES,
        "other_region_fact": "multi_region_medical_reason",
        "same_region_pairs": frozenset({frozenset({"esi", "facet"})}),
        "same_region_fact": "synovial_cyst_confirmed",
    },
)

CROSS_REGION = Rule(
    "nia.common.cross_region_7_days",
    "cross_region_interval",
    "Injections in different spinal regions are at least 7 days apart unless a medical reason "
    "is documented.",
    {"days": 7, "families": CROSS_REGION_FAMILIES, "fact": "multi_region_medical_reason"},
    time_rule=True,
)

# ----------------------------------------------------------------------------- NIA_CG_300

ESI = Guideline(
    id="NIA_CG_300",
    title="Epidural Spine Injections",
    source=NIA,
    families=frozenset({"esi"}),
    versions=(
        GuidelineVersion(
            "2021",
            date(2012, 10, 1),
            {"sustained_relief": weeks(6)},
            "Original Date: October 2012; relief after therapeutic injections sustained 6 weeks",
        ),
        GuidelineVersion(
            "2024",
            date(2022, 1, 1),
            {"sustained_relief": months(2)},
            "January 2022: sustained relief period 6 weeks -> 2 months",
        ),
    ),
    rules=(
        initial_criteria(),
        *initial_refinements(),
        acute_pain_criteria("nia.esi.acute_pain_criteria"),
        Rule(
            "nia.esi.diagnostic_transforaminal_only",
            "code_restriction",
            "A diagnostic epidural injection is a transforaminal one (to identify the pain "
            "generator for surgical planning).",
            {
                "codes": frozenset({"64479", "64483"}),
                "label": "a diagnostic epidural injection must be transforaminal",
            },
            when=When(intent_in=frozenset({"diagnostic"})),
        ),
        Rule(
            "nia.esi.diagnostic_surgical_plan",
            "criteria",
            "A diagnostic transforaminal injection needs a documented pre-operative evaluation "
            "and plan for surgery.",
            {
                "items": (
                    (
                        FactTest(
                            "surgical_plan_documented",
                            "==",
                            True,
                            "a documented pre-operative evaluation and plan for surgery",
                        ),
                    ),
                ),
                "covered_by": "initial_criteria_met",
                "label": "diagnostic injection criteria",
            },
            when=When(intent_in=frozenset({"diagnostic"})),
        ),
        Rule(
            "nia.esi.diagnostic_max",
            "intent_phase_max",
            "Up to 3 diagnostic epidural injections: only within the initial treatment phase.",
            {"intents": frozenset({"diagnostic"}), "limit": 3, "label": "initial treatment phase"},
        ),
        Rule(
            "nia.esi.exclusion_post_operative",
            "exclusion",
            "Post-operative pain control is excluded from the guideline.",
            {
                "message": "post-operative pain control is excluded from NIA_CG_300",
                "indications": frozenset({"post_operative_pain"}),
            },
        ),
        Rule(
            "nia.esi.exclusion_surgical_anesthesia",
            "exclusion",
            "Caudal or spinal anesthesia for surgery is excluded (added May 2022).",
            {
                "message": "caudal or spinal anesthesia for surgery is excluded from NIA_CG_300",
                "indications": frozenset({"surgical_anesthesia"}),
            },
            effective_from=MAY_2022,
        ),
        contraindications(
            "nia.esi.contraindications", CONTRA_INFECTIONS | {"severe_stenosis_obstruction"}
        ),
        repeat_pain_and_therapy(),
        SAME_DAY,
        CROSS_REGION,
        Rule(
            "nia.esi.initial_phase",
            "phase_position",
            "The initial treatment phase is the first 3 epidural injections of the episode.",
            {"length": 3, "phase": "initial treatment phase", "after": "the therapeutic phase"},
        ),
        Rule(
            "nia.esi.initial_interval",
            "min_interval",
            "Injections of the initial phase (2nd and 3rd) are no sooner than 2 weeks apart.",
            {"span": days(14)},
            when=When(min_position=2, max_position=3),
            time_rule=True,
        ),
        Rule(
            "nia.esi.initial_response",
            "previous_relief",
            "The 2nd and 3rd injections need at least 30% relief (or functional improvement) "
            "from the previous one, unless done at a different level or with a different "
            "approach after an unsuccessful injection.",
            {"threshold": 30, "change_allows": True},
            when=When(min_position=2, max_position=3),
        ),
        Rule(
            "nia.esi.therapeutic_sustained_relief",
            "previous_relief",
            "After the initial phase an injection is repeated only after at least 50% relief "
            "(or functional improvement) sustained 2 months (6 weeks before 2022) after the "
            "previous one.",
            {"threshold": 50, "measure": "sustained", "sustained": Ref("sustained_relief")},
            when=When(min_position=4),
            time_rule=True,
        ),
        Rule(
            "nia.esi.first_year_cap",
            "episode_cap",
            "At most 6 epidural injections per region in the first year of treatment.",
            {"span": months(12), "limit": 6, "label": "first year of treatment"},
            time_rule=True,
        ),
        Rule(
            "nia.esi.annual_cap",
            "rolling_cap",
            "After the first year at most 4 epidural injections per region in a rolling "
            "12 months (6 when special circumstances are documented).",
            {
                "length": months(12),
                "limit": 4,
                "lifted_by": "special_circumstances",
                "lifted_limit": 6,
            },
            when=When(first_year=False),
            time_rule=True,
        ),
        Rule(
            "nia.esi.transforaminal_levels",
            "units_per_day",
            "No more than 2 levels of transforaminal blocks on one day.",
            {
                "code_groups": (frozenset({"64479", "64480"}), frozenset({"64483", "64484"})),
                "limit": 2,
                "label": "transforaminal levels",
            },
        ),
    ),
)

# ----------------------------------------------------------------------------- NIA_CG_301

_PAIRING_VERSIONS = (
    GuidelineVersion(
        "2021",
        date(2012, 10, 1),
        {"pairing": weeks(2), "opposite_side": weeks(2)},
        "Original Date: October 2012; bilateral pairing / second side window 2 weeks",
    ),
    GuidelineVersion(
        "2024",
        date(2022, 5, 1),
        {"pairing": months(1), "opposite_side": months(1)},
        "May 2022: interval extended from 2 weeks to 1 month",
    ),
)

FACET = Guideline(
    id="NIA_CG_301",
    title="Paravertebral Facet Joint Injections or Blocks",
    source=NIA,
    families=frozenset({"facet"}),
    versions=_PAIRING_VERSIONS,
    rules=(
        initial_criteria(),
        *initial_refinements(duration=True),
        Rule(
            "nia.common.repeat_pain_and_therapy",
            "criteria",
            "A repeat injection needs pain causing functional disability or average pain of "
            "at least 6/10.",
            {"items": (PAIN_ITEM,), "label": "repeat criteria"},
            when=REPEAT,
        ),
        Rule(
            "nia.common.repeat_pain_and_therapy",
            "criteria",
            "A repeat injection needs ongoing active conservative therapy (or a documented "
            "reason it cannot be done), except a diagnostic injection within 1 month of the "
            "previous facet injection.",
            {"items": ((CONSERVATIVE_THERAPY, THERAPY_EXCEPTION),), "label": "repeat criteria"},
            when=REPEAT,
            unless=When(intent_in=frozenset({"diagnostic"}), previous_within=months(1)),
        ),
        Rule(
            "nia.facet.exclusion_atlantoaxial",
            "exclusion",
            "Atlantoaxial joint injections (C1-2) are excluded (added May 2023).",
            {
                "message": "atlantoaxial joint injections (C1-2) are excluded from NIA_CG_301",
                "levels": frozenset({"C1-C2"}),
            },
            effective_from=MAY_2023,
        ),
        Rule(
            "nia.facet.exclusion_sacral_lateral_branch",
            "exclusion",
            "Sacral lateral branch blocks (S1, S2, S3) are excluded (the exclusions section "
            "with lateral branch blocks was added May 2022).",
            {
                "message": "sacral lateral branch blocks (S1, S2, S3) are excluded from NIA_CG_301",
                "level_segments": frozenset({"S"}),
            },
            effective_from=MAY_2022,
        ),
        Rule(
            "nia.facet.fluoroscopic_or_ct_before_2022",
            "code_restriction",
            "Before May 2022 the procedures were done under fluoroscopic or CT guidance only: "
            "the ultrasound-guided codes were added as an option then.",
            {
                "codes": frozenset({"64490", "64493"}),
                "label": "before May 2022 only fluoroscopic or CT guidance qualified (the "
                "ultrasound-guided 0213T/0216T became an option in May 2022)",
            },
            effective_until=MAY_2022,
        ),
        contraindications(
            "nia.facet.contraindications", CONTRA_INFECTIONS | {"no_percutaneous_access"}
        ),
        SAME_DAY,
        CROSS_REGION,
        Rule(
            "nia.facet.diagnostic_phase_max",
            "phase_position",
            "The diagnostic phase is the first 2 facet procedures of the episode, at most 2.",
            {"length": 2, "phase": "diagnostic phase", "after": "the therapeutic phase"},
        ),
        Rule(
            "nia.facet.diagnostic_phase_max",
            "intent_phase_max",
            "At most 2 procedures in the diagnostic phase; a repeat diagnostic injection after "
            "a successful denervation is allowed if the pain generator is in question or other "
            "levels are targeted (surgery in the region starts a new episode).",
            {
                "intents": frozenset({"diagnostic"}),
                "limit": 2,
                "label": "diagnostic phase",
                "after_family": "rfa",
                "after_threshold": 50,
                "exception_fact": "pain_generator_in_question",
                "exception_other_levels": True,
            },
        ),
        Rule(
            "nia.facet.diagnostic_interval",
            "min_interval",
            "The 2nd diagnostic procedure is no sooner than 2 weeks after the first (1 week "
            "when the first was a diagnostic block with local anesthetic).",
            {
                "span": days(14),
                "if_previous": {"intent": "diagnostic", "agent": "local_anesthetic"},
                "span_if_previous": days(7),
            },
            when=When(min_position=2, max_position=2),
            time_rule=True,
        ),
        Rule(
            "nia.facet.diagnostic_response",
            "previous_relief",
            "The 2nd diagnostic procedure needs at least 50% relief from the first, unless it "
            "is at different levels or with a different approach.",
            {"threshold": 50, "change_allows": True},
            when=When(min_position=2, max_position=2),
        ),
        Rule(
            "nia.facet.therapeutic_response",
            "previous_relief",
            "Later facet procedures need at least 50% relief from the previous one, sustained "
            "2 months when the previous one was therapeutic.",
            {
                "threshold": 50,
                "measure": "sustained",
                "sustained": months(2),
                "sustained_if_previous_intent": frozenset({"therapeutic"}),
                "and_latest": True,
            },
            when=When(min_position=3),
            time_rule=True,
        ),
        Rule(
            "nia.facet.annual_cap",
            "rolling_cap",
            "At most 4 facet procedures per region in a rolling 12 months (a bilateral pair "
            "counts once); special circumstances lift the cap.",
            {
                "length": months(12),
                "limit": 4,
                "pairing": Ref("pairing"),
                "lifted_by": "special_circumstances",
            },
            time_rule=True,
        ),
    ),
)

# ----------------------------------------------------------------------------- NIA_CG_302

RFA = Guideline(
    id="NIA_CG_302",
    title="Paravertebral Facet Joint Denervation (Radiofrequency Neurolysis)",
    source=NIA,
    families=frozenset({"rfa"}),
    versions=_PAIRING_VERSIONS,
    rules=(
        initial_criteria(),
        *initial_refinements(duration=True),
        Rule(
            "nia.rfa.exclusion_sacral",
            "exclusion",
            "Radiofrequency denervation of the sacroiliac joint or sacral lateral branches "
            "(S1, S2, S3) is excluded (exclusions section added May 2022).",
            {
                "message": "denervation of the sacroiliac joint or sacral lateral branches "
                "(S1, S2, S3) is excluded from NIA_CG_302",
                "level_segments": frozenset({"S"}),
            },
            effective_from=MAY_2022,
        ),
        contraindications("nia.rfa.contraindications", CONTRA_INFECTIONS),
        repeat_pain_and_therapy(),
        SAME_DAY,
        Rule(
            "nia.rfa.diagnostic_block_prerequisite",
            "prior_procedure",
            "The first denervation of an episode needs a prior diagnostic facet block in the "
            "region whose first outcome showed at least 70% relief.",
            {
                "family": "facet",
                "intent_in": frozenset({"diagnostic"}),
                "threshold": 70,
                "measure": "earliest",
                "label": "diagnostic facet block in the region",
            },
            when=NEW_EPISODE,
        ),
        Rule(
            "nia.rfa.opposite_side",
            "exemption",
            "The opposite side at the same levels within 1 month (2 weeks before May 2022) of "
            "the previous denervation needs no outcome and no interval.",
            {
                "message": "opposite side at the same levels within the second-side window of "
                "the previous denervation: no outcome or interval needed"
            },
            when=When(min_position=2, opposite_side_of_previous=Ref("opposite_side")),
        ),
        Rule(
            "nia.rfa.repeat_sustained_relief",
            "previous_relief",
            "A repeat denervation needs at least 50% relief sustained 4 months from the "
            "previous one.",
            {"threshold": 50, "measure": "sustained", "sustained": months(4)},
            when=When(min_position=2),
            unless=When(opposite_side_of_previous=Ref("opposite_side")),
            time_rule=True,
        ),
        Rule(
            "nia.rfa.annual_cap",
            "rolling_cap",
            "At most 2 denervations per region in a rolling 12 months (a bilateral pair "
            "counts once).",
            {"length": months(12), "limit": 2, "pairing": Ref("pairing")},
            time_rule=True,
        ),
    ),
)

# ----------------------------------------------------------------------------- NIA_CG_305

SIJ = Guideline(
    id="NIA_CG_305",
    title="Sacroiliac Joint Injections",
    source=NIA,
    families=frozenset({"sij"}),
    versions=(
        GuidelineVersion(
            "2022",
            date(2014, 1, 1),
            {"sustained_relief": weeks(6)},
            "Original Date: January 2014; repeat injections after relief sustained 6 weeks",
        ),
        GuidelineVersion(
            "2024",
            date(2023, 5, 1),
            {"sustained_relief": months(2)},
            "May 2023: repeat interval 6 weeks -> 2 months",
        ),
    ),
    rules=(
        initial_criteria(),
        *initial_refinements(duration=True),
        contraindications("nia.sij.contraindications", CONTRA_INFECTIONS),
        repeat_pain_and_therapy(),
        SAME_DAY,
        Rule(
            "nia.sij.initial_phase",
            "phase_position",
            "The initial phase is the first 2 sacroiliac joint injections of the episode.",
            {"length": 2, "phase": "initial phase", "after": "the therapeutic phase"},
        ),
        Rule(
            "nia.sij.initial_interval",
            "min_interval",
            "The 2nd injection is no sooner than 2 weeks after the first.",
            {"span": days(14)},
            when=When(min_position=2, max_position=2),
            time_rule=True,
        ),
        Rule(
            "nia.sij.initial_response",
            "previous_relief",
            "The 2nd injection needs at least 50% relief from the first.",
            {"threshold": 50},
            when=When(min_position=2, max_position=2),
        ),
        Rule(
            "nia.sij.therapeutic_sustained_relief",
            "previous_relief",
            "Later injections need at least 50% relief sustained 2 months (6 weeks before "
            "May 2023) from the previous one.",
            {"threshold": 50, "measure": "sustained", "sustained": Ref("sustained_relief")},
            when=When(min_position=3),
            time_rule=True,
        ),
        Rule(
            "nia.sij.annual_cap",
            "rolling_cap",
            "At most 4 sacroiliac joint injections in a rolling 12 months.",
            {"length": months(12), "limit": 4},
            time_rule=True,
        ),
        Rule(
            "nia.sij.provocative_exam",
            "facts",
            "After an ESI, facet or denervation in the lumbar region since the previous "
            "sacroiliac injection, a positive provocative exam must be documented again.",
            {
                "tests": (
                    FactTest(
                        "positive_provocative_exam", "==", True, "a positive provocative exam"
                    ),
                )
            },
            when=When(
                other_since_previous=OtherSince(frozenset({"esi", "facet", "rfa"}), "lumbar")
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------- NIA_CG_404

PTSD = frozenset({"ptsd"})

SYMPATHETIC = Guideline(
    id="NIA_CG_404",
    title="Sympathetic Nerve Blocks",
    source=NIA,
    families=frozenset({"sympathetic"}),
    versions=(GuidelineVersion("2024", date(2020, 11, 1), {}, "Original Date: November 2020"),),
    rules=(
        initial_criteria(),
        *initial_refinements(conservative=False),
        acute_pain_criteria("nia.sympathetic.acute_pain_criteria"),
        Rule(
            "nia.sympathetic.chronic_pain_duration",
            "criteria",
            "For chronic pain: pain for at least 3 months.",
            {
                "items": ((pain_weeks(">=", 13, "pain for at least 3 months (13 weeks)"),),),
                "covered_by": "initial_criteria_met",
                "label": "chronic pain criteria",
            },
            when=When(new_episode=True, indication_in=frozenset({"chronic_pain"})),
        ),
        Rule(
            "nia.sympathetic.chronic_one_extremity",
            "exclusion",
            "For chronic pain the pain is in one extremity (with same-side pain), unless it is "
            "ischemic limb pain: a bilateral block does not fit.",
            {
                "message": "for chronic pain the guideline's indications are pain in one "
                "extremity or ischemic limb pain",
                "lateralities": frozenset({"bilateral"}),
                "unless_fact": "ischemic_limb_pain",
            },
            when=When(indication_in=frozenset({"chronic_pain"})),
        ),
        Rule(
            "nia.sympathetic.ptsd_stellate_only",
            "code_restriction",
            "For PTSD the block is a stellate ganglion block.",
            {"codes": frozenset({"64510"}), "label": "PTSD is treated by stellate ganglion block"},
            when=When(indication_in=PTSD),
        ),
        contraindications(
            "nia.sympathetic.contraindications", CONTRA_INFECTIONS, effective_from=MAY_2022
        ),
        repeat_pain_and_therapy(unless=When(indication_in=PTSD)),
        SAME_DAY,
        Rule(
            "nia.sympathetic.interval",
            "min_interval",
            "Sympathetic blocks are at least 7 days apart (any region).",
            {"span": days(7), "scope": "patient"},
            time_rule=True,
        ),
        Rule(
            "nia.sympathetic.response",
            "previous_relief",
            "A repeat block in the region needs at least 50% relief from the previous block's "
            "first outcome.",
            {"threshold": 50, "measure": "earliest"},
        ),
        Rule(
            "nia.sympathetic.ptsd_caps",
            "episode_cap",
            "For PTSD (stellate ganglion) at most 3 blocks in the first 12 weeks of the episode.",
            {"span": weeks(12), "limit": 3, "label": "first 12 weeks"},
            when=When(indication_in=PTSD),
            time_rule=True,
        ),
        Rule(
            "nia.sympathetic.ptsd_caps",
            "rolling_cap",
            "For PTSD at most 6 blocks in a rolling 12 months.",
            {"length": months(12), "limit": 6},
            when=When(indication_in=PTSD),
            time_rule=True,
        ),
        Rule(
            "nia.sympathetic.acute_cap",
            "rolling_cap",
            "For acute pain at most 6 blocks per region in a rolling 12 months.",
            {"length": months(12), "limit": 6},
            when=When(indication_in=frozenset({"acute_pain"})),
            time_rule=True,
        ),
        Rule(
            "nia.sympathetic.chronic_cap",
            "rolling_cap",
            "For chronic pain (or no indication given) at most 4 blocks per region in a "
            "rolling 12 months.",
            {"length": months(12), "limit": 4},
            when=When(indication_in=frozenset({"chronic_pain", None})),
            time_rule=True,
        ),
    ),
)

NIA_INJECTION_GUIDELINES: tuple[Guideline, ...] = (ESI, FACET, RFA, SIJ, SYMPATHETIC)
