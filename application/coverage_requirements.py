"""Use case: answer a CDS Hooks call as a Da Vinci CRD service.

For each draft ServiceRequest the catalog knows: map it (:mod:`interop.cdshooks.orders`),
find the member, decide it under the policy set configured for the Coverage's payer/plan,
record the assertion as an authorization decision on the patient's region stream, and answer
one ``systemActions`` ``update`` carrying the whole order with the coverage-information
extension added. Cards only where they add what the extension cannot carry: the guideline's
sentence behind a refusal or a missing fact, the next eligible date, no active coverage.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from application.usecases import proposed_of
from domain.catalog import CatalogError, Region
from domain.commands import Clinical, ProcedureSpec
from domain.events import BilledCode, RecordedEvent
from domain.vocabulary import Agent, Approach, Indication, Intent, Laterality
from interop.cdshooks import crd
from interop.cdshooks.crd import AssertionReason, CoverageAssertion, CrdVersion, PolicyLink
from interop.cdshooks.models import Action, Card, CdsRequest, CdsResponse, Coding, Link, Source
from interop.cdshooks.orders import (
    CoverageFacts,
    DraftOrder,
    bundle_resources,
    coverage_facts,
    map_order,
    member_patient_id,
    parse,
)
from interop.fhir.mapping import MappingError, PatientIdentityRule
from policies import registry
from policies.engine import Decision, NoGuideline, Proposed, Reason, Status, decide
from projections.state import PatientState, fold

ASSERTION_NAMESPACE = uuid.UUID("0b7c8e2a-3d51-4c55-9a0e-52c0f3a1d6b4")


class PrefetchMissing(Exception):
    """Data the service needs was neither prefetched nor fetchable (412)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadHookRequest(Exception):
    """The call is malformed or breaks the hook's context (400)."""

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression


class AuthorizationStore(Protocol):
    """What the use case needs of the event store."""

    def patient_events(self, patient_id: str) -> list[RecordedEvent]: ...

    def record_authorizations(
        self, items: Sequence[tuple[str, Region, dict[str, Any], dict[str, Any]]]
    ) -> list[bool]: ...


@dataclass(frozen=True, slots=True)
class PayerRule:
    """The configured answer to "who pays and under which rules"."""

    policy_set: str
    label: str
    prior_authorization: bool
    policy_links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CrdConfig:
    version: CrdVersion
    payers: Sequence[tuple[str, str | None, PayerRule]]  # (payer, plan or None, rule)
    default: PayerRule
    identity: PatientIdentityRule


@dataclass(frozen=True, slots=True)
class Caller:
    hook: str
    service_id: str
    client: str | None  # the verified JWT issuer, None for an unsigned loopback call


def answer(
    request: CdsRequest,
    context: Any,
    caller: Caller,
    store: AuthorizationStore,
    config: CrdConfig,
    today: date,
    present: Callable[[Decision], dict[str, Any]],
) -> CdsResponse:
    """Decide every draft order of the call and shape the CRD answer; ``present`` is the
    entry point's JSON form of a decision, recorded as the authorization's answer."""
    prefetch = request.prefetch or {}
    coverage_json = _single_coverage(prefetch)
    observations = _observations(prefetch)
    orders = _orders(context, caller.hook, today, observations)
    if coverage_json is None:
        if not orders:
            return CdsResponse(cards=[])
        return CdsResponse(cards=[_no_coverage_card(config)])
    coverage = coverage_facts(coverage_json, "prefetch.coverage")
    rule = payer_rule(coverage, config)
    unknown_why = ""
    try:
        patient_id: str | None = member_patient_id(
            config.identity, coverage, prefetch.get("patient"), context.patientId
        )
    except MappingError as exc:
        patient_id, unknown_why = None, exc.reason

    state: PatientState | None = None
    records: list[tuple[Region, dict[str, Any], dict[str, Any]]] = []
    actions: list[Action] = []
    cards: list[Card] = []
    for order in orders:
        assertion_id = str(
            uuid.uuid5(
                ASSERTION_NAMESPACE,
                f"{request.hookInstance}/{order.reference}/{coverage.reference}",
            )
        )
        if patient_id is None:
            assertion = _unknown_member(
                order, coverage, rule, config, today, assertion_id, unknown_why
            )
            actions.append(_update(order, assertion, config.version))
            continue
        if not order.decidable:
            assertion = _undecidable(
                order, coverage, rule, config, today, assertion_id, order.problems
            )
            actions.append(_update(order, assertion, config.version))
            continue
        try:
            proposed = _proposed(order)
            policy_set = registry.get(rule.policy_set)
            policy_set.guidelines_for(proposed)
        except CatalogError as exc:
            assertion = _undecidable(
                order, coverage, rule, config, today, assertion_id, (exc.message,)
            )
            actions.append(_update(order, assertion, config.version))
            continue
        except NoGuideline:
            continue  # the payer's set has no rules for this service: nothing to assert
        clinical = _clinical(order)
        if state is None:
            state = fold(store.patient_events(patient_id), None, patient_id)
        decision = decide(policy_set, state, proposed, clinical)
        assertion = _decided(order, coverage, rule, config, today, assertion_id, decision)
        ext = crd.extension(assertion, config.version)
        if crd.already_asserted(order.resource, ext):
            continue  # CRD: no update unless something is new (the order carries this answer)
        records.append(
            _record(
                order,
                proposed,
                clinical,
                present(decision),
                decision,
                request,
                caller,
                assertion_id,
                ext,
            )
        )
        actions.append(_action(order, ext, decision.decision))
        card = _decision_card(decision, rule, config)
        if card is not None:
            cards.append(card)
    if records and patient_id is not None:
        # One transaction for the call; a retried hook instance records nothing new.
        store.record_authorizations([(patient_id, *record) for record in records])
    return CdsResponse(cards=cards, systemActions=actions or None)


# ------------------------------------------------------------------------------ inputs


def _single_coverage(prefetch: dict[str, Any]) -> dict[str, Any] | None:
    if "coverage" not in prefetch:
        raise PrefetchMissing(
            "prefetch 'coverage' (the patient's active Coverage) is required and this service "
            "does not query the client's FHIR server"
        )
    found = [
        r
        for _, r in bundle_resources(prefetch["coverage"], "prefetch.coverage")
        if r.get("resourceType") == "Coverage" and r.get("status", "active") == "active"
    ]
    return found[0] if found else None


def _observations(prefetch: dict[str, Any]) -> list[Any]:
    from fhir.resources.R4B.observation import Observation

    return [
        parse(Observation, r, where)
        for where, r in bundle_resources(prefetch.get("painScores"), "prefetch.painScores")
        if r.get("resourceType") == "Observation"
    ]


def _orders(context: Any, hook: str, today: date, observations: list[Any]) -> list[DraftOrder]:
    if hook == "appointment-book":
        return []
    selections = set(getattr(context, "selections", None) or [])
    out: list[DraftOrder] = []
    for where, resource in bundle_resources(context.draftOrders, "context.draftOrders"):
        if resource.get("resourceType") != "ServiceRequest":
            continue
        ref = f"ServiceRequest/{resource.get('id')}"
        if selections and ref not in selections:
            continue  # order-select: only the newly selected orders are asked about
        order = map_order(resource, where, today, observations)
        if order is not None:
            out.append(order)
    return out


def payer_rule(coverage: CoverageFacts, config: CrdConfig) -> PayerRule:
    """The most specific configured entry for the Coverage: payer and plan, then payer."""
    for payer, plan, rule in config.payers:
        if payer in coverage.payers and plan is not None and plan in coverage.plans:
            return rule
    for payer, plan, rule in config.payers:
        if payer in coverage.payers and plan is None:
            return rule
    return config.default


def _proposed(order: DraftOrder) -> Proposed:
    """The engine's view of the order (through the same step as ``POST /v1/eligibility``).
    Raises :class:`BadHookRequest` for a procedure detail outside our vocabulary and
    :class:`~domain.catalog.CatalogError` when the catalog refuses the codes together."""
    assert order.region is not None
    details = order.details
    try:
        spec = ProcedureSpec(
            date_of_service=order.date_of_service,
            region=order.region,
            codes=tuple(BilledCode(c, 1) for c in order.codes),
            laterality=Laterality(order.laterality) if order.laterality else None,
            levels=order.levels,
            intent=Intent(details.get("intent") or Intent.THERAPEUTIC),
            agent=Agent(details["agent"]) if details.get("agent") else None,
            indication=Indication(details["indication"]) if details.get("indication") else None,
            approach=Approach(details["approach"]) if details.get("approach") else None,
            device_type=str(details["device_type"]) if details.get("device_type") else None,
        )
    except ValueError as exc:
        raise BadHookRequest(
            f"{order.reference}: procedure detail: {exc}", expression=order.reference
        ) from None
    return proposed_of(spec)


_FACTS = frozenset(f.name for f in fields(Clinical))
_CLINICAL = TypeAdapter(Clinical)


def _clinical(order: DraftOrder) -> dict[str, Any]:
    """The attested facts, typed as the domain's :class:`~domain.commands.Clinical`;
    an unknown fact name or a value of the wrong type or range is a 400."""
    unknown = sorted(set(order.clinical) - _FACTS)
    problem = f"unknown attested fact {', '.join(unknown)}" if unknown else None
    facts: Clinical | None = None
    if problem is None:
        try:
            facts = _CLINICAL.validate_python(order.clinical)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            problem = f"attested fact {loc}: {first.get('msg')}"
    if facts is not None and facts.pain_score is not None and not 0 <= facts.pain_score <= 10:
        problem = "attested fact pain_score: must be from 0 to 10"
    if problem is not None or facts is None:
        raise BadHookRequest(f"{order.reference}: {problem}", expression=order.reference)
    return facts.facts()


# ----------------------------------------------------------------------- the assertions


def _billing(order: DraftOrder) -> tuple[tuple[str, str, str | None], ...]:
    return tuple((crd.CPT_SYSTEM, code, None) for code in order.codes)


def _pa(rule: PayerRule) -> str:
    return "auth-needed" if rule.prior_authorization else "no-auth"


def _decided(
    order: DraftOrder,
    coverage: CoverageFacts,
    rule: PayerRule,
    config: CrdConfig,
    today: date,
    assertion_id: str,
    decision: Decision,
) -> CoverageAssertion:
    links = tuple(
        PolicyLink(url, qualification=f"{a.guideline.id} version {a.version.id}")
        for a in decision.applied
        if (url := _policy_url(a.guideline.id, rule)) is not None
    )
    base = CoverageAssertion(
        coverage_reference=coverage.reference,
        covered="covered",
        pa_needed=_pa(rule),
        date=today,
        assertion_id=assertion_id,
        billing_codes=_billing(order),
        policy_links=links,
    )
    if decision.decision == "eligible":
        return base
    if decision.decision == "not_eligible":
        failing = [r for r in decision.reasons if r.status is Status.FAIL]
        text = "; ".join(f"{r.rule}: {r.message}" for r in failing)
        if decision.next_eligible_date is not None:
            text += f"; next eligible {decision.next_eligible_date.isoformat()}"
        return replace(
            base, covered="not-covered", pa_needed=None, reasons=(AssertionReason(text=text),)
        )
    missing = [r for r in decision.reasons if r.status is Status.MISSING]
    text = "documentation missing: " + "; ".join(f"{r.rule}: {r.message}" for r in missing)
    return replace(
        base,
        covered="conditional",
        doc_needed=("clinical",),
        doc_purpose=("withpa",) if rule.prior_authorization else ("retain-doc",),
        info_needed=("OTH",),
        reasons=(AssertionReason(text=text),),
    )


def _undecidable(
    order: DraftOrder,
    coverage: CoverageFacts,
    rule: PayerRule,
    config: CrdConfig,
    today: date,
    assertion_id: str,
    problems: Sequence[str],
) -> CoverageAssertion:
    return CoverageAssertion(
        coverage_reference=coverage.reference,
        covered="conditional",
        pa_needed=_pa(rule),
        info_needed=("OTH",),
        reasons=(AssertionReason(text="cannot decide the order: " + "; ".join(problems)),),
        billing_codes=_billing(order),
        date=today,
        assertion_id=assertion_id,
    )


def _unknown_member(
    order: DraftOrder,
    coverage: CoverageFacts,
    rule: PayerRule,
    config: CrdConfig,
    today: date,
    assertion_id: str,
    why: str,
) -> CoverageAssertion:
    text = f"member not found: {why}"
    if config.version is CrdVersion.V2_2:
        return CoverageAssertion(
            coverage_reference=coverage.reference,
            covered="indeterminate",
            reasons=(AssertionReason(text=text, code="no-member-found"),),
            billing_codes=_billing(order),
            date=today,
            assertion_id=assertion_id,
        )
    return CoverageAssertion(
        coverage_reference=coverage.reference,
        covered="conditional",
        pa_needed=_pa(rule),
        info_needed=("OTH",),
        reasons=(AssertionReason(text=text),),
        billing_codes=_billing(order),
        date=today,
        assertion_id=assertion_id,
    )


def _policy_url(guideline_id: str, rule: PayerRule) -> str | None:
    return rule.policy_links.get(guideline_id)


def _update(order: DraftOrder, assertion: CoverageAssertion, version: CrdVersion) -> Action:
    return _action(order, crd.extension(assertion, version), None)


def _action(order: DraftOrder, ext: dict[str, Any], decision: str | None) -> Action:
    covered = next(p["valueCode"] for p in ext["extension"] if p["url"] == "covered")
    return Action(
        type="update",
        description=f"Coverage information for {order.reference}: {covered}"
        + (f" ({decision})" if decision else ""),
        resource=crd.with_extension(order.resource, ext),
    )


# ----------------------------------------------------------------------------- records


def _record(
    order: DraftOrder,
    proposed: Proposed,
    clinical: dict[str, Any],
    presented: dict[str, Any],
    decision: Decision,
    request: CdsRequest,
    caller: Caller,
    assertion_id: str,
    ext: dict[str, Any],
) -> tuple[Region, dict[str, Any], dict[str, Any]]:
    """The assertion as an authorization request and decision for the patient's region
    stream, keyed by the coverage-assertion id. The request keeps ``procedure`` and
    ``clinical`` in the form ``POST /v1/authorizations`` stores them, so audit replay decides
    it again like any authorization."""
    assert order.region is not None
    cds = {
        "hook": caller.hook,
        "hook_instance": request.hookInstance,
        "service": caller.service_id,
        "client": caller.client,
        "order": order.reference,
        "coverage_assertion_id": assertion_id,
    }
    requested = {
        "authorization_id": assertion_id,
        "policy_set": decision.policy_set,
        "date_of_service": proposed.date_of_service,
        "codes": [BilledCode(c, u) for c, u in proposed.codes],
        "family": proposed.family,
        "request": {
            "source": "cds-hooks",
            **cds,
            "procedure": {
                "date_of_service": proposed.date_of_service.isoformat(),
                "region": proposed.region,
                "codes": [{"cpt": c, "units": u} for c, u in proposed.codes],
                "laterality": proposed.laterality,
                "levels": list(proposed.levels),
                "intent": proposed.intent,
                "agent": proposed.agent,
                "approach": proposed.approach,
                "indication": proposed.indication,
                "device_type": proposed.device_type,
            },
            "clinical": clinical,
        },
    }
    response = presented | {
        "authorization_id": assertion_id,
        "cds_hooks": cds,
        "coverage_information": ext,
    }
    decided = {
        "authorization_id": assertion_id,
        "decision": decision.decision,
        "policy": presented["policy"],
        "reasons": response["reasons"],
        "next_eligible_date": decision.next_eligible_date,
        "response": response,
    }
    return order.region, requested, decided


# ------------------------------------------------------------------------------- cards


def _source(rule: PayerRule, topic: str, config: CrdConfig) -> Source:
    return Source(label=rule.label, topic=Coding(**crd.card_topic(topic, config.version)))


def _cited(reasons: Sequence[Reason]) -> str:
    lines = []
    for r in reasons:
        c = r.citation
        line = f"- **{r.rule}**: {r.message}"
        if c is not None:
            line += f'\n  > "{c.quote}" ({c.section})'
        lines.append(line)
    return "\n".join(lines)


def _decision_card(decision: Decision, rule: PayerRule, config: CrdConfig) -> Card | None:
    """The guideline sentences and next eligible date behind a refusal or a missing fact (the
    extension carries the codes, not the sentences); nothing for an eligible order."""
    guideline = decision.applied[0].guideline
    links = (
        [
            Link(label=f"{a.guideline.id}: {a.guideline.title}", url=url, type="absolute")
            for a in decision.applied
            if (url := _policy_url(a.guideline.id, rule)) is not None
        ]
        if config.version is CrdVersion.STU2
        else []
    )
    if decision.decision == "not_eligible":
        failing = [r for r in decision.reasons if r.status is Status.FAIL]
        nxt = decision.next_eligible_date
        timed = nxt is not None
        summary = f"{guideline.id}: criteria not met"
        detail = _cited(failing)
        if nxt is not None:
            summary = f"{guideline.id}: not covered before {nxt.isoformat()}"
            detail += f"\n\nNext eligible date of service: **{nxt.isoformat()}**."
        return Card(
            summary=summary[:139],
            detail=detail,
            indicator="warning",
            source=_source(rule, "limits" if timed else "off-guideline", config),
            links=links or None,
        )
    if decision.decision == "pending_documentation":
        missing = [r for r in decision.reasons if r.status is Status.MISSING]
        return Card(
            summary=f"{guideline.id}: documentation the guideline asks for"[:139],
            detail=_cited(missing),
            indicator="info",
            source=_source(rule, "guideline", config),
            links=links or None,
        )
    return None


def _no_coverage_card(config: CrdConfig) -> Card:
    return Card(
        summary="No active coverage found for this patient",
        detail="The prefetched Coverage holds no active Coverage resource, so no coverage "
        "requirements can be stated for these orders.",
        indicator="info",
        source=_source(config.default, "insurance", config),
    )


def config_from(
    version: CrdVersion,
    payers: Sequence[Any],
    default_policy_set: str,
    default_label: str,
    default_prior_authorization: bool,
    policy_links: dict[str, str],
    member_identifier_system: str | None,
) -> CrdConfig:
    """Build the use case's configuration from the settings' CDS entries."""
    rules = [
        (
            p.payer,
            p.plan,
            PayerRule(
                policy_set=p.policy_set,
                label=p.label or p.payer,
                prior_authorization=p.prior_authorization,
                policy_links={**policy_links, **p.policy_links},
            ),
        )
        for p in payers
    ]
    default = PayerRule(
        policy_set=default_policy_set,
        label=default_label,
        prior_authorization=default_prior_authorization,
        policy_links=dict(policy_links),
    )
    return CrdConfig(version, rules, default, PatientIdentityRule(member_identifier_system))
