"""The tracker's use cases: what the HTTP routers, the CLI and importers all call.

Each takes domain commands or plain values (never transport models) and returns domain
values; entry points turn them into their own output. "Now" comes from the injected clock.

- :meth:`Tracker.record` stores a batch of events, all or nothing;
- :meth:`Tracker.decide` decides a proposed procedure under a policy set (records nothing);
- :meth:`Tracker.authorize` decides and records the request with its decision, once per id;
- :meth:`Tracker.history` is a patient's history as known at an instant;
- :meth:`Tracker.state` folds a patient's streams for a date;
- :func:`catch_up_view` and :func:`rebuild_view` bring the population read model up to date.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, date, datetime
from typing import Any

from adapters.eventstore import IngestResult, InjectionLedger, fingerprint
from adapters.readmodel import DEFAULT_PAGE_SIZE, PageResult, ReadModel, catch_up
from domain.catalog import Region, classify
from domain.commands import Authorize, DecideEligibility, EventCommand, ProcedureSpec
from domain.errors import EventIdConflict, FieldError
from domain.events import BOOKKEEPING_FIELDS, EVENT_TYPES, PatientRegion, forget_derived_ids
from policies import registry
from policies.engine import Decision, Proposed, decide_prepared, prepare
from projections.calendar import add_months
from projections.state import PatientState, fold

Clock = Callable[[], datetime]

# Authorizations recorded per transaction by :meth:`Tracker.authorize_many`. On PostgreSQL
# the library pipelines one INSERT per event; a transaction of 1,000 authorizations (2,000
# events, about 5 MB with each decision's full answer) never completed here (psycopg 3.3.9,
# the server waiting for the client and the client for the server), 500 did.
AUTHORIZATIONS_PER_TRANSACTION = 200


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One event of a patient's history, JSON-ready fields."""

    type: str
    event_id: str
    region: str
    recorded_at: datetime
    voided_by: str | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PatientStateOn:
    """A patient's folded state, for the date ``on``, as known ``as_of``."""

    patient_id: str
    on: date
    as_of: datetime | None
    state: PatientState


def proposed_of(procedure: ProcedureSpec) -> Proposed:
    """The engine's view of a proposed procedure, its family and approach derived from the
    catalog (raises :class:`~domain.catalog.CatalogError`)."""
    indication = procedure.indication.value if procedure.indication else None
    kind = classify([c.cpt for c in procedure.codes], procedure.region, indication)
    return Proposed(
        date_of_service=procedure.date_of_service,
        region=procedure.region.value,
        family=kind.family.value,
        codes=tuple((c.cpt, c.units) for c in procedure.codes),
        intent=procedure.intent.value if procedure.intent else None,
        laterality=procedure.laterality.value if procedure.laterality else None,
        levels=tuple(procedure.levels),
        agent=procedure.agent.value if procedure.agent else None,
        approach=procedure.approach.value if procedure.approach else kind.approach,
        indication=indication,
        device_type=procedure.device_type,
    )


_pauses = 0
_pauses_lock = threading.Lock()
_collector_was_enabled = False


def forget_memos() -> None:
    """Empty the process's memos of pure functions (stream ids derived from patient ids,
    calendar arithmetic), as a request for a patient this process has not seen lately finds
    them. Answers are never memoized; ``injtrack bench`` calls this before each timed
    decision, so no decision is timed with a warm cache of its patient."""
    forget_derived_ids()
    add_months.cache_clear()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without Python's cyclic garbage collector: reading and folding a
    patient allocates several objects per event, and on a long history the collector's
    passes over them cost as much as the decoding, yet they are all freed by reference
    counting when the request drops them (drop them inside the block). Re-enabled when the
    last of the threads pausing it leaves (only if it was on)."""
    global _pauses, _collector_was_enabled
    with _pauses_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_enabled:
                gc.enable()


class Tracker:
    """The use cases over one event store."""

    def __init__(self, ledger: InjectionLedger, clock: Clock) -> None:
        self.ledger = ledger
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    # ------------------------------------------------------------------ writing

    def record(self, commands: Sequence[EventCommand]) -> list[IngestResult]:
        """Validate and store a batch, all or nothing (see
        :meth:`~adapters.eventstore.InjectionLedger.record_batch`)."""
        return self.ledger.record_batch(commands)

    def authorize(
        self, command: Authorize, present: Callable[[Decision], dict[str, Any]]
    ) -> dict[str, Any]:
        """Decide and record. Resending an ``authorization_id`` already recorded for the
        patient with the same content returns the recorded decision unchanged, without
        deciding again (different content: :class:`EventIdConflict`). Returns the
        decision as answered (with ``authorization_id``); ``present`` is the entry point's
        JSON form of a decision, recorded as the answer."""
        return self.authorize_many([command], present)[0]

    def authorize_many(
        self, commands: Sequence[Authorize], present: Callable[[Decision], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """:meth:`authorize` for several requests, recorded in one transaction per
        :data:`AUTHORIZATIONS_PER_TRANSACTION` of them (each request always with its
        decision). Each is decided on the history stored before the call (recorded
        authorizations never change a decision); an id already recorded, or repeated in
        ``commands``, answers with the recorded (or first) decision. Raises like
        :meth:`decide`, recording nothing (every request is decided before any is
        recorded)."""
        return [answer for answer, _ in self.authorize_each(commands, present)]

    def authorize_each(
        self, commands: Sequence[Authorize], present: Callable[[Decision], dict[str, Any]]
    ) -> list[tuple[dict[str, Any], bool]]:
        """:meth:`authorize_many`, each answer with whether this call recorded it (False:
        the id was recorded before, or earlier in ``commands``: a duplicate). The recorded
        ones are looked up together, once."""
        recorded_before = self.ledger.find_authorizations(
            (c.patient_id, c.authorization_id) for c in commands
        )
        answers: list[dict[str, Any] | None] = []
        first: dict[tuple[str, str], int] = {}
        staged: list[tuple[int, tuple[str, Region, dict[str, Any], dict[str, Any]]]] = []
        for position, command in enumerate(commands):
            key = (command.patient_id, command.authorization_id)
            recorded = self._answer(command, recorded_before.get(key))
            if key in first and commands[first[key]].payload() != command.payload():
                raise _authorization_conflict(command)
            if recorded is not None or key in first:
                answers.append(recorded)
                continue
            first[key] = position
            decision = self.decide(command)
            answer = present(decision)
            response = answer | {"authorization_id": command.authorization_id}
            proc = command.procedure
            requested = {
                "authorization_id": command.authorization_id,
                "policy_set": command.policy_set,
                "date_of_service": proc.date_of_service,
                "codes": list(proc.codes),
                "family": proposed_of(proc).family,
                "request": command.payload(),
            }
            decided = {
                "authorization_id": command.authorization_id,
                "decision": decision.decision,
                "policy": answer["policy"],
                "reasons": response["reasons"],
                "next_eligible_date": decision.next_eligible_date,
                "response": response,
            }
            answers.append(response)
            staged.append((position, (command.patient_id, proc.region, requested, decided)))
        items = [item for _, item in staged]
        written: list[bool] = []
        for start in range(0, len(items), AUTHORIZATIONS_PER_TRANSACTION):
            chunk = items[start : start + AUTHORIZATIONS_PER_TRANSACTION]
            written += self.ledger.record_authorizations(chunk)
        fresh: set[int] = set()
        for (position, _), ok in zip(staged, written, strict=True):
            if ok:
                fresh.add(position)
            else:
                # Another request recorded this id first: its decision is the answer.
                answers[position] = self._recorded(commands[position])
        out: list[tuple[dict[str, Any], bool]] = []
        for position, command in enumerate(commands):
            answer = answers[position]
            if answer is None:
                answer = answers[first[(command.patient_id, command.authorization_id)]]
            assert answer is not None
            out.append((answer, position in fresh))
        return out

    def _recorded(self, command: Authorize) -> dict[str, Any] | None:
        """The recorded answer for this ``authorization_id``, if any (see :meth:`_answer`)."""
        found = self.ledger.find_authorization(command.patient_id, command.authorization_id)
        return self._answer(command, found)

    @staticmethod
    def _answer(
        command: Authorize, found: PatientRegion.AuthorizationDecided | None
    ) -> dict[str, Any] | None:
        """The answer recorded for the command's ``authorization_id`` (``found``), if any.
        The same id resent with different content is an :class:`EventIdConflict`, like an
        event id (nothing is decided or stored)."""
        if found is None:
            return None
        if found.fingerprint != fingerprint(command.payload()):
            raise _authorization_conflict(command)
        return dict(found.response)

    # ------------------------------------------------------------------ deciding

    def decide(self, query: DecideEligibility) -> Decision:
        """Fold the patient's history as known ``as_of`` and decide, purely. Raises the
        policy and catalog lookup errors (unknown set, no guideline for the codes)."""
        # Refuse before reading history: no guideline, no version in force on the date of
        # service, a stimulator or pump placement code without its device intent.
        prepared = prepare(registry.get(query.policy_set), proposed_of(query.procedure))
        with collector_paused():
            events = self.ledger.patient_events(query.patient_id, query.as_of)
            state = fold(events, query.as_of, query.patient_id)
            decision = decide_prepared(prepared, state, query.clinical.facts())
            del events, state  # freed now, before the collector runs again
        return decision

    # ------------------------------------------------------------------ reading

    def state(
        self, patient_id: str, on: date | None = None, as_of: datetime | None = None
    ) -> PatientStateOn:
        """The patient's streams folded as known ``as_of`` (naive means UTC), for the date
        ``on`` (default: today in UTC)."""
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        with collector_paused():
            events = self.ledger.patient_events(patient_id, as_of=as_of)
            state = fold(events, as_of=as_of, patient_id=patient_id)
        return PatientStateOn(patient_id, on or self.today(), as_of, state)

    def history(
        self, patient_id: str, as_of: datetime | None = None, region: Region | None = None
    ) -> list[HistoryEntry]:
        """The patient's events in recording order as known ``as_of``, each with its type,
        region, recording instant, fields and the void recorded against it by then."""
        return self.history_page(patient_id, as_of=as_of, region=region)[1]

    def history_page(
        self,
        patient_id: str,
        as_of: datetime | None = None,
        region: Region | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[HistoryEntry]]:
        """How many events the history (of ``region``, or all) holds as known ``as_of``,
        and those from ``offset`` on (``limit`` of them, or all), as :meth:`history` lists
        them. Only the page's events are read and decoded."""
        page = self.ledger.history_page(
            patient_id, as_of=as_of, region=region, offset=offset, limit=limit
        )
        return page.total, [
            HistoryEntry(
                type=EVENT_TYPES[type(r.event)],
                event_id=r.event.event_id,  # type: ignore[attr-defined]
                region=r.region,
                recorded_at=r.event.timestamp,
                voided_by=voided_by,
                fields=event_fields(r.event),
            )
            for r, voided_by in page.events
        ]


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def event_fields(event: Any) -> dict[str, Any]:
    """The clinical fields of an event (no bookkeeping, no event_id), JSON-ready."""
    return {
        name: _plain(value)
        for name, value in vars(event).items()
        if name not in BOOKKEEPING_FIELDS and name != "event_id"
    }


def _authorization_conflict(command: Authorize) -> EventIdConflict:
    return EventIdConflict(
        [
            FieldError(
                "authorization_id",
                f"authorization_id {command.authorization_id!r} already names an "
                "authorization of this patient with different content",
            )
        ]
    )


# ---------------------------------------------------------------------- the read model


def catch_up_view(
    ledger: InjectionLedger,
    view: ReadModel,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_page: Callable[[PageResult], None] | None = None,
) -> int:
    """Bring the read model up to the store's current end; returns the notifications
    processed."""
    return catch_up(
        view, ledger.recorder, ledger.mapper, ledger.name, page_size=page_size, on_page=on_page
    )


def rebuild_view(
    ledger: InjectionLedger,
    view: ReadModel,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_page: Callable[[PageResult], None] | None = None,
    workers: int = 1,
) -> int:
    """Build the read model again from the whole event log beside the live one and swap it
    in on success (the live view stays readable, and unchanged on failure); ``workers``
    processes fold the patients (the rows are the same for any number). The cyclic garbage
    collector is paused meanwhile (:func:`collector_paused`: a fifth of a rebuild's CPU
    went to its passes over millions of short-lived, acyclic objects)."""
    with collector_paused():
        return view.rebuild(
            ledger.name,
            ledger.recorder,
            ledger.mapper,
            page_size=page_size,
            on_page=on_page,
            workers=workers,
        )
