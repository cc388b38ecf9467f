"""The edge of every exchange: request ids, security headers, body size limit, one error
shape (and the OpenAPI document saying so), strict dates, local /docs, logs without patient
data."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.builders import procedure
from tests.security.conftest import keyed


@pytest.fixture
def api() -> TestClient:
    with TestClient(create_app(Settings(persistence="memory", max_body_bytes=4096))) as c:
        yield c


def test_a_request_id_is_echoed_or_made(api: TestClient) -> None:
    assert (
        api.get("/healthz", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"]
        == "trace-42"
    )
    made = api.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"}).headers["x-request-id"]
    assert made != "bad id\twith tab" and len(made) == 32
    r = api.post("/v1/events", json={"events": []}, headers={"X-Request-ID": "r-1"})
    assert r.json()["request_id"] == "r-1"


def test_security_headers_on_every_response(api: TestClient) -> None:
    for r in [api.get("/healthz"), api.get("/v1/patients/p-1/history"), api.get("/nowhere")]:
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"


def test_docs_work_offline_under_a_content_security_policy(api: TestClient) -> None:
    page = api.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text  # no CDN: every asset is served from here
    assert "<script>" not in page.text  # no inline script for the CSP to allow
    for asset in (
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/init.js",
    ):
        assert api.get(asset).status_code == 200, asset
    assert "cache-control" not in api.get("/docs/assets/swagger-ui.css").headers


def test_a_body_over_the_limit_is_a_413(api: TestClient) -> None:
    big = {"events": [procedure(f"p-{i}") for i in range(40)]}
    r = api.post("/v1/events", json=big)
    assert r.status_code == 413
    assert r.json()["message"] == "the request body is larger than 4096 bytes"

    def chunks():
        yield b'{"events": ['
        for _ in range(100):
            yield b" " * 100
        yield b"]}"

    streamed = api.post(
        "/v1/events", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["detail"] == []


def test_malformed_json_names_the_body_not_a_character_position(api: TestClient) -> None:
    r = api.post(
        "/v1/events", content=b'{"events": [', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["field"] == "body"
    assert error["message"].startswith("malformed JSON at character")


@pytest.mark.parametrize("value", [0, 20250303, "2025-03-03T00:00:00", "03/03/2025", True])
def test_a_date_is_only_yyyy_mm_dd_text(api: TestClient, value: object) -> None:
    r = api.post("/v1/events", json={"events": [procedure(on=value)]})  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "date_of_service"
    assert "YYYY-MM-DD" in r.json()["detail"][0]["message"]


def test_an_instant_is_only_iso_text(api: TestClient) -> None:
    assert api.get("/v1/patients/p-1/history", params={"as_of": "0"}).status_code == 422
    assert api.get("/v1/patients/p-1/state", params={"on": "1"}).status_code == 422
    assert (
        api.get("/v1/patients/p-1/state", params={"as_of": "2025-03-10T00:00:00Z"}).status_code
        == 200
    )


def test_every_error_has_one_shape(api: TestClient) -> None:
    for r in [
        api.get("/nowhere"),
        api.delete("/v1/events"),
        api.post("/v1/events", json={"events": "x"}),
        api.post("/v1/events", json=[1]),
    ]:
        body = r.json()
        assert r.status_code >= 400
        assert set(body) == {"message", "detail", "request_id"}, body
        assert isinstance(body["message"], str) and isinstance(body["detail"], list)


def test_the_openapi_document_declares_the_bearer_scheme_and_real_error_shapes(
    api: TestClient,
) -> None:
    doc = api.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ijt_<key_id>_<secret>",
        "description": doc["components"]["securitySchemes"]["apiKey"]["description"],
    }
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    events = doc["paths"]["/v1/events"]["post"]
    assert events["security"] == [{"apiKey": []}]
    for code in ("400", "401", "403", "409", "413", "422", "503"):
        schema = events["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, code
    assert "Retry-After" in events["responses"]["503"]["headers"]
    health = doc["paths"]["/healthz"]["get"]
    assert "security" not in health and "401" not in health["responses"]


def test_logs_carry_the_route_template_and_no_patient_data(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    ring = keyed(api)
    with caplog.at_level(logging.INFO, logger="injtrack"):
        api.post(
            "/v1/events",
            json={"events": [procedure(patient_id="p-secret-77", on="2024-02-29")]},
            headers=ring.headers("submitter"),
        )
        api.get(
            "/v1/patients/p-secret-77/history",
            headers=ring.headers("auditor") | {"X-Request-ID": "q-9"},
        )
    lines = [r for r in caplog.records if r.name == "injtrack.access"]
    assert [(r.route, r.status, r.key) for r in lines] == [  # type: ignore[attr-defined]
        ("/v1/events", 200, "submitter-key"),
        ("/v1/patients/{patient_id}/history", 200, "auditor-key"),
    ]
    text = "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    for secret in ("p-secret-77", "2024-02-29", "64483"):
        assert secret not in text
