"""Safe by default (issue 9): a stimulator or pump placement code needs its device intent, and
a date of service before a guideline's first version has no version in force. Both are 422s
naming the field; refills and analyses need no intent."""

from __future__ import annotations

import pytest

from tests.policy_sets.conftest import Desk


def field_of(answer: object) -> str:
    body = answer.body  # type: ignore[attr-defined]
    return body["detail"][0]["field"]


@pytest.mark.parametrize("code", ["63650", "63685", "63688", "62362", "62350", "62365"])
def test_a_placement_code_without_an_intent_is_a_422_naming_the_intent(
    desk: Desk, code: str
) -> None:
    answer = desk.ask("nia", "2026-02-02", [code])
    assert answer.status_code == 422, answer
    assert field_of(answer) == "procedure.intent"


def test_a_stimulator_code_sent_as_therapeutic_is_a_422_too(desk: Desk) -> None:
    answer = desk.ask("nia", "2026-02-02", ["63650"], intent="therapeutic")
    assert answer.status_code == 422, answer
    assert "trial" in answer.body["message"]


def test_the_same_stimulator_code_sent_as_a_trial_is_decided(desk: Desk) -> None:
    answer = desk.ask(
        "nia", "2026-02-02", ["63650"], intent="trial", clinical={"initial_criteria_met": True}
    )
    assert answer.status_code == 200, answer
    assert answer.decision == "eligible", answer


@pytest.mark.parametrize("code", ["95990", "95991", "62367", "62368", "62369", "62370"])
def test_refills_and_pump_analyses_need_no_intent(desk: Desk, code: str) -> None:
    answer = desk.ask("nia", "2026-02-02", [code])
    assert answer.status_code == 200, answer
    assert answer.decision == "eligible"


def test_an_intrathecal_trial_needs_no_intent_its_indication_says_it(desk: Desk) -> None:
    answer = desk.ask(
        "cohere-ma",
        "2026-02-02",
        ["62350"],
        indication="intrathecal_trial",
        clinical={"initial_criteria_met": True},
    )
    assert answer.status_code == 200, answer


@pytest.mark.parametrize(
    "policy_set, code, region, first, day_before, extra",
    [
        pytest.param(
            "cohere",
            "64479",
            "cervical",
            "2023-01-13",
            "2023-01-12",
            {},
            id="Cohere Neck Pain V3.0 is in force from 2023-01-13",
        ),
        pytest.param(
            "cohere-ma",
            "95990",
            "lumbar",
            "2024-06-10",
            "2024-06-09",
            {},
            id="the Medicare Advantage pump policy V2 is in force from 2024-06-10",
        ),
        pytest.param(
            "bcbs-ma",
            "0263T",
            "lumbar",
            "2010-12-01",
            "2010-11-30",
            {},
            id="Blue Cross policy 254 is in force from 2010-12-01",
        ),
        pytest.param(
            "nia",
            "27096",
            "lumbar",
            "2014-01-01",
            "2013-12-31",
            {},
            id="NIA_CG_305 is in force from its original date, January 2014",
        ),
        pytest.param(
            "nia",
            "62327",
            "lumbar",
            "2015-07-01",
            "2015-06-30",
            {"indication": "intrathecal_trial"},
            id="intrathecal trial criteria are in force from NIA_CG_310 original date, July 2015",
        ),
    ],
)
def test_a_date_before_the_first_version_is_a_422_saying_no_version_was_in_force(
    desk: Desk, policy_set: str, code: str, region: str, first: str, day_before: str, extra: dict
) -> None:
    before = desk.ask(policy_set, day_before, [code], region=region, **extra)
    assert before.status_code == 422, before
    assert field_of(before) == "procedure.date_of_service"
    assert "no version" in before.body["message"] and first in before.body["message"]
    on = desk.ask(policy_set, first, [code], region=region, **extra)
    assert on.status_code == 200, on
