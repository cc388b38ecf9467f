"""One very large patient: the history the "30,000-event patient" targets are measured on.

:func:`big_patient` builds, deterministically for a seed, one patient's history of about
``events`` events over many years with the population generator's vocabulary
(:mod:`application.population`): many courses of care running side by side in all three
regions (esi, facet blocks then rfa, sij, sympathetic blocks, stimulator and pump trials,
implants and refills, the odd cyst aspiration), outcomes for most procedures (some late,
some poor, a few voided and reported again), procedures recorded in error and voided, a few
surgeries and new pathologies starting new episodes, and authorization requests decided by
the rules on the history before them (what the import does).

:func:`record_big_patient` stores it through the tracker in clinical-date order, batches of
100 events, each authorization request decided and recorded when its turn comes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from application.population import (
    FAMILY_WEIGHTS,
    POLICY_SET_FOR,
    REGION_WEIGHTS,
    PopulationConfig,
    _advance,
    _clinical,
    _Course,
    _in_force,
    _interval,
    _new_course,
    _outcomes,
    _Patient,
    _pick,
    _proposed,
    _spec,
)

BIG_PATIENT_EVENTS = 30_000


@dataclass(frozen=True, slots=True)
class BigPatient:
    """The patient's lines (JSON bodies, clinical-date order, authorization requests with
    ``type`` ``authorization_request``) and what they hold."""

    patient_id: str
    lines: list[dict[str, Any]]
    first_day: date
    last_day: date

    @property
    def events(self) -> int:
        return sum(1 for line in self.lines if line["type"] != "authorization_request")

    @property
    def requests(self) -> int:
        return len(self.lines) - self.events


def big_patient(
    events: int = BIG_PATIENT_EVENTS,
    *,
    seed: int = 0,
    tracks: int | None = None,
    requests: int = 40,
    fact_share: float = 0.03,
    end: date = date(2025, 12, 31),
    years: int = 25,
    patient_id: str = "BIG0000001",
) -> BigPatient:
    """About ``events`` events of one patient (stops at the first course step past it), with
    ``tracks`` courses of care side by side (default: enough to fill ~25 years) and about
    ``requests`` authorization requests spread over the years the rules are in force."""
    config = PopulationConfig(patients=1, seed=seed, end=end, years=years, id_prefix="BIG")
    patient = _Patient(config, 1, providers=10)
    patient.patient_id = patient_id
    rng = patient.rng
    # A course of care yields about six events a year.
    tracks = tracks if tracks is not None else max(1, round(events * 1.2 / (6 * years)))
    start = config.start
    queue: list[tuple[int, int, Any, _Course | None]] = []
    for n in range(tracks):
        first = start + timedelta(days=rng.randrange(365))
        heapq.heappush(queue, (first.toordinal(), n, _pick(rng, REGION_WEIGHTS), None))
    tie = tracks
    # Requests go to procedures of the years the rules govern (about half of them).
    ask_share = requests / max(1.0, events * 0.45 * 0.5)
    asked = 0
    while queue and patient.n_events < events:
        ordinal, _, region, course = heapq.heappop(queue)
        day = date.fromordinal(ordinal)
        if day > end:
            continue
        if course is None or course.step >= course.length:
            if course is not None and rng.random() < fact_share:
                patient.episode_fact(region, day)
                day += timedelta(days=rng.randint(30, 120))
            course = _new_course(patient, region)
        spec = _spec(patient, course, day)
        family = _proposed(spec).family
        policy_set = POLICY_SET_FOR.get(family, config.policy_set)
        authorization_id = None
        if (
            asked < requests
            and rng.random() < ask_share
            and family in {f for f, _ in FAMILY_WEIGHTS[region]}
            and _in_force(policy_set, family, day)
        ):
            asked += 1
            clinical = _clinical(patient, course, spec, complete=True)
            authorization_id, decision, _, _ = patient.request(spec, clinical)
            if decision != "eligible":
                authorization_id = None  # done anyway: the history goes on
        event_id = patient.procedure(spec, authorization_id)
        if rng.random() < config.void_share:
            twin = dict(spec, date_of_service=(day + timedelta(days=1)).isoformat())
            patient.procedure(twin, None, letter="x")
            patient.void(patient.lines[-1], "entered in error: duplicate claim")
        _outcomes(patient, course, spec, event_id, day)
        _advance(patient, course)
        following = day + timedelta(days=_interval(patient, course))
        tie += 1
        heapq.heappush(queue, (following.toordinal(), tie, region, course))
    lines = sorted(patient.lines, key=lambda line: line.key)
    bodies = [line.body for line in lines]
    days = [date.fromordinal(line.key[0]) for line in lines]
    return BigPatient(patient.patient_id, bodies, min(days), max(days))


def record_big_patient(
    tracker: Any,
    patient: BigPatient,
    present: Callable[[Any], dict[str, Any]],
    parse_event: Callable[[dict[str, Any]], Any],
    parse_request: Callable[[dict[str, Any]], Any],
    batch: int = 100,
) -> None:
    """Store the patient's lines through ``tracker`` in order: events in batches of
    ``batch``, each authorization request decided (on what precedes it) and recorded."""
    pending: list[Any] = []

    def flush() -> None:
        if pending:
            tracker.record(pending)
            pending.clear()

    for line in patient.lines:
        if line["type"] == "authorization_request":
            flush()
            tracker.authorize_many([parse_request(line)], present)
            continue
        pending.append(parse_event(line))
        if len(pending) >= batch:
            flush()
    flush()


def api_parsers() -> tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], Any]]:
    """The API's own parsing of an event line and of an authorization request line."""
    from pydantic import TypeAdapter

    from api.schemas.eligibility import AuthorizationIn
    from api.schemas.events import EventIn

    event_of = TypeAdapter(EventIn)

    def event(line: dict[str, Any]) -> Any:
        return event_of.validate_python(line).to_command()

    def request(line: dict[str, Any]) -> Any:
        body = {k: v for k, v in line.items() if k != "type"}
        return AuthorizationIn.model_validate(body).to_command()

    return event, request


def questions(patient: BigPatient, n: int, seed: int = 0) -> Sequence[dict[str, Any]]:
    """``n`` eligibility questions (request bodies) on the patient's own procedures' specs,
    dated in its last year."""
    import random

    rng = random.Random(f"big-patient-questions/{seed}")
    procs = [
        line
        for line in patient.lines
        if line["type"] == "procedure_performed"
        and date.fromisoformat(line["date_of_service"]) > patient.last_day - timedelta(days=365)
    ]
    out = []
    for _ in range(n):
        line = rng.choice(procs)
        procedure = {
            k: v
            for k, v in line.items()
            if k not in ("type", "event_id", "patient_id", "authorization_id", "provider_id")
        }
        day = patient.last_day + timedelta(days=rng.randint(0, 30))
        procedure["date_of_service"] = day.isoformat()
        family = _proposed(procedure).family
        out.append(
            {
                "patient_id": patient.patient_id,
                "policy_set": POLICY_SET_FOR.get(family, "nia"),
                "procedure": procedure,
                "clinical": {
                    "pain_score": 7,
                    "active_conservative_therapy": True,
                    "initial_criteria_met": True,
                },
            }
        )
    return out
