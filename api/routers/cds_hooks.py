"""CDS Hooks 2.0 / Da Vinci CRD: ``GET /cds-services`` (discovery) and
``POST /cds-services/{id}`` (the call). Thin: authentication and parsing here, the work in
:mod:`application.coverage_requirements`."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api.errors import (
    CdsBadRequest,
    CdsPreconditionFailed,
    CdsServiceNotFound,
    CdsUnauthorized,
)
from api.schemas.eligibility import decision_json
from api.security import OwnAuthentication, note_caller
from api.settings import Settings
from application.access import Role
from application.coverage_requirements import (
    BadHookRequest,
    Caller,
    CrdConfig,
    PrefetchMissing,
    answer,
    config_from,
)
from interop.cdshooks.auth import AuthError, JwtVerifier
from interop.cdshooks.crd import CoverageInvariantError
from interop.cdshooks.models import (
    HOOK_CONTEXTS,
    CdsRequest,
    CdsResponse,
    CdsService,
    DiscoveryResponse,
)
from interop.cdshooks.orders import FhirInputError

# The EHR authenticates with its signed JWT (CDS Hooks' own scheme), not our API keys; the
# calls are on the access trail as the payer role.
router = APIRouter(
    tags=["cds-hooks"],
    dependencies=[Depends(OwnAuthentication(Role.PAYER, "CDS Hooks client JWT"))],
)

# Prefetch templates. ``patient`` and ``coverage`` are the Da Vinci CRD STU2 (2.0.1) standard
# keys; ``serviceRequests`` is CRD 2.0.1's draft-order template (performer and requester
# included); ``painScores`` feeds the attested pain score. Only ``coverage`` is required.
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
    "serviceRequests": "ServiceRequest?_id={{context.draftOrders.ServiceRequest.id}}"
    "&_include=ServiceRequest:patient&_include=ServiceRequest:performer"
    "&_include=ServiceRequest:requester"
    "&_include:iterate=PractitionerRole:organization"
    "&_include:iterate=PractitionerRole:practitioner",
    "painScores": "Observation?patient={{context.patientId}}&code=http://loinc.org|72514-3"
    "&_sort=-date&_count=5",
}

SERVICES: dict[str, CdsService] = {
    s.id: s
    for s in (
        CdsService(
            id="injtrack-crd-order-select",
            hook="order-select",
            title="Repeat-injection coverage requirements (order-select)",
            description="Da Vinci CRD: whether a selected spinal injection order is covered for "
            "this patient under the payer's guideline, from the patient's injection history, "
            "with the next eligible date when it is too early.",
            prefetch=PREFETCH,
            usageRequirements="Register the EHR's JWK Set; prefetch 'coverage' is required.",
        ),
        CdsService(
            id="injtrack-crd-order-sign",
            hook="order-sign",
            title="Repeat-injection coverage requirements (order-sign)",
            description="Da Vinci CRD: coverage information on each draft spinal injection "
            "order being signed, decided from the patient's injection history under the "
            "payer's guideline and recorded as an authorization decision.",
            prefetch=PREFETCH,
            usageRequirements="Register the EHR's JWK Set; prefetch 'coverage' is required.",
        ),
    )
}

# As the rest of the API judges "from the machine itself": a loopback address, no address
# (a unix socket) or the in-process test client.
_LOOPBACK_NAMES = {"localhost", "testclient"}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON Schema with its ``$defs`` inlined, so it stands alone inside the
    OpenAPI document (whose ``#/...`` references resolve from the document root)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _verifier(request: Request) -> JwtVerifier:
    state = request.app.state
    verifier: JwtVerifier | None = getattr(state, "cds_verifier", None)
    if verifier is None:
        settings = _settings(request)
        verifier = JwtVerifier(
            clients={c.iss: c for c in settings.cds_clients},
            clock=state.clock,
            max_lifetime_seconds=settings.cds_jwt_max_lifetime_seconds,
        )
        state.cds_verifier = verifier
    return verifier


def _config(request: Request) -> CrdConfig:
    state = request.app.state
    config: CrdConfig | None = getattr(state, "cds_config", None)
    if config is None:
        s = _settings(request)
        config = config_from(
            s.cds_crd_version,
            s.cds_payers,
            s.cds_default_policy_set,
            s.cds_payer_label,
            s.cds_prior_authorization,
            s.cds_policy_links,
            s.fhir_member_identifier_system,
        )
        state.cds_config = config
    return config


def _called_url(request: Request) -> str:
    base = _settings(request).cds_public_base_url
    if base:
        return base.rstrip("/") + request.url.path
    return str(request.url.replace(query=None, fragment=None))


def _is_loopback(host: str | None) -> bool:
    if not host:
        return True
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authenticate(request: Request) -> str | None:
    """The verified client's issuer; None for an unsigned loopback call when no client is
    registered. Raises 401 otherwise."""
    settings = _settings(request)
    header = request.headers.get("authorization")
    if not settings.cds_clients:
        if header is None and _is_loopback(request.client.host if request.client else None):
            return None
        raise CdsUnauthorized(
            "no CDS client is registered: only unsigned calls from loopback are accepted"
        )
    if header is None or not header.lower().startswith("bearer "):
        raise CdsUnauthorized("a CDS Hooks client JWT is required (Authorization: Bearer)")
    try:
        client = _verifier(request).verify(header[7:].strip(), _called_url(request))
    except AuthError as exc:
        raise CdsUnauthorized(exc.message) from None
    request.state.cds_client = client
    request.state.role = "payer"
    note_caller(request, client.iss, Role.PAYER)
    return client.iss


@router.get(
    "/cds-services",
    response_model=DiscoveryResponse,
    response_model_exclude_none=True,
    responses={401: {"description": "Client JWT missing or refused (OperationOutcome)"}},
)
def discovery(request: Request) -> DiscoveryResponse:
    """CDS Hooks discovery: the services, their hooks and prefetch templates."""
    authenticate(request)
    return DiscoveryResponse(services=list(SERVICES.values()))


def _validated(model: type[BaseModel], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in (where, *first.get("loc", ())) if p != "")
        raise CdsBadRequest(f"{loc}: {first.get('msg')}", expression=loc) from None


@router.post(
    "/cds-services/{service_id}",
    response_model=CdsResponse,
    response_model_exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(CdsRequest.model_json_schema())}},
        }
    },
    responses={
        400: {"description": "Malformed call or invalid FHIR resource (OperationOutcome)"},
        401: {"description": "Client JWT missing or refused (OperationOutcome)"},
        404: {"description": "No CDS service has this id (OperationOutcome)"},
        412: {"description": "Required prefetch data missing and not fetchable"},
    },
)
async def call_service(service_id: str, request: Request) -> CdsResponse:
    """Answer a hook: one ``systemActions`` ``update`` per decided order carrying the
    coverage-information extension, and cards only for what the extension cannot say."""
    client = authenticate(request)
    service = SERVICES.get(service_id)
    if service is None:
        raise CdsServiceNotFound(f"no CDS service {service_id!r}")
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError:
        raise CdsBadRequest("the body is not JSON") from None
    call: CdsRequest = _validated(CdsRequest, data, "")
    if call.hook != service.hook:
        raise CdsBadRequest(
            f"service {service_id!r} answers hook {service.hook!r}, not {call.hook!r}",
            expression="hook",
        )
    context = _validated(HOOK_CONTEXTS[call.hook], call.context, "context")
    app = request.app
    caller = Caller(hook=call.hook, service_id=service_id, client=client)
    try:
        return await run_in_threadpool(
            answer,
            call,
            context,
            caller,
            app.state.ledger,
            _config(request),
            app.state.clock().astimezone(UTC).date(),
            decision_json,
        )
    except PrefetchMissing as exc:
        raise CdsPreconditionFailed(exc.message, expression="prefetch") from None
    except FhirInputError as exc:
        raise CdsBadRequest(f"{exc.where}: {exc.message}", expression=exc.where) from None
    except BadHookRequest as exc:
        raise CdsBadRequest(exc.message, expression=exc.expression) from None
    except CoverageInvariantError as exc:  # a bug of ours, never a client error
        raise RuntimeError(f"coverage-information would break CRD invariants: {exc}") from exc
