"""The audit of a long history answers exactly what the audit as first written answered:
the late arrivals found by comparing every clinical event with every one recorded before
it, and each authorization's "now" folded again from the whole history without its own two
events. Checked on generated histories recorded out of order (late arrivals), with voids,
an authorization asked ``as_of`` an earlier instant, audits ``as_of`` past instants, and a
policy set amended since (decisions that no longer replay)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest

import application.audit as audit_module
from adapters.eventstore import InjectionLedger
from api.lines import parse_line
from api.schemas.eligibility import decision_json
from application.audit import ASKED, CLINICAL, KnownNow, audit
from application.big_patient import big_patient
from application.usecases import Tracker
from domain.events import RecordedEvent
from policies import registry
from policies.engine import PolicySet
from projections.calendar import days
from projections.state import PatientState, fold
from tests.builders import DEFAULT_PATIENT, parse, procedure
from tests.support import FakeClock, amended_set, on_backends
from tests.test_big_patient import arrival_order, record_in_arrival_order

END = date(2024, 12, 31)


def scanned(
    clinical: Sequence[RecordedEvent], dated: Mapping[str, date | None], pos: Mapping[str, int]
) -> dict[str, list[str]]:
    """The first algorithm: every clinical event against every other, the first five."""
    return {
        e.event.event_id: [
            o.event.event_id
            for o in clinical
            if pos[o.event.event_id] < pos[e.event.event_id]
            and (dated[o.event.event_id] or date.min) > when
        ][:5]
        for e in clinical
        if (when := dated[e.event.event_id]) is not None
    }


def folded_again(known: KnownNow, own: set[str]) -> PatientState:
    """The first algorithm: the whole history folded again without the decision's own."""
    return fold([r for r in known.events if r.event.event_id not in own], known.as_of)


def owns(events: Sequence[RecordedEvent]) -> list[set[str]]:
    """The event ids of each authorization's request and decision."""
    by_authorization: dict[str, set[str]] = {}
    for r in events:
        if isinstance(r.event, ASKED):
            by_authorization.setdefault(r.event.authorization_id, set()).add(r.event.event_id)
    return list(by_authorization.values())


def first_audit(*args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit_module, "recorded_before_later_dated", scanned)
        patch.setattr(KnownNow, "without", folded_again)
        return audit(*args, **kwargs)


def amended(name: str) -> PolicySet:
    """The sets as registered, the esi's initial interval lengthened from 14 to 40 days."""
    found = registry.get(name)
    if name != "nia":
        return found
    return amended_set(found, "nia.esi.initial_interval", span=days(40))


@on_backends("sqlite")
@pytest.mark.parametrize("seed", [3, 11])
def test_the_audit_of_a_long_history_is_the_audit_as_first_written(
    ledger: InjectionLedger, clock: FakeClock, seed: int
) -> None:
    rng = random.Random(seed)
    patient = big_patient(events=700, tracks=5, requests=10, seed=seed, fact_share=0.2, end=END)
    tracker = Tracker(ledger, clock)
    instants = record_in_arrival_order(tracker, clock, arrival_order(patient.lines, rng), rng)
    # One request asked again as of an instant halfway through the recording.
    asked = next(line for line in patient.lines if line["type"] == "authorization_request")
    again = asked | {"authorization_id": "AGAIN", "as_of": instants[len(instants) // 2]}
    tracker.authorize_many([parse_line(again)], decision_json)
    events = ledger.patient_events(patient.patient_id)
    order = ledger.recording_order(patient.patient_id)

    seen: dict[str, int] = {"late": 0, "voids": 0, "mismatches": 0, "changed": 0, "as_of": 0}
    for as_of in [None, *instants[:: max(1, len(instants) // 3)]]:
        for lookup in (registry.get, amended):
            args = (patient.patient_id, events, order, lookup, decision_json, as_of)
            now = audit(*args)
            assert now == first_audit(*args)
            summary = now["summary"]
            seen["late"] += summary["late_arrivals"]
            seen["voids"] += summary["voids"]
            seen["mismatches"] += summary["mismatches"]
            seen["changed"] += summary["changed_now"]
            asked_then = [a for a in now["authorizations"] if (a["replayed"] or {}).get("as_of")]
            seen["as_of"] += len(asked_then)
        # Each "now" state is the fold of the history without the decision's own events.
        known = [r for r in events if as_of is None or r.event.timestamp <= as_of]
        shared = KnownNow(known, as_of)
        for own in owns(known):
            assert shared.without(own) == folded_again(shared, own)
    assert all(seen.values()), seen


def test_only_earlier_recorded_later_dated_clinical_events_make_an_event_late(
    ledger: InjectionLedger,
) -> None:
    """The sweep against the scan on random clinical dates and recording orders, ties and
    undated events included."""
    ledger.record_batch(parse(*(procedure(f"e{n}", on="2020-01-01") for n in range(300))))
    recorded = ledger.patient_events(DEFAULT_PATIENT)
    rng = random.Random(5)
    for size in (0, 1, 2, 9, 60, 300):
        clinical = rng.sample(recorded, size)
        assert all(isinstance(r.event, CLINICAL) for r in clinical)
        ids = [r.event.event_id for r in clinical]
        dated: dict[str, date | None] = {
            i: None if rng.random() < 0.05 else date(2020, 1, 1 + rng.randrange(20)) for i in ids
        }
        pos = {i: n for n, i in enumerate(rng.sample(ids, len(ids)))}
        assert audit_module.recorded_before_later_dated(clinical, dated, pos) == scanned(
            clinical, dated, pos
        )
