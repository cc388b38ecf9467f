"""How the ledger reads: one query for every ledger a batch touches, one for all of a
patient's streams per decision, compact idempotency data, and ledgers written in the earlier
(full) form still honoured."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from adapters.eventstore import InjectionLedger, fingerprint
from domain.catalog import Region
from domain.errors import EventIdConflict
from domain.events import LedgerEntry, PatientLedger, PatientRegion, patient_ledger_id
from tests.builders import outcome, parse, procedure
from tests.support import FakeClock, on_backends


def count_selects(ledger: InjectionLedger, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many streams each multi-stream query asked for."""
    calls: list[int] = []
    original: Callable[[Mapping[UUID, int]], Any] = ledger.streams.select

    def select(after: Mapping[UUID, int]) -> Any:
        calls.append(len(after))
        return original(after)

    monkeypatch.setattr(ledger.streams, "select", select)
    return calls


@on_backends("sqlite", "postgres")
def test_a_batch_reads_the_ledgers_of_all_its_uncached_patients_in_one_query(
    ledger: InjectionLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.record_batch(parse(procedure("a", patient_id="p-1")))
    calls = count_selects(ledger, monkeypatch)
    batch = [procedure(f"e{i}", patient_id=f"p-{i % 7}") for i in range(50)]
    assert {r.status for r in ledger.record_batch(parse(*batch))} == {"recorded"}
    assert calls == [6]  # p-1's ledger is cached as this process saved it
    ledger.record_batch(parse(*(procedure(f"f{i}", patient_id=f"p-{i}") for i in range(7))))
    assert calls == [6]  # every ledger is cached now: a write's version check finds staleness


@on_backends("sqlite", "postgres")
def test_a_reference_another_process_recorded_is_accepted_though_this_cache_missed_it(
    make_ledger: Callable[[], InjectionLedger],
) -> None:
    one, two = make_ledger(), make_ledger()
    one.record_batch(parse(procedure("a")))
    two.record_batch(parse(procedure("b", on="2025-03-05")))
    # one's cached ledger does not know "b": refused on cached state, then checked afresh.
    assert [r.status for r in one.record_batch(parse(outcome("o", of="b")))] == ["recorded"]
    assert [r.status for r in two.record_batch(parse(outcome("o", of="b")))] == ["duplicate"]
    assert [r.event.event_id for r in one.patient_events("p-001")] == ["a", "b", "o"]  # type: ignore[attr-defined]


@on_backends("sqlite", "postgres")
def test_a_decision_reads_all_of_a_patients_streams_in_one_query(
    ledger: InjectionLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.record_batch(
        parse(
            procedure("a", on="2025-01-10"),
            procedure("c", on="2025-01-11", region="cervical", codes=["64479"]),
        )
    )
    calls = count_selects(ledger, monkeypatch)
    events = ledger.patient_events("p-001")
    assert calls == [3]
    assert sorted((r.region, r.event.event_id) for r in events) == [  # type: ignore[attr-defined]
        ("cervical", "c"),
        ("lumbar", "a"),
    ]


@on_backends("sqlite", "postgres")
def test_another_processs_writes_are_seen_by_the_next_batch(
    make_ledger: Callable[[], InjectionLedger],
) -> None:
    one, two = make_ledger(), make_ledger()
    one.record_batch(parse(procedure("a")))
    two.record_batch(parse(outcome("o", of="a")))  # two's ledger knows "a" from the store
    assert [r.status for r in one.record_batch(parse(outcome("o", of="a")))] == ["duplicate"]
    with pytest.raises(EventIdConflict):
        one.record_batch(parse(outcome("o", of="a", relief=10)))
    assert [r.event.event_id for r in one.patient_events("p-001")] == ["a", "o"]  # type: ignore[attr-defined]


def test_the_ledger_keeps_a_short_fingerprint_per_event(ledger: InjectionLedger) -> None:
    ledger.record_batch(parse(procedure("a")))
    [_, accepted] = list(ledger.events.get(patient_ledger_id("p-001")))
    assert isinstance(accepted, PatientLedger.EventsIndexed)
    [row] = accepted.rows
    assert row[:3] == ["a", "p", "l"]
    assert row[3] is not None and len(row[3]) == 16
    assert row[4] == "2025-03-03"


@on_backends("memory", "sqlite")
def test_ledgers_written_in_the_full_form_still_decide_duplicates_and_versions(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    """A store written before the compact form: EventsAccepted with full fingerprints and
    region streams the writer read back before appending."""
    [command] = parse(procedure("a"))
    print_ = fingerprint(command.payload())
    now = clock()
    old = PatientLedger.open("p-001", now)
    old.trigger_event(
        PatientLedger.EventsAccepted,
        timestamp=now,
        entries=[
            LedgerEntry(
                "a",
                "procedure_performed",
                "lumbar",
                print_,
                date_of_service=command.procedure.date_of_service,  # type: ignore[union-attr]
            )
        ],
    )
    stream = PatientRegion.open("p-001", Region.LUMBAR, now)
    stream.record(
        PatientRegion.ProcedurePerformed,
        now,
        event_id="a",
        fingerprint=print_,
        date_of_service=command.procedure.date_of_service,  # type: ignore[union-attr]
        codes=list(command.procedure.codes),  # type: ignore[union-attr]
        family="esi",
        intent="therapeutic",
        laterality=None,
        levels=[],
        agent=None,
        indication=None,
        approach="transforaminal",
        device_type=None,
        authorization_id=None,
    )
    ledger.save(old, stream)
    assert [r.status for r in ledger.record_batch(parse(procedure("a")))] == ["duplicate"]
    with pytest.raises(EventIdConflict):
        ledger.record_batch(parse(procedure("a", on="2025-03-04")))
    ledger.record_batch(parse(outcome("o", of="a")))
    assert [r.event.originator_version for r in ledger.patient_events("p-001")] == [2, 3]


def authorization_fields(authorization_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    requested = {
        "authorization_id": authorization_id,
        "policy_set": "nia",
        "date_of_service": date(2025, 3, 3),
        "codes": [],
        "family": "esi",
        "request": {"authorization_id": authorization_id},
    }
    decided = {
        "authorization_id": authorization_id,
        "decision": "approved",
        "policy": {},
        "reasons": [],
        "next_eligible_date": None,
        "response": {"decision": "approved", "authorization_id": authorization_id},
    }
    return requested, decided


@on_backends("sqlite", "postgres")
def test_a_recorded_decision_is_read_where_the_ledger_places_it_not_by_reading_the_stream(
    ledger: InjectionLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.record_batch(parse(procedure("a"), outcome("o", of="a")))
    for n in range(3):
        ledger.record_authorization("p-001", Region.LUMBAR, *authorization_fields(f"z{n}"))
    ledger.record_batch(parse(procedure("b", on="2025-03-06")))

    def whole_stream(*_: Any, **__: Any) -> Any:
        raise AssertionError("read the whole stream")

    monkeypatch.setattr(ledger.events, "get", whole_stream)
    found = ledger.find_authorizations([("p-001", "z1"), ("p-001", "z2"), ("p-001", "nope")])
    assert {key: event.response["authorization_id"] for key, event in found.items()} == {
        ("p-001", "z1"): "z1",
        ("p-001", "z2"): "z2",
    }


@on_backends("memory", "sqlite")
def test_a_decision_an_older_ledger_lists_out_of_stream_order_is_still_found(
    ledger: InjectionLedger, clock: FakeClock
) -> None:
    now = clock()
    requested, decided = authorization_fields("a1")
    old = PatientLedger.open("p-001", now)
    old.trigger_event(
        PatientLedger.EventsAccepted,
        timestamp=now,
        entries=[  # the decision listed first: not the stream's order
            LedgerEntry("authorization:a1/decision", "authorization_decided", "lumbar", "f"),
            LedgerEntry("authorization:a1", "authorization_requested", "lumbar", "f"),
        ],
    )
    stream = PatientRegion.open("p-001", Region.LUMBAR, now)
    stream.record(
        PatientRegion.AuthorizationRequested,
        now,
        event_id="authorization:a1",
        fingerprint="f",
        **requested,
    )
    stream.record(
        PatientRegion.AuthorizationDecided,
        now,
        event_id="authorization:a1/decision",
        fingerprint="f",
        **decided,
    )
    ledger.save(old, stream)
    found = ledger.find_authorization("p-001", "a1")
    assert found is not None and found.decision == "approved"
