"""The clinical facts: one list (``policies.facts``) behind the request schema, the rules and
the README, and the ``criteria`` kind's reading of absent, stated and umbrella facts."""

from __future__ import annotations

from datetime import date

import pytest

from api.schemas.eligibility import ClinicalIn
from policies import registry
from policies.engine import KINDS as ENGINE_KINDS
from policies.engine import Context, GuidelineVersion, Proposed, Status
from policies.facts import FACTS, facts_of
from policies.kinds import FactTest
from projections.state import fold


def test_every_request_fact_is_described_and_every_described_fact_is_in_the_request() -> None:
    assert set(ClinicalIn.model_fields) == set(FACTS)


def test_every_fact_a_rule_reads_is_a_known_fact_and_every_fact_is_read() -> None:
    read = {
        f
        for s in registry.all_sets()
        for g in s.guidelines
        for r in g.rules
        for f in facts_of(r.params)
    }
    assert read <= set(FACTS)
    assert set(FACTS) - read == set()


PAIN = (
    FactTest(fact="pain_score", op=">=", value=6, label="pain of 6/10"),
    FactTest(fact="functional_disability", op="==", value=True, label="functional disability"),
)
PARAMS = {"items": (PAIN,), "covered_by": "initial_criteria_met", "label": "criteria"}


def verdict(clinical: dict, **extra: object) -> Status:
    ctx = Context(
        fold([]),
        Proposed(date(2024, 3, 4), "lumbar", "esi", (("64483", 1),)),
        clinical,
        GuidelineVersion("v", None),
    )
    return ENGINE_KINDS["criteria"].evaluate(ctx, {**PARAMS, **extra}).status


@pytest.mark.parametrize(
    "clinical, extra, expected",
    [
        pytest.param({"pain_score": 7}, {}, Status.PASS, id="one alternative met passes"),
        pytest.param({"pain_score": 5}, {}, Status.FAIL, id="a stated alternative missed fails"),
        pytest.param(
            {"pain_score": 5, "initial_criteria_met": True},
            {},
            Status.FAIL,
            id="the umbrella never covers an item stated and missed",
        ),
        pytest.param(
            {"initial_criteria_met": True}, {}, Status.PASS, id="the umbrella covers unstated"
        ),
        pytest.param({}, {}, Status.MISSING, id="nothing stated is missing"),
        pytest.param(
            {"initial_criteria_met": False}, {}, Status.FAIL, id="an umbrella denied fails"
        ),
        pytest.param(
            {},
            {"when_absent": "unverified"},
            Status.PASS,
            id="with when_absent unverified nothing stated passes, named unverified",
        ),
    ],
)
def test_criteria_kind(clinical: dict, extra: dict, expected: Status) -> None:
    assert verdict(clinical, **extra) is expected
