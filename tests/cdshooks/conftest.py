"""Fixtures of the CDS Hooks tests: an app on the test's backend called from loopback, a
registered EHR with an ES384 key pair, and helpers that sign client JWTs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from adapters.eventstore import InjectionLedger
from api.app import create_app
from api.settings import Settings
from tests.cdshooks import fhir
from tests.support import FakeClock

BASE = "http://testserver"
ISSUER = "https://ehr.example.org"
KID = "ehr-key-1"


@pytest.fixture(scope="session")
def ehr_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def ehr_jwks(ehr_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    public = jwt.algorithms.ECAlgorithm.to_jwk(ehr_key.public_key(), as_dict=True)
    return {"keys": [public | {"kid": KID, "use": "sig", "alg": "ES384"}]}


Signer = Callable[..., str]


@pytest.fixture
def sign(ehr_key: ec.EllipticCurvePrivateKey, clock: FakeClock) -> Signer:
    """``sign(aud, **claims_or_overrides)``: an ES384 client JWT as the EHR makes it; pass
    ``headers={...}`` to change the header, ``key=`` another private key."""

    def make(
        aud: str, *, headers: dict[str, Any] | None = None, key: Any = None, **claims: Any
    ) -> str:
        now = int(clock.now().timestamp())
        payload = {
            "iss": ISSUER,
            "aud": aud,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        } | claims
        payload = {k: v for k, v in payload.items() if v is not None}
        head = {"kid": KID, "typ": "JWT"} | (headers or {})
        return jwt.encode(payload, key or ehr_key, algorithm=head.pop("alg", "ES384"), headers=head)

    return make


CdsClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_cds_client(
    make_settings: Callable[..., Settings], ledger: InjectionLedger, clock: FakeClock
) -> Iterator[CdsClientFactory]:
    """``make_cds_client(host="127.0.0.1", **settings)``: the API over ``ledger`` and
    ``clock``, called from ``host``; members are identified by the payer's member-id system
    unless ``fhir_member_identifier_system`` says otherwise."""
    made: list[TestClient] = []

    def make(host: str = "127.0.0.1", **overrides: Any) -> TestClient:
        overrides.setdefault("fhir_member_identifier_system", fhir.MEMBER_SYSTEM)
        app = create_app(make_settings(**overrides), clock, ledger)
        client = TestClient(app, base_url=BASE, client=(host, 50000))
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


@pytest.fixture
def cds(make_cds_client: CdsClientFactory) -> TestClient:
    """Unsigned calls from loopback, no client registered (the newcomer's setup)."""
    return make_cds_client()
