"""Policy versions on their boundary dates, the next-eligible search across time rules and
versions, and a fictitious policy set added as data only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from api.schemas.eligibility import decision_json, policy_json
from policies import registry
from policies.engine import PolicyLookupError
from policies.loader import load_library
from tests.policies.conftest import History, decide, reason, status
from tests.policy_docs import serving, write_set

TF = ("64483",)
SIJ = ("27096",)
FACET = ("64493",)
RFA = ("64635",)
LV = ["L4-L5"]


def esi_initial_phase(start: date) -> History:
    h = History()
    for i, offset in enumerate((0, 14, 28), 1):
        day = date.fromordinal(start.toordinal() + offset)
        h.procedure(f"e{i}", day, TF).outcome(f"e{i}", day, 80)
    return h


@pytest.mark.parametrize(
    "on, version, expected",
    [
        pytest.param(
            "2021-12-31", "2021", "pass", id="4th ESI on 2021-12-31 needs relief sustained 6 weeks"
        ),
        pytest.param(
            "2022-01-01", "2024", "fail", id="4th ESI on 2022-01-01 needs relief sustained 2 months"
        ),
    ],
)
def test_esi_sustained_relief_version_boundary(on: str, version: str, expected: str) -> None:
    # 3rd ESI on 2021-11-15: 6 weeks -> 2021-12-27, 2 months -> 2022-01-15.
    h = esi_initial_phase(date(2021, 10, 18)).outcome("e3", "2021-12-27", 70)
    d = decide(h, on, TF)
    assert policy_json(d)["version"] == version
    assert status(d, "nia.esi.therapeutic_sustained_relief") == expected
    if expected == "fail":
        assert d.next_eligible_date == date(2022, 1, 15)


def test_next_eligible_date_uses_the_version_in_force_on_each_candidate() -> None:
    # 3rd ESI 2021-11-20: under 2021 rules due 2022-01-01 (6 weeks), but on 2022-01-01 the
    # 2-month version is in force, due 2022-01-20.
    h = History()
    for i, day in enumerate(("2021-10-23", "2021-11-06", "2021-11-20"), 1):
        h.procedure(f"e{i}", day, TF).outcome(f"e{i}", day, 80)
    d = decide(h, "2021-12-20", TF)
    assert policy_json(d)["version"] == "2021"
    assert reason(d, "nia.esi.therapeutic_sustained_relief").next_date == date(2022, 1, 1)
    assert d.next_eligible_date == date(2022, 1, 20)


@pytest.mark.parametrize(
    "on, version, expected",
    [
        pytest.param(
            "2023-04-30", "2022", "pass", id="3rd SIJ on 2023-04-30 needs relief sustained 6 weeks"
        ),
        pytest.param(
            "2023-05-01", "2024", "fail", id="3rd SIJ on 2023-05-01 needs relief sustained 2 months"
        ),
    ],
)
def test_sij_version_boundary(on: str, version: str, expected: str) -> None:
    # 2nd SIJ 2023-03-15: 6 weeks -> 2023-04-26, 2 months -> 2023-05-15.
    h = History().procedure("s1", "2023-03-01", SIJ).outcome("s1", "2023-03-02", 80)
    h.procedure("s2", "2023-03-15", SIJ).outcome("s2", "2023-04-26", 80)
    d = decide(h, on, SIJ)
    assert policy_json(d)["version"] == version
    assert status(d, "nia.sij.therapeutic_sustained_relief") == expected


@pytest.mark.parametrize(
    "second, on, paired",
    [
        pytest.param(
            "2022-04-01",
            "2022-04-30",
            False,
            id="before 2022-05-01 sides 3 weeks apart are not a facet pair (2 weeks)",
        ),
        pytest.param(
            "2022-04-10",
            "2022-05-01",
            True,
            id="from 2022-05-01 sides 3 weeks apart are a facet pair (1 month)",
        ),
    ],
)
def test_facet_pairing_window_version(second: str, on: str, paired: bool) -> None:
    first = date.fromordinal(date.fromisoformat(second).toordinal() - 21)
    h = History().procedure("f1", first, FACET, laterality="left", levels=LV, intent="diagnostic")
    h.outcome("f1", first, 80).procedure(
        "f2", second, FACET, laterality="right", levels=LV, intent="diagnostic"
    ).outcome("f2", second, 80)
    h.procedure(
        "f3", "2022-04-20" if not paired else "2022-04-25", FACET, levels=LV, intent="diagnostic"
    ).outcome("f3", "2022-04-26", 80)
    h.procedure("f4", "2022-04-27", FACET, levels=LV, intent="diagnostic").outcome(
        "f4", "2022-04-28", 80
    )
    d = decide(
        h,
        on,
        FACET,
        levels=LV,
        intent="diagnostic",
        clinical={"pain_score": 7, "active_conservative_therapy": True},
    )
    assert status(d, "nia.facet.annual_cap") == ("pass" if paired else "fail")


@pytest.mark.parametrize(
    "on, exempt",
    [
        pytest.param(
            "2022-04-14",
            False,
            id="before 2022-05-01 the rfa second side 3 weeks later is not exempt (2 weeks)",
        ),
        pytest.param(
            "2022-05-14",
            True,
            id="from 2022-05-01 the rfa second side 3 weeks later is exempt (1 month)",
        ),
    ],
)
def test_rfa_opposite_side_window_version(on: str, exempt: bool) -> None:
    first = date.fromordinal(date.fromisoformat(on).toordinal() - 21)
    h = History().procedure("f1", "2021-12-01", FACET, intent="diagnostic", levels=LV)
    h.outcome("f1", "2021-12-02", 90).procedure("r1", first, RFA, laterality="left", levels=LV)
    d = decide(h, on, RFA, laterality="right", levels=LV)
    assert status(d, "nia.rfa.opposite_side") == ("pass" if exempt else None)


def test_interval_and_cap_failing_together_wait_for_the_later_of_the_two() -> None:
    h = History()
    for i, day in enumerate(
        ("2025-01-06", "2025-03-03", "2025-05-05", "2025-07-07", "2025-12-29"), 1
    ):
        h.procedure(f"y{i}", day, ("64520",)).outcome(f"y{i}", day, 80)
    d = decide(h, "2026-01-02", ("64520",))
    assert reason(d, "nia.sympathetic.interval").next_date == date(2026, 1, 5)
    assert reason(d, "nia.sympathetic.chronic_cap").next_date == date(2026, 3, 3)
    assert d.next_eligible_date == date(2026, 3, 3)


def test_search_re_evaluates_and_meets_a_later_recorded_procedure() -> None:
    # Sympathetic chronic cap (4 in 12 months) alone fails; when it fits, a block recorded
    # later in another region is within 7 days.
    h = History()
    for i, day in enumerate(("2025-01-06", "2025-03-03", "2025-05-05", "2025-07-07"), 1):
        h.procedure(f"y{i}", day, ("64520",)).outcome(f"y{i}", day, 80)
    h.procedure("c1", "2026-01-05", ("64510",), region="cervical")
    d = decide(h, "2026-01-02", ("64520",))
    failing = {r.rule for r in d.reasons if r.status.value == "fail"}
    assert failing == {"nia.sympathetic.chronic_cap"}
    # The cap fits on 2026-01-06, but a cervical block on 2026-01-05 (recorded later) needs
    # 7 days: the search re-evaluates and lands on 2026-01-12.
    assert d.next_eligible_date == date(2026, 1, 12)


def test_a_failing_rule_that_is_not_a_time_rule_means_no_date() -> None:
    h = History().procedure("e1", "2025-01-06", TF, levels=LV).outcome("e1", "2025-01-07", 10)
    d = decide(h, "2025-01-10", TF, levels=LV)
    assert {r.rule for r in d.reasons if r.status.value == "fail"} == {
        "nia.esi.initial_interval",
        "nia.esi.initial_response",
    }
    assert d.decision == "not_eligible" and d.next_eligible_date is None


def test_every_reason_carries_rule_status_message_and_citation() -> None:
    h = History().procedure("e1", "2025-01-06", TF, levels=LV).outcome("e1", "2025-01-07", 10)
    for r in decision_json(decide(h, "2025-01-10", TF, levels=LV))["reasons"]:
        assert r["rule"] and r["status"] in ("pass", "fail", "missing") and r["message"]
        assert r["citation"] and r["source"] == "002_fc2de44da7ae47dd.txt"


def test_the_nia_documents_pass_the_check() -> None:
    library = load_library()
    assert [g.id for g in library.sets["nia"].guidelines][:2] == ["NIA_CG_300", "NIA_CG_301"]


ACME_SET = """
    id: acme-test
    title: Acme (test only)
    guidelines: [ACME_1.yaml]
"""
ACME_1 = """
    id: ACME_1
    title: Acme epidurals
    source:
      file: acme.txt
      publisher: Acme
      document_version: "1"
      section_naming: "Acme — <heading>"
    governs:
      families: [esi]
    versions:
      - id: "1"
        parameters: {gap: P30D}
      - id: "2"
        effective: 2025-06-01
        parameters: {gap: P45D}
    rules:
      - id: acme.esi.interval
        kind: min_interval
        description: At least 30 (45 from June 2025) days apart.
        params: {span: {ref: gap}}
        when: {has_previous: true}
        time_rule: true
        citation: {quote: Injections are at least 30 days apart., section: Acme — Limits}
      - id: acme.esi.cap
        kind: rolling_cap
        description: At most 2 in 12 months.
        params: {length: P12M, limit: 2}
        time_rule: true
        citation: {quote: Injections are at least 30 days apart., section: Acme — Limits}
"""


def test_a_fictitious_policy_set_is_added_as_data_only(tmp_path: Path) -> None:
    write_set(tmp_path, "acme-test", {"set.yaml": ACME_SET, "ACME_1.yaml": ACME_1})
    with serving(tmp_path):
        h = History().procedure("e1", "2025-05-01", TF).procedure("e2", "2025-06-02", TF)
        d = decide(h, "2025-06-20", TF, policy_set="acme-test")
        assert policy_json(d) == {
            "set": "acme-test",
            "guideline": "ACME_1",
            "version": "2",
            "source": "acme.txt",
            "title": "Acme epidurals",
        }
        # 45 days after 2025-06-02 is 2025-07-17; the cap of 2 fits on 2026-05-01.
        assert d.next_eligible_date == date(2026, 5, 1)
    with pytest.raises(PolicyLookupError):
        registry.get("acme-test")
