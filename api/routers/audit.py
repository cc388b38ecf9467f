"""``GET /v1/patients/{patient_id}/audit``: the patient's timeline and every authorization
decision replayed from what was known when it was made (see :mod:`application.audit`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from api.schemas.common import IsoAwareDateTime, PatientId, as_of_query
from api.schemas.eligibility import decision_json
from api.schemas.reports import AuditOut
from api.security import allow
from application.access import Role
from application.audit import audit_patient

router = APIRouter(prefix="/v1", tags=["audit"], dependencies=[allow(Role.AUDITOR)])


@router.get("/patients/{patient_id}/audit", response_model=AuditOut)
def get_audit(
    request: Request,
    patient_id: Annotated[PatientId, Path()],
    as_of: Annotated[IsoAwareDateTime | None, as_of_query()] = None,
) -> dict[str, Any]:
    """``timeline`` (clinical-date order, recorded instants, voids, late arrivals) and
    ``authorizations`` (each with ``authorization_id``, ``recorded_at``, ``stored``,
    ``replayed``, ``matches``, ``differences``, ``now``); ``summary.mismatches`` counts the
    decisions that do not replay, each flagged under ``flag``."""
    return audit_patient(request.app.state.ledger, patient_id, decision_json, as_of)
