"""Fixtures of the access-control tests: an app with one key per role.

``keyed(client)`` creates, in the client's app, one active key per role plus a revoked one
and returns :class:`KeyRing`; ``ring.headers("payer")`` is the ``Authorization`` header of
the payer key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from application.access import Role


@dataclass
class KeyRing:
    keys: dict[str, str] = field(default_factory=dict)

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


def keyed(client: TestClient) -> KeyRing:
    keys = client.app.state.access.keys  # type: ignore[attr-defined]
    ring = KeyRing()
    for role in Role:
        ring.keys[role.value] = keys.create(f"{role.value}-key", [role.value]).key
    ring.keys["revoked"] = keys.create("revoked-key", ["admin"]).key
    keys.revoke("revoked-key")
    client.app.state.access._open_checked_at = -1e9  # type: ignore[attr-defined]
    return ring
