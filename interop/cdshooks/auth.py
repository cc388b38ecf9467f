"""CDS Hooks client authentication: the signed JWT every call carries
(``Authorization: Bearer <jwt>``), verified with ``pyjwt``.

A client is registered by its ``iss`` with its JSON Web Key Set, given inline or as a file
(the out-of-band exchange the specification allows). A JWT naming a ``jku`` is accepted only
when that URL is on the client's allow-list; an allow-listed URL resolves to a configured key
set (this service never fetches keys over the network). Checks, in order: an asymmetric
``alg`` (``none`` and every HMAC algorithm are refused, as the specification requires),
``typ`` ``JWT``, a ``kid`` found in the key set, the signature, ``iss`` registered, ``aud``
equal to the exact URL called, ``exp`` not passed and ``iat`` not in the future (by the
injected clock, with a small leeway), a lifetime no longer than configured, and ``jti`` not
seen before from that issuer while the token is valid (replay).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, model_validator

# Asymmetric JWS algorithms pyjwt verifies with the cryptography package.
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class CdsClient(BaseModel):
    """One registered CDS client (an EHR), as configured in ``INJTRACK_CDS_CLIENTS``."""

    model_config = ConfigDict(extra="forbid")

    iss: str = Field(min_length=1)
    name: str | None = None
    jwks: dict[str, Any] | None = None  # inline JWK Set {"keys": [...]}
    jwks_file: Path | None = None
    # jku URL -> its key set (inline JWK Set or the path of a file holding one)
    jku: dict[str, dict[str, Any] | Path] = {}
    tenant: str | None = None  # when set, the JWT's tenant must equal it

    @model_validator(mode="after")
    def _some_keys(self) -> CdsClient:
        if self.jwks is None and self.jwks_file is None and not self.jku:
            raise ValueError(f"CDS client {self.iss!r} needs jwks, jwks_file or jku key sets")
        return self

    def key_set(self, jku: str | None) -> dict[str, Any]:
        if jku is not None:
            if jku not in self.jku:
                raise AuthError(f"jku {jku!r} is not on the allow-list of issuer {self.iss!r}")
            return _load(self.jku[jku])
        if self.jwks is not None:
            return self.jwks
        if self.jwks_file is not None:
            return _load(self.jwks_file)
        raise AuthError(f"issuer {self.iss!r} must name an allow-listed jku")


def _load(source: dict[str, Any] | Path) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    data: dict[str, Any] = json.loads(Path(source).read_text())
    return data


class AuthError(Exception):
    """The call's JWT is missing or not acceptable (401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class VerifiedClient:
    iss: str
    name: str | None
    jti: str
    tenant: str | None


@dataclass
class JwtVerifier:
    """Verifies CDS Hooks client JWTs against the registered clients."""

    clients: dict[str, CdsClient]
    clock: Callable[[], datetime]
    leeway_seconds: int = 30
    max_lifetime_seconds: int = 300
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, token: str, audience: str) -> VerifiedClient:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed JWT: {exc}") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise AuthError(
                f"JWT alg {alg!r} refused: CDS Hooks JWTs are signed with an asymmetric "
                "algorithm (never none or HMAC)"
            )
        if header.get("typ", "JWT") != "JWT":
            raise AuthError("JWT typ must be JWT")
        kid = header.get("kid")
        if not kid:
            raise AuthError("JWT header has no kid")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed JWT: {exc}") from None
        iss = claims.get("iss")
        client = self.clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise AuthError(f"issuer {iss!r} is not a registered CDS client")
        key = _find_key(client.key_set(header.get("jku")), kid, alg)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=client.iss,
                options={
                    "require": ["iss", "aud", "exp", "iat", "jti"],
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise AuthError(f"JWT aud is not the URL called ({audience})") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"JWT rejected: {exc}") from None
        now = self.clock().timestamp()
        exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
        if not all(isinstance(v, (int, float)) for v in (exp, iat)) or not isinstance(jti, str):
            raise AuthError("JWT exp and iat must be numbers and jti a string")
        if exp <= now - self.leeway_seconds:
            raise AuthError("JWT has expired")
        if iat > now + self.leeway_seconds:
            raise AuthError("JWT iat is in the future")
        if exp - iat > self.max_lifetime_seconds:
            raise AuthError(f"JWT lifetime exceeds {self.max_lifetime_seconds} seconds")
        if client.tenant is not None and claims.get("tenant") != client.tenant:
            raise AuthError("JWT tenant does not match the registered client")
        self._remember(client.iss, jti, float(exp), now)
        return VerifiedClient(client.iss, client.name, jti, claims.get("tenant"))

    def _remember(self, iss: str, jti: str, exp: float, now: float) -> None:
        with self._lock:
            for key in [k for k, until in self._seen.items() if until + self.leeway_seconds < now]:
                del self._seen[key]
            if (iss, jti) in self._seen:
                raise AuthError("JWT jti was already used (replay)")
            self._seen[(iss, jti)] = exp


def _find_key(key_set: dict[str, Any], kid: str, alg: str) -> Any:
    for jwk in key_set.get("keys", []):
        if jwk.get("kid") != kid:
            continue
        if jwk.get("kty") == "oct":
            raise AuthError("symmetric (oct) keys are refused")
        try:
            return jwt.PyJWK(jwk, algorithm=alg).key
        except jwt.PyJWTError as exc:
            raise AuthError(f"key {kid!r} cannot verify {alg}: {exc}") from None
    raise AuthError(f"no key {kid!r} in the client's key set")
