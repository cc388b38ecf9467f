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

from policies.citations import NIA
from policies.engine import Guideline, GuidelineVersion, Rule, When
from policies.kinds import FactTest

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
_2024 = (GuidelineVersion("2024", None, {}, "2024 guideline (last revised May 2023)"),)

# ----------------------------------------------------------------------------- NIA_CG_405

SCS = Guideline(
    id="NIA_CG_405",
    title="Spinal Cord Stimulation",
    source=NIA,
    families=frozenset({"scs"}),
    versions=_2024,
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
    versions=_2024,
    rules=(
        Rule(
            "nia.intrathecal_trial.opioid_tolerance",
            "facts",
            "Intrathecal trials for pain are not indicated in opiate-naive individuals.",
            {"tests": (FactTest("opioid_naive", "==", False, "the patient is not opiate-naive"),)},
            unless=When(agent_in=frozenset({"antispasmodic"})),
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
    versions=_2024,
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
                "label": "intrathecal trial",
            },
            when=_IMPLANT,
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
