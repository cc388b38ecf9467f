"""The clinical facts a requesting provider attests, and which rules read them.

A fact is something only the provider can know (a pain score, a completed psychological
assessment, an infection): the request carries it under ``clinical``, every key optional.
This module is the one list of them: name, type, meaning. The request schema's field
descriptions and the README's table come from it, and :func:`facts_of` names the facts a
rule reads (shown per rule by ``GET /v1/policies``).

How a rule treats an absent fact is the rule's kind's business (see ``policies.kinds`` and
``policies.kinds.criteria``): required facts are ``missing`` (pending_documentation);
exception facts (a medical reason, special circumstances) and contraindications count only
when attested true.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    type: str  # "boolean" | "number" | "device_reason"
    meaning: str


_FACTS: tuple[Fact, ...] = (
    # ---- pain and function
    Fact("pain_score", "number", "average pain level on a 0-10 scale"),
    Fact(
        "functional_disability",
        "boolean",
        "the pain causes functional disability (the guidelines' alternative to a pain "
        "level of at least 6/10)",
    ),
    Fact(
        "pain_duration_weeks",
        "number",
        "how long the pain has lasted, in weeks (3 months is read as 13 weeks, 6 months as "
        "26 weeks)",
    ),
    Fact(
        "radicular_pain",
        "boolean",
        "the pain treated is radicular (false: axial / non-radicular pain)",
    ),
    Fact("patient_age", "number", "the patient's age in years"),
    # ---- what was tried before
    Fact(
        "active_conservative_therapy",
        "boolean",
        "the patient is engaged in ongoing active conservative therapy",
    ),
    Fact(
        "conservative_therapy_weeks",
        "number",
        "weeks of failed non-operative conservative therapy targeting the region (6 months "
        "is read as 26 weeks)",
    ),
    Fact(
        "conservative_therapy_failed",
        "boolean",
        "conservative therapy (or management) was tried and failed, as documented",
    ),
    Fact(
        "conservative_therapy_exception",
        "boolean",
        "the medical reason conservative therapy cannot be done is clearly documented",
    ),
    Fact(
        "opioid_medication_weeks",
        "number",
        "weeks of oral or transdermal opiate pain medication before the request",
    ),
    Fact(
        "systemic_opioids_failed",
        "boolean",
        "oral, transdermal or subcutaneous opioids failed or their side effects are not tolerable",
    ),
    Fact(
        "oral_antispasmodics_failed",
        "boolean",
        "a trial of at least 6 weeks of oral antispasmodics failed to control the spasticity, "
        "or they produced intolerable side effects",
    ),
    Fact("opioid_naive", "boolean", "the patient is opiate-naive"),
    # ---- evaluations and documentation
    Fact(
        "initial_criteria_met",
        "boolean",
        "the provider attests every criterion of the guideline's indication for this "
        "procedure (its 'ALL of the following' list); it covers the criteria not sent "
        "one by one, never one sent and not met",
    ),
    Fact(
        "psychological_assessment_completed",
        "boolean",
        "a completed psychological assessment documents what the guideline asks of it",
    ),
    Fact(
        "trial_side_effects_tolerable",
        "boolean",
        "the trial's side effects were tolerable (minimal) and the patient tolerated it",
    ),
    Fact("life_expectancy_months", "number", "documented life expectancy, in months"),
    Fact(
        "surgical_plan_documented",
        "boolean",
        "a pre-operative evaluation and plan for surgery is documented",
    ),
    Fact(
        "imaging_confirms_target",
        "boolean",
        "advanced imaging shows what the request treats (nerve impingement, facet arthritis "
        "or spondylosis at the level, the cyst compressing the nerve root)",
    ),
    Fact(
        "positive_provocative_exam",
        "boolean",
        "positive sacroiliac provocative exam findings, documented again",
    ),
    Fact(
        "pain_generator_in_question",
        "boolean",
        "there is a question about the pain generator (or evidence of multi-level pathology)",
    ),
    Fact(
        "ischemic_limb_pain",
        "boolean",
        "the limb pain is ischemic (intractable rest pain, non-healing ulcers or failed "
        "revascularization)",
    ),
    # ---- exceptions that lift a limit
    Fact(
        "special_circumstances",
        "boolean",
        "special (unusual) circumstances are documented, e.g. severe stenosis in an elderly "
        "non-operative candidate, a recurrent injury",
    ),
    Fact(
        "multi_region_medical_reason",
        "boolean",
        "a medical reason to treat different regions on one date (or within 7 days)",
    ),
    Fact("synovial_cyst_confirmed", "boolean", "a synovial cyst confirmed on imaging"),
    # ---- contraindications (count only when attested true)
    Fact("active_infection", "boolean", "active systemic or spinal infection"),
    Fact(
        "needle_site_infection",
        "boolean",
        "skin or local infection at the needle puncture / procedure site",
    ),
    Fact(
        "severe_stenosis_obstruction",
        "boolean",
        "severe spinal stenosis resulting in intraspinal obstruction",
    ),
    Fact(
        "insufficient_body_habitus",
        "boolean",
        "body habitus (size) insufficient to support the weight and bulk of the device",
    ),
    Fact(
        "no_percutaneous_access",
        "boolean",
        "percutaneous access to the target facet joint cannot be obtained",
    ),
    Fact(
        "coagulopathy_or_anticoagulation",
        "boolean",
        "coagulopathy or recent use of blood-thinning agents",
    ),
    Fact("steroid_hypersensitivity", "boolean", "hypersensitivity (or allergy) to steroids"),
    Fact("uncontrolled_diabetes", "boolean", "uncontrolled diabetes"),
    Fact("local_anesthetic_allergy", "boolean", "allergy to local anesthetic"),
    Fact(
        "drug_allergy",
        "boolean",
        "known allergy or hypersensitivity to the drug the pump would deliver",
    ),
    Fact(
        "other_programmable_device",
        "boolean",
        "another implanted programmable device (crosstalk may change the prescription)",
    ),
    # ---- devices
    Fact(
        "device_reason",
        "device_reason",
        "why a device is revised, removed or replaced (a DeviceReason value)",
    ),
)

FACTS: dict[str, Fact] = {f.name: f for f in _FACTS}

# Parameters of rule kinds that name one fact, or a collection of fact names.
_FACT_PARAMS = (
    "fact",
    "lifted_by",
    "other_region_fact",
    "same_region_fact",
    "unless_fact",
    "exception_fact",
    "covered_by",
)


def _tests(value: Any) -> Iterable[str]:
    name = getattr(value, "fact", None)
    if isinstance(name, str) and hasattr(value, "op"):
        yield name
    elif isinstance(value, tuple):
        for v in value:
            yield from _tests(v)


def facts_of(params: Mapping[str, Any]) -> list[str]:
    """The clinical facts a rule with these parameters reads, in a stable order."""
    found: list[str] = []
    for name in _FACT_PARAMS:
        value = params.get(name)
        if isinstance(value, str):
            found.append(value)
    for name in ("tests", "items"):
        found.extend(_tests(params.get(name, ())))
    found.extend(sorted(params.get("facts", ())))
    return list(dict.fromkeys(found))


@cache
def _readers() -> Mapping[str, tuple[str, ...]]:
    """Fact -> ids of the shipped rules that read it (the shipped library, loaded once)."""
    from policies.loader import load_library

    found: dict[str, dict[str, None]] = {}
    for policy_set in load_library().sets.values():
        for guideline in policy_set.guidelines:
            for rule in guideline.rules:
                for fact in facts_of(rule.params):
                    found.setdefault(fact, {})[rule.id] = None
    return {fact: tuple(sorted(ids)) for fact, ids in found.items()}


def rules_reading(fact: str) -> tuple[str, ...]:
    """Ids of the shipped rules that read a clinical fact."""
    return _readers().get(fact, ())


def fact_description(name: str) -> str:
    """A fact's meaning, type and the shipped rules that read it (for the request schema)."""
    fact = FACTS[name]
    rules = rules_reading(name)
    return f"{fact.meaning} ({fact.type}). Read by: {', '.join(rules) or 'no shipped rule'}."
