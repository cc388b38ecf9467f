"""CDS Hooks client JWTs: a registered EHR's signed call is accepted; every way the
specification says a JWT must be refused is a 401; with no client registered only unsigned
loopback calls are accepted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from interop.cdshooks.auth import CdsClient
from tests.cdshooks import fhir
from tests.cdshooks.conftest import BASE, ISSUER, KID, CdsClientFactory, Signer
from tests.support import FakeClock, on_backends

pytestmark = on_backends("memory")

SIGN_PATH = "/cds-services/injtrack-crd-order-sign"
SIGN_URL = BASE + SIGN_PATH
DISCOVERY_URL = BASE + "/cds-services"


@pytest.fixture
def registered(make_cds_client: CdsClientFactory, ehr_jwks: dict[str, Any]) -> TestClient:
    """The API with the EHR registered by its inline JWK Set, called from another host."""
    return make_cds_client(
        host="10.1.2.3", cds_clients=[CdsClient(iss=ISSUER, name="Example EHR", jwks=ehr_jwks)]
    )


def call(client: TestClient, token: str | None, path: str = SIGN_PATH) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if path == "/cds-services":
        return client.get(path, headers=headers)
    return client.post(path, json=fhir.hook_call(orders=[fhir.service_request()]), headers=headers)


def refused(response: Any, words: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "security"
    assert words in body["detail"], body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_registered_ehrs_signed_call_is_answered(registered: TestClient, sign: Signer) -> None:
    assert call(registered, sign(SIGN_URL)).status_code == 200
    assert call(registered, sign(DISCOVERY_URL), "/cds-services").status_code == 200


def test_aud_must_be_the_exact_url_called(registered: TestClient, sign: Signer) -> None:
    refused(call(registered, sign(DISCOVERY_URL)), "aud")
    refused(call(registered, sign(SIGN_URL + "/")), "aud")
    assert call(registered, sign([SIGN_URL])).status_code == 200


def test_the_public_base_url_is_the_audience_behind_a_proxy(
    make_cds_client: CdsClientFactory, ehr_jwks: dict[str, Any], sign: Signer
) -> None:
    client = make_cds_client(
        host="10.1.2.3",
        cds_clients=[CdsClient(iss=ISSUER, jwks=ehr_jwks)],
        cds_public_base_url="https://crd.payer.example/",
    )
    assert call(client, sign("https://crd.payer.example" + SIGN_PATH)).status_code == 200
    refused(call(client, sign(SIGN_URL)), "aud")


def test_expired_and_future_tokens_are_refused(
    registered: TestClient, sign: Signer, clock: FakeClock
) -> None:
    now = int(clock.now().timestamp())
    refused(call(registered, sign(SIGN_URL, iat=now - 120, exp=now - 60)), "expired")
    refused(call(registered, sign(SIGN_URL, iat=now + 120, exp=now + 180)), "future")
    refused(call(registered, sign(SIGN_URL, iat=now, exp=now + 3600)), "lifetime")


def test_a_replayed_jti_is_refused(registered: TestClient, sign: Signer) -> None:
    token = sign(SIGN_URL)
    assert call(registered, token).status_code == 200
    refused(call(registered, token), "replay")


def test_required_claims_and_headers_are_checked(registered: TestClient, sign: Signer) -> None:
    refused(call(registered, sign(SIGN_URL, jti=None)), "jti")
    refused(call(registered, sign(SIGN_URL, headers={"kid": "other"})), "no key 'other'")
    refused(call(registered, sign(SIGN_URL, iss="https://intruder.example")), "not a registered")
    refused(call(registered, None), "Bearer")
    refused(call(registered, "not-a-jwt"), "malformed")


def test_a_token_signed_by_another_key_is_refused(registered: TestClient, sign: Signer) -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    refused(call(registered, sign(SIGN_URL, key=other)), "Signature verification failed")


def test_none_and_hmac_algorithms_are_refused(registered: TestClient, clock: FakeClock) -> None:
    now = int(clock.now().timestamp())
    claims = {"iss": ISSUER, "aud": SIGN_URL, "iat": now, "exp": now + 60, "jti": "j-1"}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": KID})
    refused(call(registered, unsigned), "'none' refused")
    hmac = jwt.encode(
        claims, "a shared secret of enough length!", algorithm="HS256", headers={"kid": KID}
    )
    refused(call(registered, hmac), "'HS256' refused")


def test_jku_is_used_only_from_the_clients_allow_list(
    make_cds_client: CdsClientFactory, ehr_jwks: dict[str, Any], sign: Signer, tmp_path: Path
) -> None:
    keys = tmp_path / "ehr-jwks.json"
    keys.write_text(json.dumps(ehr_jwks))
    jku = "https://ehr.example.org/.well-known/jwks.json"
    client = make_cds_client(host="10.1.2.3", cds_clients=[CdsClient(iss=ISSUER, jku={jku: keys})])
    assert call(client, sign(SIGN_URL, headers={"jku": jku})).status_code == 200
    refused(
        call(client, sign(SIGN_URL, headers={"jku": "https://evil.example/jwks.json"})),
        "allow-list",
    )
    refused(call(client, sign(SIGN_URL)), "allow-listed jku")


def test_a_key_set_file_registers_a_client(
    make_cds_client: CdsClientFactory, ehr_jwks: dict[str, Any], sign: Signer, tmp_path: Path
) -> None:
    keys = tmp_path / "ehr-jwks.json"
    keys.write_text(json.dumps(ehr_jwks))
    client = make_cds_client(host="10.1.2.3", cds_clients=[CdsClient(iss=ISSUER, jwks_file=keys)])
    assert call(client, sign(SIGN_URL)).status_code == 200


def test_an_rsa_key_cannot_verify_an_ec_signature(
    make_cds_client: CdsClientFactory, sign: Signer
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    client = make_cds_client(
        host="10.1.2.3", cds_clients=[CdsClient(iss=ISSUER, jwks={"keys": [public | {"kid": KID}]})]
    )
    refused(call(client, sign(SIGN_URL)), "cannot verify ES384")


def test_without_registered_clients_only_unsigned_loopback_calls_are_accepted(
    make_cds_client: CdsClientFactory, sign: Signer
) -> None:
    assert call(make_cds_client(host="127.0.0.1"), None).status_code == 200
    assert call(make_cds_client(host="::1"), None).status_code == 200
    assert call(make_cds_client(host="testclient"), None).status_code == 200  # in-process
    refused(call(make_cds_client(host="10.1.2.3"), None), "loopback")
