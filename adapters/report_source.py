"""The compliance report's reads from the population read model (SQL).

:class:`ReadModelReportSource` implements :class:`application.compliance.ReportSource` over a
:class:`ReadModel`: procedure and authorization rows by date of service, the patients with
a clinical event recorded after one of their authorization decisions (by notification
order), and patient states folded from the view's own copy of their events, fetched in
batches of patients (never one event-store read per patient).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from adapters.readmodel import CREATED_TOPIC, ReadModel
from application.judging import AuthorizationRef, ProcedureRef, Recording
from domain.events import EVENT_TYPES, PatientRegion, RecordedEvent
from projections.state import PatientState, fold

BATCH = 500
LATE_FACT_TOPICS = (
    PatientRegion.EventVoided.TOPIC,
    PatientRegion.SurgeryPerformed.TOPIC,
    PatientRegion.PathologyDiagnosed.TOPIC,
)
AUTHORIZATION_TOPICS = (
    PatientRegion.AuthorizationRequested.TOPIC,
    PatientRegion.AuthorizationDecided.TOPIC,
)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class ReadModelReportSource:
    """The report's view of the read model; ``mapper`` decodes the stored events."""

    def __init__(self, view: ReadModel, mapper: Mapper[UUID]) -> None:
        self.view = view
        self.mapper = mapper
        self.d = view.dialect
        self.protector = view.protector  # patient ids are stored concealed under a cipher

    def _date_param(self, day: date) -> Any:
        return day if self.d.day == "DATE" else day.isoformat()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.view.datastore.transaction(commit=False) as c:
            c.execute(sql, tuple(params))
            return list(c.fetchall())

    def procedure_refs(self, start: date, end: date) -> list[ProcedureRef]:
        p = self.d.param
        rows = self._rows(
            "SELECT patient_id, event_id, region, family, date_of_service, primary_cpt, "
            f"provider_id, authorization_id FROM {self.d.table('procedures')} "
            f"WHERE date_of_service >= {p} AND date_of_service <= {p}",
            (self._date_param(start), self._date_param(end)),
        )
        return [
            ProcedureRef(
                patient_id=self.protector.reveal(r["patient_id"]),
                event_id=r["event_id"],
                region=r["region"],
                family=r["family"],
                date_of_service=_day(r["date_of_service"]),
                primary_cpt=r["primary_cpt"],
                provider_id=r["provider_id"],
                authorization_id=r["authorization_id"],
            )
            for r in rows
        ]

    def authorization_refs(self, start: date, end: date) -> list[AuthorizationRef]:
        p = self.d.param
        rows = self._rows(
            "SELECT patient_id, authorization_id, region, family, date_of_service, policy_set, "
            f"decision, recorded_at FROM {self.d.table('authorizations')} "
            f"WHERE date_of_service >= {p} AND date_of_service <= {p}",
            (self._date_param(start), self._date_param(end)),
        )
        return [
            AuthorizationRef(
                patient_id=self.protector.reveal(r["patient_id"]),
                authorization_id=r["authorization_id"],
                region=r["region"],
                family=r["family"],
                date_of_service=_day(r["date_of_service"]),
                policy_set=r["policy_set"],
                decision=r["decision"],
                recorded_at=_instant(r["recorded_at"]),
            )
            for r in rows
        ]

    def patients_changed_after_decisions(self) -> set[str]:
        """Patients with a void, surgery or diagnosis recorded after one of their decisions
        (in notification order)."""
        p = self.d.param
        rows = self._rows(
            "SELECT patient_id FROM "
            f"{self.d.table('events')} GROUP BY patient_id HAVING "
            f"MAX(CASE WHEN topic IN ({p}, {p}, {p}) THEN notification_id END) > "
            f"MIN(CASE WHEN topic = {p} THEN notification_id END)",
            (*LATE_FACT_TOPICS, AUTHORIZATION_TOPICS[1]),
        )
        return {self.protector.reveal(r["patient_id"]) for r in rows}

    def clinical_recordings(self, patient_ids: Sequence[str]) -> list[Recording]:
        """When each procedure and outcome of these patients was recorded, with its date."""
        out: list[Recording] = []
        p = self.d.param
        for i in range(0, len(patient_ids), BATCH):
            chunk = list(patient_ids[i : i + BATCH])
            stored_ids = {self.protector.conceal(pid): pid for pid in chunk}
            rows = self._rows(
                "SELECT patient_id, event_id, region, family, date_of_service, recorded_at, "
                f"outcomes FROM {self.d.table('procedures')} WHERE patient_id IN "
                f"({', '.join([p] * len(chunk))})",
                tuple(stored_ids),
            )
            for r in rows:
                dos = _day(r["date_of_service"])
                pid = stored_ids[r["patient_id"]]
                out.append(
                    Recording(pid, r["region"], r["family"], dos, _instant(r["recorded_at"]))
                )
                outcomes = r["outcomes"]
                if isinstance(outcomes, (str, bytes)):
                    outcomes = json.loads(outcomes)
                for o in outcomes or []:
                    stamp = o.get("recorded_at")
                    out.append(
                        Recording(
                            pid,
                            r["region"],
                            r["family"],
                            date.fromisoformat(o["assessed_on"]),
                            _instant(stamp) if stamp else None,
                            outcome=True,
                        )
                    )
        return out

    def _all_patients(self) -> list[str]:
        rows = self._rows(
            f"SELECT DISTINCT patient_id FROM {self.d.table('events')} ORDER BY patient_id"
        )
        return sorted(self.protector.reveal(r["patient_id"]) for r in rows)

    def patient_events(
        self, patient_ids: Sequence[str], *, decisions: bool = True
    ) -> dict[str, list[RecordedEvent]]:
        """The recorded events of these patients as the view holds them, in log order;
        without ``decisions`` the authorization decisions (the largest events: the whole
        answer is stored) are left out."""
        out: dict[str, list[RecordedEvent]] = {pid: [] for pid in patient_ids}
        p = self.d.param
        skip = (CREATED_TOPIC,) if decisions else (CREATED_TOPIC, AUTHORIZATION_TOPICS[1])
        for i in range(0, len(patient_ids), BATCH):
            chunk = list(patient_ids[i : i + BATCH])
            stored_ids = {self.protector.conceal(pid): pid for pid in chunk}
            rows = self._rows(
                "SELECT patient_id, region, originator_id, originator_version, topic, state "
                f"FROM {self.d.table('events')} WHERE topic NOT IN "
                f"({', '.join([p] * len(skip))}) AND patient_id IN "
                f"({', '.join([p] * len(chunk))}) ORDER BY notification_id",
                (*skip, *stored_ids),
            )
            for row in rows:
                event = self.mapper.to_domain_event(
                    StoredEvent(
                        originator_id=UUID(str(row["originator_id"])),
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
                if type(event) in EVENT_TYPES:
                    patient_id = stored_ids[row["patient_id"]]
                    out[patient_id].append(RecordedEvent(patient_id, row["region"], event))
        return out

    def patient_states(
        self, patient_ids: Iterable[str] | None, as_of: datetime | None
    ) -> Iterator[PatientState]:
        """Folded from the view's events; the decisions of authorizations come from the
        authorization rows (a decision is recorded with its request, so a request known at
        ``as_of`` has its decision known too) instead of decoding the stored answers."""
        wanted = list(patient_ids) if patient_ids is not None else self._all_patients()
        for i in range(0, len(wanted), BATCH):
            chunk = wanted[i : i + BATCH]
            events = self.patient_events(chunk, decisions=False)
            decided = self._decisions(chunk)
            for pid, recorded in events.items():
                state = fold(recorded, as_of, pid)
                if state.authorizations:
                    state = replace(
                        state,
                        authorizations=tuple(
                            replace(
                                a,
                                decision=decided.get((pid, a.authorization_id), (None, None))[0],
                                next_eligible_date=decided.get(
                                    (pid, a.authorization_id), (None, None)
                                )[1],
                            )
                            for a in state.authorizations
                        ),
                    )
                yield state

    def _decisions(self, patient_ids: Sequence[str]) -> dict[tuple[str, str], tuple[Any, Any]]:
        p = self.d.param
        stored_ids = {self.protector.conceal(pid): pid for pid in patient_ids}
        rows = self._rows(
            "SELECT patient_id, authorization_id, decision, next_eligible_date FROM "
            f"{self.d.table('authorizations')} WHERE patient_id IN "
            f"({', '.join([p] * len(patient_ids))})",
            tuple(stored_ids),
        )
        return {
            (stored_ids[r["patient_id"]], r["authorization_id"]): (
                r["decision"],
                _day(r["next_eligible_date"]) if r["next_eligible_date"] else None,
            )
            for r in rows
        }
