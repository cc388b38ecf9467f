"""The reusable rule kinds, grouped by theme, and the one list that registers them.

Each evaluator reads its (already data-declared) parameters, the projected patient state and
the request, and returns a :class:`~policies.engine.Verdict` (or None when the rule does not
apply to this request). "Prior"/"previous" are procedures of the proposed family in the
proposed region dated strictly before the date decided, unless a kind's ``scope`` parameter
says ``"patient"`` (any region). Span parameters accept a ``Ref`` to the guideline version's
parameters. Clinical facts: absent -> missing; present and unsatisfying -> fail. Facts that are exceptions to a failing rule (a medical
reason for two regions, special circumstances above a cap) apply only when attested true.

Kinds (parameters: each kind's ``Params`` model, also in the published JSON Schema):

- ``facts``: required clinical facts (``tests``: tuple of :class:`FactTest`).
- ``not_covered``: always fails with the payer's words (``message``).
- ``phase_position``: reports the position of the procedure in its phase; always passes.
- ``min_interval``: DOS >= previous DOS + span (time rule).
- ``previous_relief``: the previous procedure's relief (latest / earliest / sustained).
- ``rolling_cap``: at most ``limit`` in a rolling window, optional bilateral pairing and a
  clinical fact that lifts the cap (time rule).
- ``episode_cap``: at most ``limit`` in the first ``span`` of the episode (time rule).
- ``same_day_conflict``: other procedures of the patient on the same date.
- ``cross_region_interval``: procedures in other regions fewer than N days apart (time rule).
- ``prior_procedure``: a prerequisite prior procedure with a qualifying outcome.
- ``units_per_day``: units of code groups on one date across the patient's procedures.
- ``levels_limit``: how many / which levels one procedure may treat.
- ``surgery_conflict``: a prior surgery of a kind in the region (at overlapping levels).
- ``prior_poor_responses``: too many prior procedures of the episode without relief.
- ``procedure_attribute``: an attribute of the proposed procedure must be stated (and one of
  the allowed values).
- ``exemption``: an exception of the guideline applies; always passes and says so.
- ``criteria``, ``exclusion``, ``code_restriction``, ``intent_phase_max``, ``session_limit``:
  attested criteria lists, exclusions and contraindications, restrictions to named codes,
  phase maxima by intent, per-session limits (:mod:`policies.kinds.criteria`).

Registration is explicit: :data:`KINDS` is built from each theme module's ``KINDS`` tuple
below, nothing registers itself on import. A new kind is an evaluator and its ``Params``
model in a theme module, added to that module's ``KINDS``; documents can use it at once and
the schema (``injtrack policies schema``) describes its parameters. A kind reading a clinical
fact names the parameter ``fact``, ``*_fact`` or ``lifted_by`` (or uses :class:`FactTest`),
which is how criteria checks know which rules read which facts.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.kinds import anatomy, caps, criteria, facts, intervals, relief
from policies.kinds.base import Kind, Params, family_name
from policies.kinds.caps import _cap_usage
from policies.kinds.facts import FACT_OPS, FactTest

THEMES: Mapping[str, tuple[Kind, ...]] = {
    "facts": facts.KINDS,
    "intervals": intervals.KINDS,
    "relief": relief.KINDS,
    "caps": caps.KINDS,
    "anatomy": anatomy.KINDS,
    "criteria": criteria.KINDS,
}
ALL: tuple[Kind, ...] = tuple(k for kinds in THEMES.values() for k in kinds)
KINDS: Mapping[str, Kind] = {k.name: k for k in ALL}

__all__ = [
    "ALL",
    "FACT_OPS",
    "KINDS",
    "THEMES",
    "FactTest",
    "Kind",
    "Params",
    "_cap_usage",
    "family_name",
]
