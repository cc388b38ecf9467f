"""A patient's recorded events built in memory, without a store, for folding.

``History()`` records events one after another, each a second after the previous one (or at
``at=``), on the right patient-region stream::

    h = History()
    h.procedure("p1", "2025-01-31").outcome("o1", of="p1", on="2025-02-14", relief=60)
    state = h.fold()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.events import BilledCode, PatientRegion, RecordedEvent, patient_region_id
from projections.state import PatientState, fold

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
CODES = {
    ("lumbar", "esi"): "64483",
    ("lumbar", "facet"): "64493",
    ("lumbar", "rfa"): "64635",
    ("cervical", "esi"): "64479",
    ("cervical", "facet"): "64490",
    ("cervical", "rfa"): "64633",
    ("lumbar", "sij"): "27096",
}


def day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class History:
    patient_id: str = "p-1"
    events: list[RecordedEvent] = field(default_factory=list)
    now: datetime = T0
    regions: dict[str, str] = field(default_factory=dict)  # event id -> region
    versions: dict[str, int] = field(default_factory=dict)  # region -> last version

    def _record(self, region: str, cls: type[Any], at: datetime | None, **fields: Any) -> History:
        self.now = at if at is not None else self.now + timedelta(seconds=1)
        version = self.versions.get(region, 1) + 1
        self.versions[region] = version
        event = cls(
            originator_id=patient_region_id(self.patient_id, region),
            originator_version=version,
            timestamp=self.now,
            fingerprint="-",
            **fields,
        )
        self.regions[fields["event_id"]] = region
        self.events.append(RecordedEvent(self.patient_id, region, event))
        return self

    def procedure(
        self,
        event_id: str,
        on: date | str,
        *,
        region: str = "lumbar",
        family: str = "esi",
        laterality: str | None = None,
        levels: tuple[str, ...] = (),
        at: datetime | None = None,
        authorization_id: str | None = None,
    ) -> History:
        return self._record(
            region,
            PatientRegion.ProcedurePerformed,
            at,
            event_id=event_id,
            date_of_service=day(on),
            codes=[BilledCode(CODES.get((region, family), "64483"))],
            family=family,
            intent="therapeutic",
            laterality=laterality,
            levels=list(levels),
            agent=None,
            indication=None,
            approach=None,
            device_type=None,
            authorization_id=authorization_id,
        )

    def outcome(
        self,
        event_id: str,
        *,
        of: str,
        on: date | str,
        relief: float = 0,
        functional: bool = False,
        at: datetime | None = None,
    ) -> History:
        return self._record(
            self.regions[of],
            PatientRegion.OutcomeReported,
            at,
            event_id=event_id,
            procedure_event_id=of,
            assessed_on=day(on),
            pain_relief_percent=float(relief),
            functional_improvement=functional,
        )

    def surgery(
        self, event_id: str, on: date | str, *, region: str = "lumbar", at: datetime | None = None
    ) -> History:
        return self._record(
            region,
            PatientRegion.SurgeryPerformed,
            at,
            event_id=event_id,
            date=day(on),
            levels=[],
            kind=None,
        )

    def pathology(
        self, event_id: str, on: date | str, *, region: str = "lumbar", at: datetime | None = None
    ) -> History:
        return self._record(
            region,
            PatientRegion.PathologyDiagnosed,
            at,
            event_id=event_id,
            date=day(on),
            icd10=None,
        )

    def void(self, event_id: str, *, of: str, at: datetime | None = None) -> History:
        return self._record(
            self.regions[of],
            PatientRegion.EventVoided,
            at,
            event_id=event_id,
            voided_event_id=of,
            reason="entered in error",
        )

    def authorization(
        self,
        authorization_id: str,
        on: date | str,
        *,
        region: str = "lumbar",
        family: str = "esi",
        decision: str | None = "approved",
        at: datetime | None = None,
    ) -> History:
        self._record(
            region,
            PatientRegion.AuthorizationRequested,
            at,
            event_id=f"authorization:{authorization_id}",
            authorization_id=authorization_id,
            policy_set="nia",
            date_of_service=day(on),
            codes=[],
            family=family,
            request={},
        )
        if decision is not None:
            self._record(
                region,
                PatientRegion.AuthorizationDecided,
                self.now,
                event_id=f"authorization:{authorization_id}/decision",
                authorization_id=authorization_id,
                decision=decision,
                policy={"name": "nia", "version": "2025"},
                reasons=[],
                next_eligible_date=None,
                response={},
            )
        return self

    def fold(self, as_of: datetime | None = None) -> PatientState:
        return fold(self.events, as_of=as_of, patient_id=self.patient_id)
