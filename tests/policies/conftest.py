"""Fixtures of the policy tests: patient histories built as domain events, folded in memory.

``History`` appends ``PatientRegion`` events to in-memory aggregates (no store): procedures
(family and approach derived by the catalog, as the ledger does), outcomes, surgeries,
pathologies and voids. ``decide(history, on, codes, ...)`` folds it and decides a proposed
procedure under a policy set, returning the engine's ``Decision``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.catalog import Region, classify
from domain.events import BilledCode, PatientRegion, RecordedEvent
from policies import registry
from policies.engine import Decision, Proposed, Reason
from policies.engine import decide as engine_decide
from projections.state import PatientState, fold

RECORDED = datetime(2020, 1, 1, tzinfo=UTC)
Code = str | tuple[str, int]


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def billed(codes: Sequence[Code]) -> tuple[tuple[str, int], ...]:
    return tuple((c, 1) if isinstance(c, str) else (c[0], c[1]) for c in codes)


class History:
    """A patient's recorded events, built fluently and folded on demand."""

    def __init__(self, patient_id: str = "p1") -> None:
        self.patient_id = patient_id
        self.streams: dict[str, PatientRegion] = {}
        self.events: list[RecordedEvent] = []
        self.region_of: dict[str, str] = {}
        self.tick = RECORDED

    def _record(self, region: str, cls: type, **fields: Any) -> History:
        self.tick += timedelta(seconds=1)
        stream = self.streams.get(region)
        if stream is None:
            stream = self.streams[region] = PatientRegion.open(
                self.patient_id, Region(region), self.tick
            )
        stream.record(cls, self.tick, fingerprint="x", **fields)
        for event in stream.collect_events():
            if not isinstance(event, PatientRegion.Created):
                self.events.append(RecordedEvent(self.patient_id, region, event))
        return self

    def procedure(
        self,
        event_id: str,
        on: date | str,
        codes: Sequence[Code] = ("64483",),
        *,
        region: str = "lumbar",
        intent: str = "therapeutic",
        laterality: str | None = None,
        levels: Sequence[str] = (),
        agent: str | None = None,
        indication: str | None = None,
        approach: str | None = None,
        device_type: str | None = None,
    ) -> History:
        kind = classify([c for c, _ in billed(codes)], Region(region), indication)
        self.region_of[event_id] = region
        return self._record(
            region,
            PatientRegion.ProcedurePerformed,
            event_id=event_id,
            date_of_service=as_date(on),
            codes=[BilledCode(c, u) for c, u in billed(codes)],
            family=kind.family.value,
            intent=intent,
            laterality=laterality,
            levels=list(levels),
            agent=agent,
            indication=indication,
            approach=approach or kind.approach,
            device_type=device_type,
            authorization_id=None,
        )

    def outcome(
        self,
        of: str,
        on: date | str,
        relief: float,
        functional: bool = False,
        event_id: str | None = None,
    ) -> History:
        return self._record(
            self.region_of[of],
            PatientRegion.OutcomeReported,
            event_id=event_id or f"o-{of}-{as_date(on)}",
            procedure_event_id=of,
            assessed_on=as_date(on),
            pain_relief_percent=float(relief),
            functional_improvement=functional,
        )

    def surgery(
        self,
        event_id: str,
        on: date | str,
        region: str = "lumbar",
        levels: Sequence[str] = (),
        kind: str | None = None,
    ) -> History:
        return self._record(
            region,
            PatientRegion.SurgeryPerformed,
            event_id=event_id,
            date=as_date(on),
            levels=list(levels),
            kind=kind,
        )

    def pathology(self, event_id: str, on: date | str, region: str = "lumbar") -> History:
        return self._record(
            region,
            PatientRegion.PathologyDiagnosed,
            event_id=event_id,
            date=as_date(on),
            icd10=None,
        )

    def void(self, of: str, event_id: str | None = None) -> History:
        return self._record(
            self.region_of[of],
            PatientRegion.EventVoided,
            event_id=event_id or f"void-{of}",
            voided_event_id=of,
            reason="entered in error",
        )

    def state(self) -> PatientState:
        return fold(self.events)


GOOD = {"pain_score": 7, "active_conservative_therapy": True, "initial_criteria_met": True}


def propose(
    on: date | str,
    codes: Sequence[Code] = ("64483",),
    *,
    region: str = "lumbar",
    intent: str = "therapeutic",
    laterality: str | None = None,
    levels: Sequence[str] = (),
    agent: str | None = None,
    indication: str | None = None,
    approach: str | None = None,
    device_type: str | None = None,
) -> Proposed:
    kind = classify([c for c, _ in billed(codes)], Region(region), indication)
    return Proposed(
        date_of_service=as_date(on),
        region=region,
        family=kind.family.value,
        codes=billed(codes),
        intent=intent,
        laterality=laterality,
        levels=tuple(levels),
        agent=agent,
        approach=approach or kind.approach,
        indication=indication,
        device_type=device_type,
    )


def decide(
    history: History,
    on: date | str,
    codes: Sequence[Code] = ("64483",),
    *,
    clinical: dict[str, Any] | None = None,
    policy_set: str = "nia",
    **proposed: Any,
) -> Decision:
    """Decide a proposed procedure for ``history`` (clinical defaults to all criteria met)."""
    facts = GOOD if clinical is None else clinical
    return engine_decide(
        registry.get(policy_set), history.state(), propose(on, codes, **proposed), facts
    )


def reason(decision: Decision, rule: str) -> Reason:
    found = [r for r in decision.reasons if r.rule == rule]
    assert found, f"{rule} not among {[r.rule for r in decision.reasons]}"
    return found[0]


def status(decision: Decision, rule: str) -> str | None:
    """The status of a rule in a decision, None when it was not checked."""
    found = [r for r in decision.reasons if r.rule == rule]
    return found[0].status.value if found else None


@pytest.fixture
def history() -> Iterator[History]:
    yield History()
