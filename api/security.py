"""Who may call what: the bearer-key dependency every protected router declares.

A router opts in with ONE line, e.g. ``APIRouter(prefix="/v1", dependencies=[allow(Role.PAYER)])``
(or per route: ``@router.get(..., dependencies=[allow(Role.AUDITOR)])``, or as a typed
parameter ``caller: AsAuditor``). The dependency

- reads ``Authorization: Bearer <key>`` (declared in the OpenAPI document, so ``/docs`` has an
  *Authorize* button); no key, or an unknown or revoked one: 401; a key without a role the
  route allows: 403 (admin is allowed everywhere). Both are decided before the handler runs,
  so neither says anything about the patient the request names;
- notes the caller and the patient ids the request names for the access trail, which the
  edge middleware (:mod:`api.edge`) writes once the response status is known.

With no active key configured the service is *open on loopback*: a request without a key,
from the machine itself, is served as ``anonymous`` with every role (``injtrack serve``
refuses a non-loopback ``--host`` then). Creating the first key closes it within a second.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, params
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.access import AccessStore, GroupCommit
from api.errors import Forbidden, Unauthenticated
from application.access import ANONYMOUS, Keys, Principal, Role

ACCESS_SCOPE_KEY = "injtrack.access"
OPEN_CHECK_SECONDS = 1.0

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    bearerFormat="ijt_<key_id>_<secret>",
    description="An API key from `injtrack keys create --role R --name N`, sent as "
    "`Authorization: Bearer <key>`.",
)


@dataclass
class AccessContext:
    """What the access trail needs to know about one guarded request."""

    principal: Principal | None = None
    role: str | None = None
    route: str | None = None
    patient_ids: list[str] = field(default_factory=list)


def route_template(scope: Any) -> str:
    """The matched route's template (``/v1/patients/{patient_id}/history``), never the
    path; ``(unmatched)`` when no route matched. FastAPI keeps the router-prefixed template
    on its effective route context; ``scope["route"]`` alone lacks the prefix."""
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(effective, "path_format", None)
    if not template:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "(unmatched)"


def access_context(request: Request) -> AccessContext:
    """This request's trail context (created on first use: marks the request guarded)."""
    ctx = request.scope.get(ACCESS_SCOPE_KEY)
    if ctx is None:
        ctx = request.scope[ACCESS_SCOPE_KEY] = AccessContext()
    return ctx


def note_patients(request: Request, patient_ids: Iterable[str]) -> None:
    """Routers whose bodies name patients in other places (FHIR bundles, CDS Hooks
    contexts) add them to the access trail with this."""
    ctx = access_context(request)
    for pid in patient_ids:
        if isinstance(pid, str) and pid and pid not in ctx.patient_ids:
            ctx.patient_ids.append(pid)


class Access:
    """The service's keys, the access trail's group commit, and the cached answer to "is any
    key configured?"."""

    def __init__(self, store: AccessStore, keys: Keys) -> None:
        self.store = store
        self.keys = keys
        self.trail = GroupCommit(store)
        self._lock = threading.Lock()
        self._open_checked_at = -OPEN_CHECK_SECONDS
        self._keys_configured = True

    def keys_configured(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._open_checked_at >= OPEN_CHECK_SECONDS:
                self._keys_configured = self.keys.any_active()
                self._open_checked_at = now
            return self._keys_configured

    def keys_configured_known(self) -> bool | None:
        """The cached answer while it is fresh, else ``None`` (asking takes a query)."""
        if time.monotonic() - self._open_checked_at >= OPEN_CHECK_SECONDS:
            return None
        return self._keys_configured

    def close(self) -> None:
        self.trail.close()  # commits what is queued first
        self.store.close()


def is_local(client: Any) -> bool:
    """A request from the machine itself: a loopback address, a unix socket (no address),
    or an in-process test client (no IP at all)."""
    if client is None:
        return True
    host = client[0] if isinstance(client, tuple | list) else getattr(client, "host", None)
    if not host:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


def authenticate(
    access: Access,
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    keys_configured: bool | None = None,
) -> Principal:
    """The caller, or :class:`Unauthenticated`. Blocks on the store (run it in a thread)
    unless no key was sent and ``keys_configured`` is already known."""
    if credentials is not None:
        principal = access.keys.verify(credentials.credentials)
        if principal is None:
            raise Unauthenticated("the API key is unknown or revoked")
        return principal
    if request.headers.get("authorization"):
        raise Unauthenticated("send the API key as 'Authorization: Bearer <key>'")
    if keys_configured is None:
        keys_configured = access.keys_configured()
    if not keys_configured and is_local(request.scope.get("client")):
        return ANONYMOUS
    raise Unauthenticated("an API key is required: 'Authorization: Bearer <key>'")


async def _named_patients(request: Request) -> list[str]:
    """Patient ids the request names in its path, query or JSON body (top-level
    ``patient_id`` or ``events[*].patient_id``)."""
    found: list[str] = []
    for source in (request.path_params, request.query_params):
        value = source.get("patient_id")
        if isinstance(value, str):
            found.append(value)
    if request.method in ("POST", "PUT", "PATCH") and "json" in request.headers.get(
        "content-type", ""
    ):
        try:
            body = await request.json()
        except Exception:
            body = None
        if isinstance(body, dict):
            if isinstance(body.get("patient_id"), str):
                found.append(body["patient_id"])
            context = body.get("context")  # CDS Hooks
            if isinstance(context, dict) and isinstance(context.get("patientId"), str):
                found.append(context["patientId"])
            events = body.get("events")
            if isinstance(events, list):
                found.extend(
                    e["patient_id"]
                    for e in events
                    if isinstance(e, dict) and isinstance(e.get("patient_id"), str)
                )
    return list(dict.fromkeys(found))


class RoleGuard:
    """The dependency: authenticate, then require one of ``roles`` (any role when none)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __repr__(self) -> str:
        return f"RoleGuard({', '.join(sorted(self.roles)) or 'any role'})"

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        ctx = access_context(request)
        ctx.route = route_template(request.scope)
        note_patients(request, await _named_patients(request))
        access: Access = request.app.state.access
        known = access.keys_configured_known() if credentials is None else None
        if known is None:  # the store is asked: in a thread, off the event loop
            principal = await run_in_threadpool(authenticate, access, request, credentials)
        else:  # nothing to look up: no thread hop
            principal = authenticate(access, request, credentials, known)
        ctx.principal = principal
        role = principal.role_for(self.roles)
        if role is None:
            ctx.role = ",".join(sorted(principal.roles))
            wanted = " or ".join(sorted(self.roles | {Role.ADMIN}))
            raise Forbidden(f"this call needs the role {wanted}")
        ctx.role = role.value
        return principal


class OwnAuthentication:
    """The dependency of routes that authenticate their callers themselves, by a protocol
    that is not our API key (CDS Hooks: the EHR's signed JWT). It puts the request on the
    access trail under ``role``; the route names the verified caller with
    :func:`note_caller`. Such routes are listed, with their reason, in the 401/403 matrix."""

    def __init__(self, role: Role, scheme: str) -> None:
        self.role = role
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"OwnAuthentication({self.role}, {self.scheme})"

    async def __call__(self, request: Request) -> None:
        ctx = access_context(request)
        ctx.route = route_template(request.scope)
        ctx.role = self.role.value
        note_patients(request, await _named_patients(request))


def note_caller(request: Request, name: str, role: Role) -> None:
    """A route with its own authentication names the caller it verified."""
    access_context(request).principal = Principal(name=name, roles=frozenset({role}))


def allow(*roles: Role) -> params.Depends:
    """``dependencies=[allow(Role.PAYER)]``: callers need one of ``roles`` (or admin);
    ``allow()`` with no role admits any valid key."""
    return Depends(RoleGuard(*roles))


AsSubmitter = Annotated[Principal, Depends(RoleGuard(Role.SUBMITTER))]
AsPayer = Annotated[Principal, Depends(RoleGuard(Role.PAYER))]
AsAuditor = Annotated[Principal, Depends(RoleGuard(Role.AUDITOR))]
AsCompliance = Annotated[Principal, Depends(RoleGuard(Role.COMPLIANCE))]
AsAdmin = Annotated[Principal, Depends(RoleGuard(Role.ADMIN))]
AnyRole = Annotated[Principal, Depends(RoleGuard())]


def guards_of(route: Any) -> list[RoleGuard | OwnAuthentication]:
    """The guards a route declares (directly, through its router or a parameter)."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    found: list[RoleGuard | OwnAuthentication] = []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleGuard | OwnAuthentication):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found
