"""GET /v1/policies lists all five sets with guidelines, versions, rule ids and citations;
each citation quotes the source sentence and names the file."""

from __future__ import annotations

from tests.policy_sets.conftest import Desk

SOURCES = {
    "nia": {"002_fc2de44da7ae47dd.txt"},
    "nia-wa": {"002_fc2de44da7ae47dd.txt"},
    "cohere": {"003_7b9ff1361290faac.txt", "000_1677e384dbe4ebfe.txt"},
    "cohere-ma": {"004_360f9122cf201a7f.txt"},
    "bcbs-ma": {"001_d49e9b8430e4a577.txt"},
}
ISSUE_5_RULES = {
    "nia": {
        "nia.scs.trial_criteria",
        "nia.scs.implant_after_trial",
        "nia.scs.revision_reasons",
        "nia.intrathecal_trial.opioid_tolerance",
        "nia.pump.implant_after_trial",
        "nia.pump.replacement_reasons",
    },
    "nia-wa": {
        "wa.esi.six_month_cap",
        "wa.esi.no_improvement_limit",
        "wa.sij.improvement_required",
        "wa.facet.intra_articular_not_covered",
        "wa.facet.therapeutic_mbb_not_covered",
        "wa.rfa.thoracic_not_covered",
        "wa.rfa.cervical_levels",
        "wa.rfa.lumbar_levels",
        "wa.rfa.diagnostic_blocks",
        "wa.rfa.repeat_sustained",
        "nia.esi.initial_interval",
        "nia.scs.trial_criteria",
    },
    "cohere": {
        "cohere.esi.six_month_cap",
        "cohere.esi.interval",
        "cohere.esi.second_response",
        "cohere.esi.third_sustained",
        "cohere.facet.second_response",
        "cohere.facet.repeat_sustained",
        "cohere.facet.fusion_exclusion",
        "cohere.rfa.diagnostic_blocks",
        "cohere.rfa.repeat_interval",
        "cohere.rfa.repeat_response",
        "cohere.cyst.repeat_interval",
        "cohere.cyst.repeat_sustained",
        "cohere.tissue.investigational",
    },
    "cohere-ma": {
        "cohere_ma.pump.implant_after_trial",
        "cohere_ma.pump.cancer_pain_relief",
        "cohere_ma.pump.replacement_reasons",
        "cohere_ma.pump.newer_technology",
        "cohere_ma.intrathecal_trial.criteria",
    },
    "bcbs-ma": {"bcbs.stem_cell.investigational"},
}


def test_every_policy_set_is_listed_with_its_guidelines_versions_and_cited_rules(
    desk: Desk,
) -> None:
    response = desk.client.get("/v1/policies")
    assert response.status_code == 200
    sets = {s["name"]: s for s in response.json()["sets"]}
    assert set(ISSUE_5_RULES) <= set(sets)
    for name, wanted in ISSUE_5_RULES.items():
        guidelines = sets[name]["guidelines"]
        assert guidelines, name
        rules = {r["id"]: r for g in guidelines for r in g["rules"]}
        assert wanted <= set(rules), (name, wanted - set(rules))
        assert {g["source"] for g in guidelines} == SOURCES[name]
        for g in guidelines:
            assert g["versions"] and all(v["id"] for v in g["versions"]), g["id"]
            for rule in g["rules"]:
                citation = rule["citation"]
                assert citation and citation["quote"].strip(), (name, rule["id"])
                assert citation["source"] in SOURCES[name], (name, rule["id"])
                assert citation["section"], (name, rule["id"])


def test_nia_wa_holds_every_nia_guideline_and_the_washington_limits(desk: Desk) -> None:
    sets = {s["name"]: s for s in desk.client.get("/v1/policies").json()["sets"]}
    nia = [g["id"] for g in sets["nia"]["guidelines"]]
    nia_wa = [g["id"] for g in sets["nia-wa"]["guidelines"]]
    assert nia_wa[: len(nia)] == nia
    assert {"NIA_CG_405", "NIA_CG_310", "NIA_CG_408"} <= set(nia)
    washington = [g for g in sets["nia-wa"]["guidelines"] if g["id"] not in nia]
    assert washington and all("Washington" in g["title"] for g in washington)


def test_an_unknown_policy_set_is_a_422_naming_it(desk: Desk) -> None:
    answer = desk.ask("aetna", "2026-01-05", ["64483"])
    assert answer.status_code == 422, answer
    assert "aetna" in str(answer.body)
