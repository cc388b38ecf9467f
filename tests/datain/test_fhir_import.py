"""FHIR R4 import: a Bundle and a Bulk Data export folder map to the expected history; every
entry not imported is listed with why; re-imports, new versions and entered-in-error."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from adapters.eventstore import InjectionLedger
from api.cli import main
from api.lines import parse_line
from api.schemas.eligibility import decision_json
from application.fhir_import import FhirImportResult, import_fhir
from application.usecases import Tracker
from interop.fhir.mapping import PatientIdentityRule
from interop.fhir.resources import read_bundle, read_path
from tests.datain.conftest import clinical_fields, stored_state
from tests.support import FakeClock, on_backends

FIXTURE = Path(__file__).parent / "fixtures" / "bundle.json"
MEMBER = "https://payer.example/fhir/member-id"
SQLITE = on_backends("sqlite")


def bundle() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def run(
    ledger: InjectionLedger,
    clock: FakeClock,
    body: dict[str, Any] | None = None,
    identity: PatientIdentityRule | None = None,
) -> FhirImportResult:
    return import_fhir(
        Tracker(ledger, clock),
        read_bundle(body or bundle(), "bundle.json"),
        identity=identity or PatientIdentityRule(),
        parse=parse_line,
        present=decision_json,
    )


def history(ledger: InjectionLedger, patient: str) -> dict[str, dict[str, Any]]:
    out = {}
    for recorded in ledger.patient_events(patient):
        fields = clinical_fields(recorded.event)
        out[fields.pop("event_id")] = fields | {"region": recorded.region}
    return out


def reasons(result: FhirImportResult) -> dict[str, str]:
    return {n.resource: n.reason for n in result.not_imported}


def test_the_fixtures_are_valid_r4_for_the_model_library() -> None:
    body = bundle()
    Bundle.model_validate(body)
    for entry in body["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@SQLITE
def test_a_bundle_imports_to_the_expected_history(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    result = run(ledger, clock)
    events = history(ledger, "pt-1")
    # dateTime with an offset keeps its own date; SNOMED site and left qualifier; level text
    tfesi = events["Procedure/proc-1/1"]
    assert (tfesi["date_of_service"].isoformat(), tfesi["region"], tfesi["laterality"]) == (
        "2025-01-06",
        "lumbar",
        "left",
    )
    assert [c.cpt for c in tfesi["codes"]] == ["64483"] and tfesi["levels"] == ["L4-L5"]
    assert tfesi["provider_id"] == "1234567893" and tfesi["family"] == "esi"
    # performedPeriod, codes in several codings, no body site: the lumbar code decides
    facet = events["Procedure/proc-2/2"]
    assert (facet["date_of_service"].isoformat(), facet["region"], facet["family"]) == (
        "2025-01-20",
        "lumbar",
        "facet",
    )
    # region and side from the contained target BodyStructure
    cervical = events["Procedure/proc-3/1"]
    assert (cervical["region"], cervical["laterality"]) == ("cervical", "right")
    relief = events["Observation/obs-1/1"]
    assert relief["procedure_event_id"] == "Procedure/proc-1/1"
    assert (relief["pain_relief_percent"], relief["functional_improvement"]) == (70.0, True)
    # pain 8 before, 2 after: (8 - 2) / 8 = 75 %
    scores = events["Observation/pain-post/1"]
    assert (scores["pain_relief_percent"], scores["assessed_on"].isoformat()) == (
        75.0,
        "2025-02-17",
    )
    assert scores["procedure_event_id"] == "Procedure/proc-3/1"
    claim = history(ledger, "pt-2")["ExplanationOfBenefit/eob-1/1/2025-02-10"]
    assert ([(c.cpt, c.units) for c in claim["codes"]], claim["laterality"], claim["family"]) == (
        [("27096", 1)],
        "right",
        "sij",
    )
    assert claim["provider_id"] == "1999999984"
    assert result.summary.recorded == 6 and len(result.imported) == 6


@SQLITE
def test_every_entry_not_imported_is_listed_with_why(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    why = reasons(run(ledger, clock))
    assert why == {
        "MedicationRequest/mr-1": "unsupported resource type MedicationRequest",
        "Procedure/proc-planned": "unsupported status in-progress (only completed procedures)",
        "Procedure/proc-visit": "unknown code: 99213 not in the procedure catalog",
        "Procedure/proc-undated": "no date: neither performedDateTime nor performedPeriod.start",
        "Procedure/proc-group": "no patient: Group/g1 is not a Patient reference",
        "Observation/obs-orphan": "no procedure: Procedure/nowhere was not imported",
        "Claim/claim-1": "answered by ExplanationOfBenefit/eob-1, which is imported instead",
    }


@SQLITE
def test_a_bulk_export_folder_imports_to_the_same_history_as_the_bundle(
    tmp_path: Path, ledger: InjectionLedger, clock: FakeClock, make_ledger: Any, make_settings: Any
) -> None:
    run(ledger, clock)
    folder = tmp_path / "export"
    folder.mkdir()
    by_type: dict[str, list[str]] = {}
    for entry in bundle()["entry"]:
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    for kind, lines in by_type.items():
        (folder / f"{kind}.ndjson").write_text("\n".join(lines) + "\n")
    other = make_ledger(make_settings(db=tmp_path / "bulk.sqlite"))
    result = import_fhir(
        Tracker(other, clock),
        read_path(folder),
        identity=PatientIdentityRule(),
        parse=parse_line,
        present=decision_json,
    )
    assert result.summary.recorded == 6
    assert stored_state(other, ["pt-1", "pt-2"]) == stored_state(ledger, ["pt-1", "pt-2"])
    assert {n.source for n in result.not_imported} >= {"MedicationRequest.ndjson:1"}


@SQLITE
def test_reimporting_is_idempotent(ledger: InjectionLedger, clock: FakeClock) -> None:
    run(ledger, clock)
    again = run(ledger, clock)
    assert (again.summary.recorded, again.summary.duplicate) == (0, 6)
    assert {i["status"] for i in again.imported} == {"duplicate"}


@SQLITE
def test_a_changed_resource_is_a_conflict_unless_its_version_changed_then_void_and_new(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    run(ledger, clock)
    changed = bundle()
    proc = changed["entry"][1]["resource"]
    proc["performedDateTime"] = "2025-01-07"
    result = run(ledger, clock, changed)
    assert reasons(result)["Procedure/proc-1"].startswith("conflict: event_id: ")
    proc["meta"] = {"versionId": "2"}
    result = run(ledger, clock, changed)
    assert "Procedure/proc-1" not in reasons(result)
    events = history(ledger, "pt-1")
    assert events["void:Procedure/proc-1/1"]["voided_event_id"] == "Procedure/proc-1/1"
    assert events["Procedure/proc-1/2"]["date_of_service"].isoformat() == "2025-01-07"


@SQLITE
def test_entered_in_error_voids_what_was_imported_and_is_reported_otherwise(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    body = bundle()
    body["entry"][3]["resource"]["status"] = "entered-in-error"
    assert "nothing imported" in reasons(run(ledger, clock, body))["Procedure/proc-3"]
    run(ledger, clock)
    run(ledger, clock, body)
    events = history(ledger, "pt-1")
    assert events["void:Procedure/proc-3/1"]["voided_event_id"] == "Procedure/proc-3/1"


@SQLITE
def test_the_member_identifier_rule_maps_patients(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    result = run(ledger, clock, identity=PatientIdentityRule(MEMBER))
    assert "Procedure/proc-1/1" in history(ledger, "M-1")
    assert reasons(result)["ExplanationOfBenefit/eob-1"].startswith("no patient: Patient/pt-2")


@SQLITE
def test_post_fhir_bundle_imports_and_lists_what_it_did_not(client: TestClient) -> None:
    response = client.post(
        "/v1/fhir/Bundle",
        content=FIXTURE.read_bytes(),
        headers={"content-type": "application/fhir+json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] == {
        "entries": 15,
        "recorded": 6,
        "duplicate": 0,
        "not_imported": 7,
        "resources_used": 2,
    }
    assert {i["resource"] for i in body["not_imported"]} >= {"Procedure/proc-visit"}
    again = client.post("/v1/fhir/Bundle", json=bundle()).json()
    assert again["summary"]["duplicate"] == 6


@SQLITE
@pytest.mark.parametrize(
    "body",
    [{"resourceType": "Patient"}, {"resourceType": "Bundle", "type": "history"}, []],
)
def test_post_fhir_bundle_refuses_what_is_not_an_importable_bundle(
    client: TestClient, body: Any
) -> None:
    response = client.post("/v1/fhir/Bundle", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"


def test_the_cli_imports_a_bundle_and_writes_what_it_did_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "b.json"
    source.write_text(json.dumps(copy.deepcopy(bundle())))
    code = main(["import", "--fhir", str(source), "--db", str(tmp_path / "c.sqlite")])
    out = capsys.readouterr().out
    assert code == 1
    assert "6 events recorded" in out and "7 not imported" in out
    lines = Path(f"{source}.not-imported.jsonl").read_text().splitlines()
    assert len(lines) == 7
