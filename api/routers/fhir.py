"""``POST /v1/fhir/Bundle``: import one FHIR R4 Bundle (collection, transaction, batch or
searchset) through the same mapping and use cases as ``injtrack import --fhir``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel

from api.deps import SettingsDep, TrackerDep
from api.lines import parse_line
from api.schemas.eligibility import decision_json
from application.fhir_import import import_fhir
from domain.errors import FieldError, InvalidInput
from interop.fhir.mapping import PatientIdentityRule
from interop.fhir.resources import SourceError, read_bundle

router = APIRouter(prefix="/v1/fhir", tags=["fhir"])


class ImportedOut(BaseModel):
    source: str
    resource: str
    type: str
    event_id: str
    patient_id: str
    status: str


class NotImportedOut(BaseModel):
    source: str
    resource: str
    reason: str


class FhirImportSummaryOut(BaseModel):
    entries: int
    recorded: int
    duplicate: int
    not_imported: int
    resources_used: int


class FhirImportOut(BaseModel):
    summary: FhirImportSummaryOut
    imported: list[ImportedOut]
    not_imported: list[NotImportedOut]


@router.post("/Bundle", response_model=FhirImportOut)
def post_bundle(
    bundle: Annotated[dict[str, Any], Body(description="A FHIR R4 Bundle resource")],
    tracker: TrackerDep,
    settings: SettingsDep,
) -> FhirImportOut:
    """Map every entry (Procedure, Observation, ExplanationOfBenefit, Claim; Patient and
    BodyStructure resolve references) and record the events. Every entry not imported is
    listed with why; the good ones are imported. A re-post is idempotent (duplicates); a
    resource changed under the same version is listed as a conflict; a new version voids
    what the previous one imported. 422 when the body is not an importable Bundle."""
    try:
        entries = read_bundle(bundle, "Bundle")
    except SourceError as exc:
        raise InvalidInput([FieldError("body", str(exc))]) from None
    result = import_fhir(
        tracker,
        entries,
        identity=PatientIdentityRule(settings.fhir_member_identifier_system),
        parse=parse_line,
        present=decision_json,
    )
    return FhirImportOut(
        summary=FhirImportSummaryOut(
            entries=len(entries),
            recorded=result.summary.recorded,
            duplicate=result.summary.duplicate,
            not_imported=len(result.not_imported),
            resources_used=result.resources_used,
        ),
        imported=[ImportedOut(**item) for item in result.imported],
        not_imported=[NotImportedOut(**n.as_json()) for n in result.not_imported],
    )
