"""The FHIR R4 mapping primitives: codes, dates, region, laterality, levels, patient identity.

Elements are built from R4 JSON through the ``fhir.resources`` R4B models, as the importer and
the CDS Hooks service receive them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.reference import Reference

from api.settings import Settings
from domain.catalog import Region
from domain.vocabulary import Laterality
from interop.fhir.codes import CPT_SYSTEM, LEVEL_SYSTEM, SNOMED_SYSTEM
from interop.fhir.mapping import (
    MappingError,
    PatientIdentityRule,
    billed_codes,
    clinical_date,
    laterality_from_body_sites,
    laterality_from_body_structure,
    laterality_from_modifiers,
    levels_from_body_sites,
    region_from_body_sites,
    region_of,
    target_body_structure,
)

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def concept(*codings: tuple[str, str], text: str | None = None) -> CodeableConcept:
    body: dict[str, Any] = {"coding": [{"system": s, "code": c} for s, c in codings]}
    if text is not None:
        body["text"] = text
    return CodeableConcept.model_validate(body)


def snomed(*codes: str) -> CodeableConcept:
    return concept(*((SNOMED_SYSTEM, code) for code in codes))


# ------------------------------------------------------------------------------ codes


def test_a_cpt_coding_is_billed_and_a_snomed_coding_beside_it_is_ignored() -> None:
    code = concept((SNOMED_SYSTEM, "231252007"), (CPT_SYSTEM, "64483"))
    assert billed_codes([code]) == ["64483"]


def test_a_catalog_code_under_a_hcpcs_system_is_accepted() -> None:
    assert billed_codes([concept((HCPCS, "62323"))]) == ["62323"]
    assert billed_codes([concept((HCPCS.replace("https", "http"), "62323"))]) == ["62323"]


def test_a_cpt_code_outside_the_catalog_is_an_unknown_code() -> None:
    with pytest.raises(MappingError, match=r"unknown code: 99213"):
        billed_codes([concept((CPT_SYSTEM, "99213"))])


def test_a_concept_without_any_billing_coding_is_an_unknown_code() -> None:
    with pytest.raises(MappingError, match="no CPT or HCPCS coding"):
        billed_codes([snomed("231252007")])


def test_codes_from_several_concepts_keep_their_order_once_each() -> None:
    assert billed_codes([concept((CPT_SYSTEM, "64493")), concept((CPT_SYSTEM, "64494")), None]) == [
        "64493",
        "64494",
    ]


# ------------------------------------------------------------------------------ dates


def test_a_datetime_keeps_the_date_the_source_wrote_not_the_utc_date() -> None:
    proc = Procedure.model_validate(
        {
            "resourceType": "Procedure",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "performedDateTime": "2024-01-02T23:30:00-05:00",
        }
    )
    assert clinical_date(proc.performedDateTime) == date(2024, 1, 2)


def test_a_date_precise_to_the_month_is_no_date() -> None:
    with pytest.raises(MappingError, match="no date"):
        clinical_date("2024-01")
    assert clinical_date(None) is None
    assert clinical_date("2024-03-05") == date(2024, 3, 5)


# ------------------------------------------------------------------------------ region


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("122494005", Region.CERVICAL),
        ("122495006", Region.THORACIC),
        ("122496007", Region.LUMBAR),
        ("1217253001", Region.LUMBAR),  # lumbosacral spine
        ("54735007", Region.LUMBAR),  # sacrum
        ("39723000", Region.LUMBAR),  # sacroiliac joint
    ],
)
def test_snomed_spinal_sites_map_to_their_region(code: str, region: Region) -> None:
    assert region_from_body_sites([snomed(code)]) is region


def test_a_post_coordinated_site_maps_by_its_focus_concept() -> None:
    site = snomed("122496007 |Lumbar spine|:272741003 |Laterality|=7771000 |Left|")
    assert region_from_body_sites([site]) is Region.LUMBAR
    assert laterality_from_body_sites([site]) is Laterality.LEFT


def test_sites_naming_two_regions_conflict() -> None:
    with pytest.raises(MappingError, match="conflicting body site regions"):
        region_from_body_sites([snomed("122494005"), snomed("122496007")])


def test_a_non_spinal_site_names_no_region() -> None:
    assert region_from_body_sites([snomed("72696002")]) is None  # knee


def test_without_a_body_site_a_lumbar_code_decides_the_region() -> None:
    assert region_of(codes=["64483"]) is Region.LUMBAR


def test_without_a_body_site_levels_decide_before_the_code() -> None:
    assert region_of(levels=["C5-C6"], codes=["64490"]) is Region.CERVICAL
    assert region_of(levels=["L5-S1"], codes=["64510"]) is Region.LUMBAR


def test_a_cervical_or_thoracic_code_without_site_or_levels_has_no_region() -> None:
    with pytest.raises(MappingError, match="no region"):
        region_of(codes=["64490"])


def test_the_body_site_wins_over_the_code() -> None:
    assert region_of(body_sites=[snomed("122495006")], codes=["64490"]) is Region.THORACIC


# ------------------------------------------------------------------------------ laterality


@pytest.mark.parametrize(
    ("code", "side"),
    [("7771000", Laterality.LEFT), ("24028007", Laterality.RIGHT), ("51440002", "bilateral")],
)
def test_a_laterality_qualifier_beside_the_site_is_the_side(code: str, side: str) -> None:
    assert laterality_from_body_sites([snomed("122496007", code)]) == side
    assert laterality_from_body_sites([snomed("122496007"), snomed(code)]) == side


def test_left_and_right_qualifiers_together_are_bilateral() -> None:
    assert laterality_from_body_sites([snomed("7771000"), snomed("24028007")]) == "bilateral"


def test_no_qualifier_is_no_laterality() -> None:
    assert laterality_from_body_sites([snomed("122496007")]) is None


@pytest.mark.parametrize(
    ("codes", "side"),
    [(["LT"], "left"), (["RT"], "right"), (["50"], "bilateral"), (["LT", "RT"], "bilateral")],
)
def test_claim_modifiers_give_the_side(codes: list[str], side: str) -> None:
    modifiers = [concept((HCPCS if c != "50" else CPT_SYSTEM, c)) for c in codes]
    assert laterality_from_modifiers(modifiers) == side


def test_other_modifiers_say_nothing_about_the_side() -> None:
    assert laterality_from_modifiers([concept((CPT_SYSTEM, "59"))]) is None


def _procedure_with_structure(reference: str, contained: bool) -> Procedure:
    body: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure",
                "valueReference": {"reference": reference},
            }
        ],
    }
    if contained:
        body["contained"] = [
            {
                "resourceType": "BodyStructure",
                "id": "bs1",
                "patient": {"reference": "Patient/p1"},
                "location": {"coding": [{"system": SNOMED_SYSTEM, "code": "122494005"}]},
                "locationQualifier": [{"coding": [{"system": SNOMED_SYSTEM, "code": "24028007"}]}],
            }
        ]
    return Procedure.model_validate(body)


def test_the_target_body_structure_extension_gives_region_and_side() -> None:
    proc = _procedure_with_structure("#bs1", contained=True)
    structure = target_body_structure(proc)
    assert structure is not None
    assert laterality_from_body_structure(structure) is Laterality.RIGHT
    assert region_of(structure=structure, codes=["64490"]) is Region.CERVICAL


def test_a_body_structure_elsewhere_in_the_bundle_is_resolved() -> None:
    contained = _procedure_with_structure("#bs1", contained=True).contained
    assert contained is not None
    proc = _procedure_with_structure("BodyStructure/bs1", contained=False)
    assert target_body_structure(proc) is None
    found = target_body_structure(proc, {"BodyStructure/bs1": contained[0]}.get)
    assert found is contained[0]


# ------------------------------------------------------------------------------ levels


def test_levels_are_read_from_our_level_system_and_from_site_text() -> None:
    sites = [
        concept((LEVEL_SYSTEM, "L4-L5")),
        concept((SNOMED_SYSTEM, "122496007"), text="l5 - s1"),
        concept((LEVEL_SYSTEM, "L4-L5")),
    ]
    assert levels_from_body_sites(sites) == ["L4-L5", "L5-S1"]


def test_site_text_that_is_not_a_level_is_ignored() -> None:
    assert levels_from_body_sites([concept(text="lower back")]) == []


# ------------------------------------------------------------------------------ patient identity


def ref(body: dict[str, Any]) -> Reference:
    return Reference.model_validate(body)


MEMBER = "https://payer.example/fhir/member-id"


def test_without_a_member_system_the_patient_is_the_references_logical_id() -> None:
    rule = PatientIdentityRule()
    assert rule.patient_id(ref({"reference": "Patient/p-17"})) == "p-17"
    assert rule.patient_id(ref({"reference": "https://ehr.example/fhir/Patient/p-17"})) == "p-17"
    assert rule.patient_id(ref({"reference": "Patient/p-17/_history/3"})) == "p-17"


def test_a_bundle_local_reference_resolves_to_the_patient_resources_id() -> None:
    patient = Patient.model_validate({"resourceType": "Patient", "id": "p-9"})
    rule = PatientIdentityRule()
    assert rule.patient_id(ref({"reference": "urn:uuid:1234"}), {"urn:uuid:1234": patient}) == "p-9"


def test_with_a_member_system_the_member_identifier_on_the_reference_wins() -> None:
    rule = PatientIdentityRule(MEMBER)
    reference = ref(
        {"reference": "Patient/ehr-1", "identifier": {"system": MEMBER, "value": "M0001"}}
    )
    assert rule.patient_id(reference) == "M0001"


def test_with_a_member_system_the_referenced_patients_identifier_is_used() -> None:
    patient = Patient.model_validate(
        {
            "resourceType": "Patient",
            "id": "ehr-1",
            "identifier": [
                {"system": "http://hospital.example/mrn", "value": "MRN5"},
                {"system": MEMBER, "value": "M0002"},
            ],
        }
    )
    rule = PatientIdentityRule(MEMBER)
    assert rule.patient_id(ref({"reference": "Patient/ehr-1"}), {"Patient/ehr-1": patient}) == (
        "M0002"
    )


def test_with_a_member_system_a_patient_without_that_identifier_is_refused() -> None:
    with pytest.raises(MappingError, match="no patient: Patient/ehr-1 carries no identifier"):
        PatientIdentityRule(MEMBER).patient_id(ref({"reference": "Patient/ehr-1"}))


def test_no_reference_or_a_non_patient_reference_is_no_patient() -> None:
    rule = PatientIdentityRule()
    with pytest.raises(MappingError, match="no patient"):
        rule.patient_id(None)
    with pytest.raises(MappingError, match="not a Patient reference"):
        rule.patient_id(ref({"reference": "Group/g1"}))


def test_an_id_outside_our_patient_id_alphabet_is_refused() -> None:
    with pytest.raises(MappingError, match="not a valid patient_id"):
        PatientIdentityRule(MEMBER).patient_id(
            ref({"identifier": {"system": MEMBER, "value": "M 01/2"}})
        )


def test_the_member_system_is_configured_in_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INJTRACK_FHIR_MEMBER_IDENTIFIER_SYSTEM", MEMBER)
    assert Settings().fhir_member_identifier_system == MEMBER
