"""Fixtures of the policy-set contract tests: a throwaway service and a desk to talk to it.

``desk`` is a :class:`Desk` over ``create_app(Settings(persistence="memory"), clock)`` with a
fixed clock (2027-01-04T12:00Z, after every clinical date the scenarios use). ``desk.record``
posts events (builders from :mod:`tests.builders`); ``desk.ask`` posts ``/v1/eligibility``
and returns the :class:`Answer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

NOW = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
PATIENT = "p-001"


def _iso(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


class Answer:
    """One ``/v1/eligibility`` response: status code, body and lookups by rule id."""

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body

    @property
    def decision(self) -> str:
        assert self.status_code == 200, (self.status_code, self.body)
        return self.body["decision"]

    @property
    def next_eligible_date(self) -> str | None:
        assert self.status_code == 200, (self.status_code, self.body)
        return self.body["next_eligible_date"]

    @property
    def reasons(self) -> list[dict[str, Any]]:
        assert self.status_code == 200, (self.status_code, self.body)
        return self.body["reasons"]

    @property
    def policy(self) -> dict[str, Any]:
        assert self.status_code == 200, (self.status_code, self.body)
        return self.body["policy"]

    def rules(self, status: str | None = None) -> set[str]:
        return {r["rule"] for r in self.reasons if status is None or r["status"] == status}

    def reason(self, rule: str) -> dict[str, Any]:
        found = [r for r in self.reasons if r["rule"] == rule]
        assert found, f"no reason {rule!r} in {self.describe()}"
        return found[0]

    def status_of(self, rule: str) -> str:
        return self.reason(rule)["status"]

    def assert_no_guideline(self, policy_set: str, code: str) -> None:
        """A 422 that names the set and the code."""
        assert self.status_code == 422, (policy_set, code, self.describe())
        text = str(self.body)
        assert policy_set in text and code in text, text

    def describe(self) -> str:
        if self.status_code != 200:
            return f"{self.status_code} {self.body}"
        return f"{self.body['decision']} next={self.body['next_eligible_date']} " + "; ".join(
            f"{r['rule']}={r['status']}" for r in self.body["reasons"]
        )

    def __repr__(self) -> str:
        return f"Answer({self.describe()})"


class Desk:
    """Records a patient's history and asks the eligibility question over HTTP."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def record(self, *events: dict[str, Any]) -> None:
        response = self.client.post("/v1/events", json={"events": list(events)})
        assert response.status_code == 200, response.text

    def ask(
        self,
        policy_set: str,
        on: date | str,
        codes: tuple[str | tuple[str, int], ...] | list[str | tuple[str, int]],
        *,
        region: str = "lumbar",
        clinical: dict[str, Any] | None = None,
        patient_id: str = PATIENT,
        **procedure: Any,
    ) -> Answer:
        billed = [{"cpt": c} if isinstance(c, str) else {"cpt": c[0], "units": c[1]} for c in codes]
        body = {
            "patient_id": patient_id,
            "policy_set": policy_set,
            "procedure": {
                "date_of_service": _iso(on),
                "region": region,
                "codes": billed,
                **procedure,
            },
            "clinical": clinical or {},
        }
        response = self.client.post("/v1/eligibility", json=body)
        return Answer(response.status_code, response.json())


@pytest.fixture
def desk() -> Iterator[Desk]:
    app = create_app(Settings(persistence="memory"), lambda: NOW)
    with TestClient(app) as client:
        yield Desk(client)
