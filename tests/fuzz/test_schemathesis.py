"""Fuzzing with schemathesis against the service's own OpenAPI document: every operation,
authenticated as admin, a fixed seed and a bounded example budget. No 5xx, and every
response conforms to the document (status documented, body matching its schema, headers).

Runs in-process through ASGI on the memory store (the PostgreSQL- and SQLite-specific
paths are covered by the integration tests). ``INJTRACK_FUZZ_EXAMPLES`` raises the budget
for a longer local run.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from tests.support import FakeClock

EXAMPLES = int(os.environ.get("INJTRACK_FUZZ_EXAMPLES", "10"))

APP = create_app(Settings(persistence="memory"), FakeClock())
ADMIN_KEY = APP.state.access.keys.create("fuzzer", ["admin"]).key
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

# Not positive_data_acceptance: schema-valid requests naming an unknown policy set, code or
# event are rightly refused with a documented 422.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_every_response_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=CHECKS)
