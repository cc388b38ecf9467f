"""The ``nia`` device and trial guidelines as data: spinal cord stimulation (NIA_CG_405),
implantable infusion pumps (NIA_CG_310) and single-injection intrathecal trials (NIA_CG_408).

Devices follow trial-then-permanent and replacement rules rather than yearly caps:

- scs trial (intent ``trial``): the initial criteria only (``initial_criteria_met``).
- scs implant (intent ``implant``): a prior scs trial of the patient (any region) with the same
  ``device_type`` whose outcome, assessed at least 3 days after the trial, shows 50% relief
  with functional improvement; no trial -> fail; a trial without outcome -> missing.
- scs revision/removal: ``device_reason`` one of the seven the guideline lists.
- intrathecal trial: unless its agent is antispasmodic (a spasticity trial), ``opioid_naive``
  must be false.
- pump implant (62360-62362, intent ``implant``): a prior intrathecal trial of the patient
  whose latest outcome meets 50%.
- pump replacement (intent ``replacement``): ``device_reason`` malfunction or
  battery_depletion.
- anything else of these families (a refill, an analysis, a catheter, a generator change) is
  eligible; an ``exemption`` reason says what was checked.

Nothing here is code beyond building tuples: the evaluators live in :mod:`policies.kinds`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from policies.citations import NIA
from policies.engine import Guideline, GuidelineVersion, Rule, When
from policies.kinds import FactTest
from policies.nia import (
    FUNCTIONAL_DISABILITY,
    MAY_2022,
    MAY_2023,
    PAIN_ITEM,
    THERAPY_EXCEPTION,
    contraindications,
    therapy_weeks,
)

PUMP_DEVICES = frozenset({"62360", "62361", "62362"})
SCS_LIMITED_INTENTS = frozenset({"trial", "implant", "revision", "removal"})
SCS_REVISION_REASONS = frozenset(
    {
        "lead_migration",
        "loss_of_effectiveness",
        "intolerance",
        "infection",
        "painful_generator_site",
        "neurological_deficit",
        "patient_demand",
    }
)
PUMP_REPLACEMENT_REASONS = frozenset({"malfunction", "battery_depletion"})
INITIAL_CRITERIA = FactTest(
    "initial_criteria_met", "==", True, "the initial trial criteria are met"
)
PSYCH = FactTest(
    "psychological_assessment_completed", "==", True, "a completed psychological assessment"
)
TOLERABLE = FactTest(
    "trial_side_effects_tolerable", "==", True, "the trial's side effects were tolerable"
)
DEVICE_CONTRA = frozenset({"active_infection", "insufficient_body_habitus"})
SPASTICITY = frozenset({"spasticity"})
ANTISPASMODIC = frozenset({"antispasmodic"})
# NIA_CG_310: "no other medical indications ... except chronic pain and intractable
# spasticity": every indication but chronic_pain, cancer_pain (chronic pain of cancer),
# spasticity and intrathecal_trial (which names the trial itself).
OTHER_INDICATIONS = frozenset(
    {
        "acute_pain",
        "ptsd",
        "synovial_cyst",
        "facet_cyst_aspiration",
        "stem_cell",
        "post_operative_pain",
        "surgical_anesthesia",
        "chemotherapy",
        "headache",
    }
)


def _since(first: date, original: str) -> tuple[GuidelineVersion, ...]:
    return (
        GuidelineVersion(
            "2024", first, {}, f"Original Date: {original}; 2024 guideline (last revised May 2023)"
        ),
    )


# ----------------------------------------------------------------------------- NIA_CG_405

SCS = Guideline(
    id="NIA_CG_405",
    title="Spinal Cord Stimulation",
    source=NIA,
    families=frozenset({"scs"}),
    versions=_since(date(2020, 8, 1), "August 2020"),
    rules=(
        Rule(
            "nia.scs.trial_criteria",
            "facts",
            "A spinal cord stimulation trial needs the initial criteria (pain, 6 months of "
            "failed conservative therapy, psychological assessment, a qualifying diagnosis).",
            {"tests": (INITIAL_CRITERIA,)},
            when=When(intent_in=frozenset({"trial"})),
        ),
        Rule(
            "nia.scs.trial_requirements",
            "criteria",
            "The trial criteria one by one: pain causing functional disability or average "
            "pain of at least 6/10, and at least 6 months of failed conservative therapy (or a "
            "documented reason it cannot be done).",
            {
                "items": (
                    PAIN_ITEM,
                    (therapy_weeks(26, "conservative therapy (6 months)"), THERAPY_EXCEPTION),
                ),
                "covered_by": "initial_criteria_met",
                "label": "spinal cord stimulation trial criteria",
            },
            when=When(intent_in=frozenset({"trial"})),
        ),
        Rule(
            "nia.scs.psychological_assessment",
            "criteria",
            "A trial needs a completed psychological assessment.",
            {
                "items": ((PSYCH,),),
                "covered_by": "initial_criteria_met",
                "label": "spinal cord stimulation trial criteria",
            },
            when=When(intent_in=frozenset({"trial"})),
        ),
        contraindications(
            "nia.scs.contraindications",
            DEVICE_CONTRA,
            when=When(intent_in=frozenset({"trial", "implant"})),
            effective_from=MAY_2022,
        ),
        Rule(
            "nia.scs.implant_after_trial",
            "prior_procedure",
            "A permanent stimulator needs a successful trial of the same type of device: at "
            "least 50% pain reduction and significant functional improvement for at least "
            "3 days.",
            {
                "family": "scs",
                "scope": "patient",
                "intent_in": frozenset({"trial"}),
                "same_device_type": True,
                "threshold": 50,
                "functional_counts": False,
                "require_functional": True,
                "assessed_after_days": 3,
                "label": "spinal cord stimulator trial of the same device type",
            },
            when=When(intent_in=frozenset({"implant"})),
        ),
        Rule(
            "nia.scs.revision_reasons",
            "facts",
            "Revision or removal of a stimulator needs one of: lead migration, loss of "
            "effectiveness, intolerance, infection, painful generator site, neurological "
            "deficit, patient demand.",
            {
                "tests": (
                    FactTest(
                        "device_reason",
                        "in",
                        SCS_REVISION_REASONS,
                        "a reason the guideline lists for revision or removal",
                    ),
                )
            },
            when=When(intent_in=frozenset({"revision", "removal"})),
        ),
        Rule(
            "nia.scs.not_limited",
            "exemption",
            "Stimulator procedures other than a trial, a permanent implant, a revision or a "
            "removal have no criteria in the guideline.",
            {
                "message": "not a trial, permanent implant, revision or removal: NIA_CG_405 "
                "sets no criteria for it (checked: trial criteria, implant after "
                "trial, revision/removal reasons)"
            },
            unless=When(intent_in=SCS_LIMITED_INTENTS),
        ),
    ),
)

# ----------------------------------------------------------------------------- NIA_CG_408

INTRATHECAL_TRIAL = Guideline(
    id="NIA_CG_408",
    title="Epidural Spine Injections and Single Injection Trials for Intrathecal Pumps",
    source=NIA,
    families=frozenset({"intrathecal_trial"}),
    # NIA_CG_408 is "New policy" of May 2022, but it restates the trial criteria NIA_CG_310
    # holds since July 2015 (the same two lists and the opiate-naive note): trials are
    # decided under it from 310's original date, and before that no version was in force.
    versions=(
        GuidelineVersion(
            "2024",
            date(2015, 7, 1),
            {},
            "trial criteria of NIA_CG_310 (Original Date: July 2015); published as NIA_CG_408 "
            "in May 2022",
        ),
    ),
    rules=(
        Rule(
            "nia.intrathecal_trial.opioid_tolerance",
            "facts",
            "Intrathecal trials for pain are not indicated in opiate-naive individuals.",
            {"tests": (FactTest("opioid_naive", "==", False, "the patient is not opiate-naive"),)},
            unless=When(agent_in=ANTISPASMODIC),
        ),
        Rule(
            "nia.intrathecal_trial.pain_criteria",
            "criteria",
            "A trial for chronic intractable pain needs pain causing functional disability or "
            "persistent pain of at least 6/10, and at least 12 weeks of failed conservative "
            "therapy (or a documented reason it cannot be done).",
            {
                "items": (PAIN_ITEM, (therapy_weeks(12), THERAPY_EXCEPTION)),
                "covered_by": "initial_criteria_met",
                "label": "intraspinal drug trial criteria (chronic pain)",
                "when_absent": "unverified",
            },
            unless=When(agent_in=ANTISPASMODIC),
        ),
        Rule(
            "nia.intrathecal_trial.spasticity_criteria",
            "criteria",
            "A spasticity trial needs at least 12 weeks of failed standard therapies.",
            {
                "items": ((therapy_weeks(12, "standard therapies"),),),
                "covered_by": "initial_criteria_met",
                "label": "intraspinal drug trial criteria (spasticity)",
                "when_absent": "unverified",
            },
            when=When(agent_in=ANTISPASMODIC),
        ),
        contraindications(
            "nia.intrathecal_trial.contraindications",
            DEVICE_CONTRA | {"needle_site_infection", "severe_stenosis_obstruction"},
        ),
        Rule(
            "nia.intrathecal_trial.spasticity",
            "exemption",
            "A trial of an antispasmodic is a spasticity trial, with its own criteria and "
            "without the opiate-naive exclusion.",
            {
                "message": "a spasticity trial (antispasmodic agent): the opiate-naive "
                "exclusion does not apply"
            },
            when=When(agent_in=frozenset({"antispasmodic"})),
        ),
    ),
)

# ----------------------------------------------------------------------------- NIA_CG_310

_IMPLANT = When(cpt_in=PUMP_DEVICES, intent_in=frozenset({"implant"}))
_PAIN_IMPLANT = When(
    cpt_in=PUMP_DEVICES, intent_in=frozenset({"implant"}), indication_not_in=SPASTICITY
)
_SPASTICITY_IMPLANT = When(
    cpt_in=PUMP_DEVICES, intent_in=frozenset({"implant"}), indication_in=SPASTICITY
)


def not_limited(
    rule_id: str, description: str, checked: str, when: When | None = None
) -> tuple[Rule, Rule]:
    """The exemption reasons of a pump guideline: what neither the implant rule (62360-62362,
    intent implant) nor the replacement rule (intent replacement) covers passes, saying
    what was checked."""
    other = Rule(
        rule_id,
        "exemption",
        description,
        {"message": f"neither a pump implant nor a replacement: {checked}"},
        when=when or When(),
        unless=When(intent_in=frozenset({"implant", "replacement"})),
    )
    catheter = Rule(
        rule_id,
        "exemption",
        description,
        {"message": f"not the implantation of a pump or reservoir (62360-62362): {checked}"},
        when=replace(when or When(), intent_in=frozenset({"implant"})),
        unless=When(cpt_in=PUMP_DEVICES),
    )
    return other, catheter


_REPLACEMENT = When(intent_in=frozenset({"replacement"}))

PUMP = Guideline(
    id="NIA_CG_310",
    title="Implantable Infusion Pump Insertion",
    source=NIA,
    families=frozenset({"pump"}),
    versions=_since(date(2015, 7, 1), "July 2015"),
    rules=(
        Rule(
            "nia.pump.implant_after_trial",
            "prior_procedure",
            "A permanently implanted pump needs a successful intraspinal trial with at least "
            "50% relief.",
            {
                "family": "intrathecal_trial",
                "scope": "patient",
                "threshold": 50,
                "functional_counts": False,
                "agent_in": frozenset({"opioid", None}),
                "label": "intraspinal opioid trial",
            },
            when=_PAIN_IMPLANT,
        ),
        Rule(
            "nia.pump.spasticity_trial",
            "prior_procedure",
            "A pump for spasticity needs a successful intraspinal antispasmodic trial with at "
            "least 50% spasm relief.",
            {
                "family": "intrathecal_trial",
                "scope": "patient",
                "threshold": 50,
                "functional_counts": False,
                "agent_in": ANTISPASMODIC,
                "label": "intraspinal antispasmodic trial",
            },
            when=_SPASTICITY_IMPLANT,
        ),
        Rule(
            "nia.pump.implant_requirements",
            "criteria",
            "A permanent pump needs at least 12 weeks of failed conservative therapy (standard "
            "therapies for spasticity), a completed psychological assessment and a trial with "
            "tolerable side effects.",
            {
                "items": (
                    (therapy_weeks(12), THERAPY_EXCEPTION),
                    (PSYCH,),
                    (TOLERABLE,),
                ),
                "covered_by": "initial_criteria_met",
                "label": "permanent pump criteria",
                "when_absent": "unverified",
            },
            when=_IMPLANT,
        ),
        Rule(
            "nia.pump.pain_level",
            "criteria",
            "A pump for chronic pain needs pain causing functional disability, or (from May "
            "2022) persistent pain of at least 6/10.",
            {
                "items": (PAIN_ITEM,),
                "covered_by": "initial_criteria_met",
                "label": "permanent pump criteria (pain)",
                "when_absent": "unverified",
            },
            when=_PAIN_IMPLANT,
            effective_from=MAY_2022,
        ),
        Rule(
            "nia.pump.pain_level",
            "criteria",
            "Before May 2022 a pump for chronic pain needed pain causing functional disability "
            "(the pain-level alternative was added then).",
            {
                "items": ((FUNCTIONAL_DISABILITY,),),
                "covered_by": "initial_criteria_met",
                "label": "permanent pump criteria (pain, before May 2022)",
                "when_absent": "unverified",
            },
            when=_PAIN_IMPLANT,
            effective_until=MAY_2022,
        ),
        Rule(
            "nia.pump.opioid_medication",
            "criteria",
            "From May 2022 a pump for chronic pain needs at least 12 weeks of oral or "
            "transdermal opiate pain medication.",
            {
                "items": (
                    (
                        FactTest(
                            "opioid_medication_weeks",
                            ">=",
                            12,
                            "at least 12 weeks of oral or transdermal opiate medication",
                        ),
                    ),
                ),
                "covered_by": "initial_criteria_met",
                "label": "permanent pump criteria (opiate medication)",
                "when_absent": "unverified",
            },
            when=_PAIN_IMPLANT,
            effective_from=MAY_2022,
        ),
        Rule(
            "nia.pump.life_expectancy",
            "criteria",
            "Until May 2023 a permanent pump needed a life expectancy of at least 3 months.",
            {
                "items": (
                    (FactTest("life_expectancy_months", ">=", 3, "a life expectancy of 3 months"),),
                ),
                "covered_by": "initial_criteria_met",
                "label": "permanent pump criteria (life expectancy, before May 2023)",
                "when_absent": "unverified",
            },
            when=_IMPLANT,
            effective_until=MAY_2023,
        ),
        Rule(
            "nia.pump.other_indications",
            "exclusion",
            "Intrathecal treatment has no medical indications other than chronic pain and "
            "intractable spasticity.",
            {
                "message": "NIA_CG_310 knows no intrathecal treatment indication but chronic "
                "pain and intractable spasticity",
                "indications": OTHER_INDICATIONS,
            },
        ),
        contraindications(
            "nia.pump.contraindications",
            DEVICE_CONTRA,
            when=When(intent_in=frozenset({"implant", "replacement"})),
        ),
        Rule(
            "nia.pump.replacement_reasons",
            "facts",
            "Replacing an implanted pump needs a malfunction impairing function or safety, or "
            "battery depletion.",
            {
                "tests": (
                    FactTest(
                        "device_reason",
                        "in",
                        PUMP_REPLACEMENT_REASONS,
                        "a pump malfunction or battery depletion",
                    ),
                )
            },
            when=_REPLACEMENT,
        ),
        *not_limited(
            "nia.pump.not_limited",
            "Pump procedures other than implanting a pump or reservoir (62360-62362) or "
            "replacing one, e.g. refills and analyses, have no criteria in the guideline.",
            "NIA_CG_310 sets no criteria for it (checked: implant after trial, replacement "
            "reasons)",
        ),
    ),
)


NIA_DEVICE_GUIDELINES: tuple[Guideline, ...] = (SCS, INTRATHECAL_TRIAL, PUMP)
