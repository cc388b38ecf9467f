"""The 401/403 matrix: every route of the app, every role, generated from the app's routes,
so a router added later is covered without touching this file, and a route that declares no
role fails here unless it is listed as public."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import OwnAuthentication, RoleGuard, guards_of
from api.settings import Settings
from application.access import Role
from tests.builders import procedure
from tests.security.conftest import KeyRing, keyed

# Routes anyone may call: no patient data, nothing to change.
PUBLIC = {("GET", "/healthz"), ("GET", "/docs"), ("GET", "/docs/init.js")}
# Routes that authenticate by a protocol of their own, with why (their tests cover it):
# CDS Hooks 2.0 requires the EHR's signed JWT in the Authorization header.
OWN_AUTHENTICATION = {
    ("GET", "/cds-services"): "CDS Hooks client JWT",
    ("POST", "/cds-services/{service_id}"): "CDS Hooks client JWT",
}


@pytest.fixture(scope="module")
def app_and_keys() -> Iterator[tuple[TestClient, KeyRing]]:
    with TestClient(create_app(Settings(persistence="memory"))) as client:
        ring = keyed(client)
        r = client.post(
            "/v1/events",
            json={"events": [procedure(patient_id="p-known")]},
            headers=ring.headers("submitter"),
        )
        assert r.status_code == 200, r.text
        yield client, ring


def operations() -> list[tuple[str, str, Any]]:
    """Every (method, path template, route) the app serves, router prefixes included."""
    app = create_app(Settings(persistence="memory"))
    try:
        return [
            (method, str(rc.path), rc)
            for rc in iter_route_contexts(app.routes)
            if rc.methods and isinstance(rc.original_route, APIRoute)
            for method in sorted(rc.methods - {"HEAD"})
        ]
    finally:
        app.state.access.close()


OPERATIONS = operations()


def allowed_roles(route: Any) -> set[str]:
    """Roles a route admits: every guard's roles intersected (no roles: any), plus admin."""
    allowed = {r.value for r in Role}
    for guard in guards_of(route):
        if isinstance(guard, RoleGuard) and guard.roles:
            allowed &= {r.value for r in guard.roles} | {Role.ADMIN.value}
    return allowed


def call(
    client: TestClient, method: str, path: str, headers: dict[str, str], patient: str = "p-known"
) -> Any:
    url = re.sub(r"\{patient_id\}", patient, path)
    url = re.sub(r"\{[^}]+\}", "x", url)
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(method, url, **kwargs)


def test_every_route_declares_a_role_or_is_public() -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, route in OPERATIONS
        if not guards_of(route) and (method, path) not in PUBLIC
    ]
    assert not undeclared, (
        f"routes without a role (declare one with api.security.allow): {undeclared}"
    )


GUARDED = [
    (m, p, r)
    for m, p, r in OPERATIONS
    if (m, p) not in PUBLIC and not any(isinstance(g, OwnAuthentication) for g in guards_of(r))
]


def test_only_the_listed_routes_authenticate_on_their_own() -> None:
    own = {
        (m, p): g.scheme
        for m, p, r in OPERATIONS
        for g in guards_of(r)
        if isinstance(g, OwnAuthentication)
    }
    assert own == OWN_AUTHENTICATION


each_guarded_operation = pytest.mark.parametrize(
    ("method", "path", "route"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED]
)


@each_guarded_operation
def test_matrix(
    app_and_keys: tuple[TestClient, KeyRing], method: str, path: str, route: Any
) -> None:
    client, ring = app_and_keys
    for label, headers in [
        ("no key", {}),
        ("unknown key", {"Authorization": "Bearer ijt_000000000000_" + "A" * 43}),
        ("malformed key", {"Authorization": "Bearer nonsense"}),
        ("basic scheme", {"Authorization": "Basic dXNlcjpwYXNz"}),
        ("revoked key", ring.headers("revoked")),
    ]:
        r = call(client, method, path, headers)
        assert r.status_code == 401, (label, r.status_code, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["detail"] == []
    allowed = allowed_roles(route)
    for role in Role:
        r = call(client, method, path, ring.headers(role.value))
        if role.value in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)


@each_guarded_operation
def test_a_refusal_does_not_tell_whether_the_patient_exists(
    app_and_keys: tuple[TestClient, KeyRing], method: str, path: str, route: Any
) -> None:
    client, ring = app_and_keys
    denied = [r for r in Role if r.value not in allowed_roles(route)]
    for headers in [{}, *(ring.headers(r.value) for r in denied)]:
        known = call(client, method, path, headers, patient="p-known")
        unknown = call(client, method, path, headers, patient="p-nobody")
        assert known.status_code == unknown.status_code
        strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
        assert strip(known) == strip(unknown)
