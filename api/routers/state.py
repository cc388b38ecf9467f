"""``GET /v1/patients/{patient_id}/state``: the folded state per region and family.

Computed on demand from the patient's own streams (read-your-writes: an event accepted a
moment ago is seen), as known at ``as_of`` and for the date ``on``: procedures dated after
``on`` and outcomes assessed after it are left out.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.deps import TrackerDep
from api.presenters import patient_state
from api.schemas.common import (
    DATE_RANGE_TEXT,
    EARLIEST_DATE,
    LATEST_DATE,
    PatientIdPath,
    as_of_query,
)
from api.schemas.state import PatientStateOut

router = APIRouter(prefix="/v1", tags=["state"])


@router.get("/patients/{patient_id}/state", response_model=PatientStateOut)
def get_state(
    tracker: TrackerDep,
    patient_id: PatientIdPath,
    on: Annotated[
        date | None,
        Query(
            ge=EARLIEST_DATE,
            le=LATEST_DATE,
            description="The date to compute the state for (default: today, UTC), "
            + DATE_RANGE_TEXT,
        ),
    ] = None,
    as_of: Annotated[AwareDatetime | None, as_of_query()] = None,
) -> PatientStateOut:
    """Episodes, positions, 6- and 12-month counts ending on ``on`` and the last procedure's
    relief, per region and family."""
    return patient_state(tracker.state(patient_id, on=on, as_of=as_of))
