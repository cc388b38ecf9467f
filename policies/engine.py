"""The rule engine: guidelines and rules as data, reusable evaluators, one pure ``decide``.

A decision is a pure function of (policy version, projected patient state, request): no
clock, no I/O. "Today" is the date of service being decided; "as of" is whatever the caller
folded the state with.

Vocabulary
----------
* A **policy set** (``PolicySet``) is what a payer picks per request (``nia``, ``nia-wa``, ...):
  an ordered tuple of guidelines.
* A **guideline** (``Guideline``) is one payer document section: id (``NIA_CG_300``), title,
  source file, the families (and optionally the primary codes and regions) it governs, its
  versions with effective dates, and its rules. Every guideline of a set that governs the
  proposed procedure applies (the first one is named as the response's ``policy``, the others
  under ``policy.also``), so a set can layer a tightening guideline (e.g. Washington limits)
  on top of another.
* A **version** (``GuidelineVersion``) is the guideline as in force from a date of service on:
  it holds the version-dependent parameters. A rule parameter written ``Ref("name")`` is
  resolved from the version in force on the date being decided (and on every candidate date
  tried while searching for the next eligible date).
* A **rule** (``Rule``) is data: the id it reports as, kind (the name of a reusable
  evaluator registered in :data:`KINDS`), parameters, a ``when`` condition (and optional
  ``unless``) saying when it applies, whether it is a time rule, optional effective dates, a
  description paraphrasing the guideline and its citation (the quoted sentence). Rules sharing
  an id are reported as one reason (worst status, messages joined), which lets one guideline
  sentence be checked by several simple rules.

Policy sets are written as documents (``policies/library/<set-id>/``), validated and built by
:mod:`policies.loader`; the document format is :mod:`policies.document`.

Modules, one job each: :mod:`policies.model` (sets, guidelines, versions, rules),
:mod:`policies.conditions` (``when``/``unless``), :mod:`policies.kinds` (the rule kinds by
theme, registered in one list), :mod:`policies.context` (what a kind sees and says),
:mod:`policies.evaluation` (rules to reasons), :mod:`policies.search` (the next eligible
date), :mod:`policies.explain` (the state summary). This module decides with them and
re-exports the names callers use. The engine returns typed values; the API turns them into
JSON.

Decision
--------
not_eligible when any rule fails; else pending_documentation when any needed clinical fact is
missing; else eligible. ``next_eligible_date`` is given only for not_eligible decisions whose
failing reasons are all time failures: the earliest date on or after the proposed date on
which no time rule fails, found by jumping to the latest of the failing time rules' own
earliest-pass dates, or sooner to the first date a rule's condition, effective dates or the
version in force may turn (a rule failing now may stop applying there), and re-evaluating
there, a bounded loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policies.conditions import ALWAYS, OtherSince, When, window_exit
from policies.context import Context, Status, Verdict, failed, missing, passed, wait
from policies.errors import (
    IntentRequired,
    NoGuideline,
    NoVersionInForce,
    PolicyLookupError,
    UnknownPolicySet,
)
from policies.evaluation import Applied, Reason, evaluate, verdict_of
from policies.explain import OutcomeBrief, ProcedureBrief, StateSummary, summarize
from policies.kinds import KINDS, Kind, Params
from policies.model import (
    AuthorizationWindow,
    Citation,
    Clinical,
    Criterion,
    Guideline,
    GuidelineVersion,
    PolicySet,
    Proposed,
    Rule,
)
from policies.search import next_eligible_date
from policies.values import Ref
from projections.state import PatientState


@dataclass(frozen=True, slots=True)
class Decision:
    """What a policy set decides for one proposed procedure, with why."""

    decision: str  # eligible | not_eligible | pending_documentation
    policy_set: str
    applied: tuple[Applied, ...]  # the guidelines used (the first names the response's policy)
    reasons: tuple[Reason, ...]
    next_eligible_date: date | None
    state: StateSummary


def settle(proposed: Proposed) -> Proposed:
    """The proposed procedure with its intent settled (:meth:`Proposed.with_intent`): a
    :class:`IntentRequired` for a stimulator or pump placement code without a device intent."""
    from domain.catalog import CATALOG

    row = CATALOG.get(proposed.primary_cpt)
    return proposed.with_intent(bool(row is not None and row.never_limited))


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a decision needs before any history: the governing guidelines and the proposed
    procedure with its intent settled (:func:`prepare`)."""

    policy_set: PolicySet
    guidelines: tuple[Guideline, ...]
    proposed: Proposed


def prepare(policy_set: PolicySet, proposed: Proposed) -> Prepared:
    """Look up what governs ``proposed``: raises a :class:`PolicyLookupError` (a 422) when
    no guideline governs the procedure, when the date of service is before a governing
    guideline's first version, or when a stimulator or pump placement code comes without
    its device intent. A caller can refuse before reading any history, then
    :func:`decide_prepared` without looking it up again."""
    guidelines = tuple(policy_set.guidelines_for(proposed))
    return Prepared(policy_set, guidelines, settle(proposed))


def decide(
    policy_set: PolicySet, state: PatientState, proposed: Proposed, clinical: Clinical
) -> Decision:
    """Decide one proposed procedure under a policy set, purely. Raises what
    :func:`prepare` raises."""
    return decide_prepared(prepare(policy_set, proposed), state, clinical)


def decide_prepared(prepared: Prepared, state: PatientState, clinical: Clinical) -> Decision:
    """:func:`decide` once :func:`prepare` has looked up what governs the procedure."""
    policy_set, guidelines, proposed = prepared.policy_set, prepared.guidelines, prepared.proposed
    facts = {k: v for k, v in clinical.items() if v is not None}
    applied, reasons = evaluate(guidelines, state, proposed, facts)
    decision = verdict_of(reasons)
    nxt = (
        next_eligible_date(guidelines, state, proposed, facts, reasons)
        if decision == "not_eligible"
        else None
    )
    return Decision(
        decision=decision,
        policy_set=policy_set.name,
        applied=tuple(applied),
        reasons=tuple(reasons),
        next_eligible_date=nxt,
        state=summarize(state, proposed),
    )


__all__ = [
    "ALWAYS",
    "KINDS",
    "Applied",
    "AuthorizationWindow",
    "Citation",
    "Clinical",
    "Context",
    "Criterion",
    "Decision",
    "Guideline",
    "GuidelineVersion",
    "IntentRequired",
    "Kind",
    "NoGuideline",
    "NoVersionInForce",
    "OtherSince",
    "OutcomeBrief",
    "Params",
    "PolicyLookupError",
    "PolicySet",
    "Prepared",
    "ProcedureBrief",
    "Proposed",
    "Reason",
    "Ref",
    "Rule",
    "StateSummary",
    "Status",
    "UnknownPolicySet",
    "Verdict",
    "When",
    "decide",
    "decide_prepared",
    "failed",
    "missing",
    "passed",
    "prepare",
    "settle",
    "wait",
    "window_exit",
]
