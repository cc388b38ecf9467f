"""End to end over HTTP: eligibility (a dry run), authorizations (recorded once), the policy
listing, and the 422s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(persistence="memory"), lambda: NOW)) as client:
        client.post(
            "/v1/events",
            json={
                "events": [
                    {
                        "type": "procedure_performed",
                        "event_id": "e1",
                        "patient_id": "p1",
                        "date_of_service": "2026-02-02",
                        "region": "lumbar",
                        "codes": [{"cpt": "64483"}],
                        "levels": ["L4-L5"],
                    },
                    {
                        "type": "outcome_reported",
                        "event_id": "o1",
                        "patient_id": "p1",
                        "procedure_event_id": "e1",
                        "assessed_on": "2026-02-10",
                        "pain_relief_percent": 60,
                    },
                ]
            },
        ).raise_for_status()
        yield client


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": "p1",
        "policy_set": "nia",
        "procedure": {
            "date_of_service": "2026-02-12",
            "region": "lumbar",
            "codes": [{"cpt": "64483", "units": 1}],
            "laterality": "left",
            "levels": ["L4-L5"],
            "intent": "therapeutic",
            "agent": "steroid",
            "approach": None,
            "indication": None,
            "device_type": None,
        },
        "clinical": {
            "pain_score": 7,
            "active_conservative_therapy": True,
            "initial_criteria_met": True,
            "special_circumstances": False,
            "multi_region_medical_reason": False,
            "synovial_cyst_confirmed": False,
            "positive_provocative_exam": False,
            "opioid_naive": False,
            "device_reason": None,
        },
        "as_of": None,
    }
    return body | overrides


def history_types(client: TestClient) -> list[str]:
    return [e["type"] for e in client.get("/v1/patients/p1/history").json()["events"]]


def test_eligibility_answers_with_reasons_and_the_next_date_and_records_nothing(
    api: TestClient,
) -> None:
    r = api.post("/v1/eligibility", json=request())
    assert r.status_code == 200
    body = r.json()
    assert body["decision"] == "not_eligible"
    assert body["next_eligible_date"] == "2026-02-16"
    assert body["policy"] == {
        "set": "nia",
        "guideline": "NIA_CG_300",
        "version": "2024",
        "source": "002_fc2de44da7ae47dd.txt",
        "title": "Epidural Spine Injections",
        "also": None,
    }
    failing = [x for x in body["reasons"] if x["status"] == "fail"]
    assert [x["rule"] for x in failing] == ["nia.esi.initial_interval"]
    assert all(x["citation"] and x["message"] for x in body["reasons"])
    assert body["state"]["position"] == 2 and body["state"]["previous"]["levels"] == ["L4-L5"]
    assert history_types(api) == ["procedure_performed", "outcome_reported"]


def test_eligibility_as_of_sees_only_what_was_recorded_then(api: TestClient) -> None:
    body = api.post("/v1/eligibility", json=request(as_of="2020-01-01T00:00:00Z")).json()
    assert body["state"]["position"] == 1 and body["decision"] == "eligible"


def test_authorization_is_recorded_once_and_a_resend_returns_the_recorded_decision(
    api: TestClient,
) -> None:
    first = api.post("/v1/authorizations", json=request(authorization_id="a-1"))
    assert first.status_code == 200
    assert first.json()["authorization_id"] == "a-1"
    assert first.json()["decision"] == "not_eligible"
    # New history would change a fresh decision; the resend must not re-decide.
    api.post(
        "/v1/events",
        json={
            "events": [
                {
                    "type": "event_voided",
                    "event_id": "v1",
                    "patient_id": "p1",
                    "voided_event_id": "e1",
                    "reason": "entered in error",
                }
            ]
        },
    ).raise_for_status()
    again = api.post("/v1/authorizations", json=request(authorization_id="a-1"))
    assert again.json() == first.json()
    assert api.post("/v1/eligibility", json=request()).json()["decision"] == "eligible"
    assert history_types(api) == [
        "procedure_performed",
        "outcome_reported",
        "authorization_requested",
        "authorization_decided",
        "event_voided",
    ]


def test_policies_lists_sets_versions_and_cited_rules(api: TestClient) -> None:
    body = api.get("/v1/policies").json()
    nia = next(s for s in body["sets"] if s["name"] == "nia")
    esi = next(g for g in nia["guidelines"] if g["id"] == "NIA_CG_300")
    assert [(v["id"], v["effective_from"], v["effective_until"]) for v in esi["versions"]] == [
        ("2021", "2012-10-01", "2022-01-01"),
        ("2024", "2022-01-01", None),
    ]
    rules = {r["id"]: r for r in esi["rules"]}
    assert rules["nia.esi.annual_cap"]["time_rule"] is True
    assert rules["nia.esi.therapeutic_sustained_relief"]["params"]["sustained"] == {
        "version_parameter": "sustained_relief"
    }
    assert all(r["citation"]["quote"] for g in nia["guidelines"] for r in g["rules"])


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        pytest.param(
            {"policy_set": "acme"},
            "policy_set",
            "unknown policy set 'acme'",
            id="an unknown policy set is a 422 naming it",
        ),
        pytest.param(
            {"procedure": request()["procedure"] | {"codes": [{"cpt": "0627T"}]}},
            "procedure.codes",
            "policy set 'nia' has no guideline for CPT 0627T",
            id="a code the set has no guideline for is a 422 naming the set and code",
        ),
        pytest.param(
            {"procedure": request()["procedure"] | {"codes": [{"cpt": "99999"}]}},
            "procedure.codes",
            "unknown CPT code",
            id="an unknown code is a 422",
        ),
        pytest.param(
            {"clinical": {"pain_score": 11}},
            "clinical.pain_score",
            "less than",
            id="a pain score above 10 is a 422",
        ),
        pytest.param({"surprise": 1}, "surprise", "unknown field", id="an unknown field is a 422"),
    ],
)
def test_422s(api: TestClient, overrides: dict[str, Any], field: str, words: str) -> None:
    r = api.post("/v1/eligibility", json=request(**overrides))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert any(d["field"] == field and words in d["message"] for d in detail), detail
    r = api.post("/v1/authorizations", json=request(authorization_id="a-x", **overrides))
    assert r.status_code == 422
    assert "authorization_requested" not in history_types(api)


def test_policies_show_the_clinical_facts_each_rule_reads(api: TestClient) -> None:
    body = api.get("/v1/policies").json()
    nia = next(s for s in body["sets"] if s["name"] == "nia")
    rules = {r["id"]: r for g in nia["guidelines"] for r in g["rules"]}
    assert rules["nia.esi.contraindications"]["facts"] == [
        "active_infection",
        "needle_site_infection",
        "severe_stenosis_obstruction",
    ]
    assert "functional_disability" in rules["nia.common.repeat_pain_and_therapy"]["facts"]
    assert rules["nia.esi.first_year_cap"]["facts"] == []


def test_the_request_schema_names_each_fact_with_its_meaning_and_rules(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()["components"]["schemas"]["ClinicalIn"]
    pain = schema["properties"]["psychological_assessment_completed"]["description"]
    assert "psychological assessment" in pain and "nia.scs.psychological_assessment" in pain
