"""API keys and roles: issuing, verifying and revoking keys, and who may do what.

A key is ``ijt_<key_id>_<secret>``: ``key_id`` (12 hex digits) is public and finds the row;
``secret`` is 256 random bits. Only ``HMAC-SHA256(salt, secret)`` is stored, with a random
16-byte salt per key, and compared in constant time. A slow password hash (argon2, scrypt)
protects *low-entropy* secrets against guessing; these secrets are random 256-bit tokens that
no dictionary contains, so a fast keyed hash is as strong and keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from adapters.access import AccessStore, StoredKey

TOKEN_PREFIX = "ijt"
_TOKEN = re.compile(r"^ijt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")


class Role(StrEnum):
    SUBMITTER = "submitter"  # record events, import
    PAYER = "payer"  # eligibility, authorizations, CDS Hooks
    AUDITOR = "auditor"  # history, state, audit replay, access trail
    COMPLIANCE = "compliance"  # reports
    ADMIN = "admin"  # everything, policy reload, key management


class KeyManagementError(ValueError):
    """A key management request that cannot be carried out (bad name, unknown key...)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name and roles (``anonymous`` on an open loopback
    service with no keys configured)."""

    name: str
    roles: frozenset[Role]
    key_id: str | None = None

    def role_for(self, allowed: frozenset[Role]) -> Role | None:
        """The role that allows a call open to ``allowed`` (any role when empty); admin
        allows everything."""
        if not allowed:
            return min(self.roles) if self.roles else None
        for role in sorted(allowed & self.roles):
            return role
        return Role.ADMIN if Role.ADMIN in self.roles else None


ANONYMOUS = Principal(name="anonymous", roles=frozenset({Role.ADMIN}))


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: str  # shown once, never stored
    stored: StoredKey


def _hash(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def parse_roles(values: Iterable[str]) -> tuple[Role, ...]:
    roles: list[Role] = []
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if not part:
                continue
            try:
                role = Role(part)
            except ValueError:
                choices = ", ".join(r.value for r in Role)
                raise KeyManagementError(f"unknown role {part!r} (choose from {choices})") from None
            if role not in roles:
                roles.append(role)
    if not roles:
        raise KeyManagementError("a key needs at least one role")
    return tuple(roles)


class Keys:
    """Key management and verification over an :class:`AccessStore`."""

    def __init__(self, store: AccessStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def create(self, name: str, roles: Iterable[str]) -> IssuedKey:
        if not _NAME.match(name):
            raise KeyManagementError(
                "a key name is 1-64 letters, digits, spaces or ._@- and starts with a "
                "letter or digit"
            )
        parsed = parse_roles(roles)
        if any(k.name == name and k.active for k in self.store.list_keys()):
            raise KeyManagementError(f"an active key is already named {name!r}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        stored = StoredKey(
            key_id=key_id,
            name=name,
            roles=tuple(r.value for r in parsed),
            salt=salt,
            key_hash=_hash(salt, secret),
            created_at=self.clock(),
        )
        self.store.insert_key(stored)
        return IssuedKey(key=f"{TOKEN_PREFIX}_{key_id}_{secret}", stored=stored)

    def list(self) -> list[StoredKey]:
        return self.store.list_keys()

    def revoke(self, key_id_or_name: str) -> list[str]:
        revoked = self.store.revoke(key_id_or_name, self.clock())
        if not revoked:
            raise KeyManagementError(f"no active key has the id or name {key_id_or_name!r}")
        return revoked

    def any_active(self) -> bool:
        return self.store.active_key_count() > 0

    def verify(self, token: str) -> Principal | None:
        """The key's principal, or ``None`` for a malformed, unknown or revoked key."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        key_id, secret = match.groups()
        stored = self.store.find_key(key_id)
        if stored is None:
            # Spend the same work as for a known key, so timing does not tell ids apart.
            hmac.compare_digest(_hash("00" * 16, secret), "0" * 64)
            return None
        if not hmac.compare_digest(_hash(stored.salt, secret), stored.key_hash):
            return None
        if not stored.active:
            return None
        return Principal(
            name=stored.name, roles=frozenset(Role(r) for r in stored.roles), key_id=key_id
        )
