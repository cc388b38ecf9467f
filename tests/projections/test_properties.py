"""Properties of the fold on random histories (hypothesis).

- Recording order does not change the state: only clinical dates and voids do.
- Voiding an event gives the same state as never recording it.
- The materialized read model equals the on-demand fold for every patient.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readmodel import catch_up, open_view
from api.app import build_ledger
from api.projections_cmd import view_env
from api.settings import Settings
from projections.rows import patient_rows
from projections.state import PatientState
from tests.projections.conftest import folded_rows, patient_history, populate, sort_rows
from tests.projections.history import History
from tests.support import FakeClock

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = date(2022, 1, 1)

# One step of a history: ("procedure", region, family, day offset, side, levels)
# | ("outcome", procedure index, days after DOS, relief, functional)
# | ("surgery", region, day offset) | ("pathology", region, day offset)
# | ("void", index of an earlier event)
procedure_step = st.tuples(
    st.just("procedure"),
    st.sampled_from(["lumbar", "cervical"]),
    st.sampled_from(["esi", "facet"]),
    st.integers(0, 1200),
    st.sampled_from(["left", "right", "bilateral", None]),
    st.sampled_from([(), ("L4-L5",), ("L4-L5", "L5-S1")]),
)
outcome_step = st.tuples(
    st.just("outcome"),
    st.integers(0, 50),
    st.integers(0, 200),
    st.sampled_from([0, 30, 50, 80]),
    st.booleans(),
)
fact_step = st.tuples(
    st.sampled_from(["surgery", "pathology"]),
    st.sampled_from(["lumbar", "cervical"]),
    st.integers(0, 1200),
)
void_step = st.tuples(st.just("void"), st.integers(0, 50))
steps = st.lists(
    st.one_of(procedure_step, procedure_step, outcome_step, fact_step, void_step),
    min_size=1,
    max_size=30,
)


def build(
    plan: list[tuple[Any, ...]], order: list[int] | None = None, skip: str | None = None
) -> History:
    """Record the plan's events (in ``order`` when given), leaving out event ``skip``.
    Event ids and clinical content depend only on the plan, never on the order."""
    events: list[tuple[str, dict[str, Any]]] = []
    procedures: list[tuple[str, date, str]] = []
    voidable: list[str] = []
    for i, step in enumerate(plan):
        event_id = f"e{i}"
        kind = step[0]
        if kind == "procedure":
            _, region, family, offset, side, levels = step
            on = BASE + timedelta(days=offset)
            events.append(
                (
                    "procedure",
                    dict(
                        event_id=event_id,
                        on=on,
                        region=region,
                        family=family,
                        laterality=side,
                        levels=levels,
                    ),
                )
            )
            procedures.append((event_id, on, region))
        elif kind == "outcome" and procedures:
            _, which, after, relief, functional = step
            of, on, _ = procedures[which % len(procedures)]
            events.append(
                (
                    "outcome",
                    dict(
                        event_id=event_id,
                        of=of,
                        on=on + timedelta(days=after),
                        relief=relief,
                        functional=functional,
                    ),
                )
            )
        elif kind in ("surgery", "pathology"):
            _, region, offset = step
            events.append(
                (kind, dict(event_id=event_id, on=BASE + timedelta(days=offset), region=region))
            )
        elif kind == "void" and voidable:
            target = voidable.pop(step[1] % len(voidable))
            events.append(("void", dict(event_id=event_id, of=target)))
            continue
        else:
            continue
        voidable.append(event_id)
    h = History()
    regions = {e["event_id"]: e.get("region") for k, e in events if k == "procedure"}
    for index in order if order is not None else range(len(events)):
        if index >= len(events):
            continue
        kind, fields = events[index]
        if fields["event_id"] == skip:
            continue
        if kind in ("outcome", "void"):
            # Outcomes and voids live on their target's stream, known whatever the order.
            target = fields["of"]
            h.regions.setdefault(target, regions.get(target) or _region_of(events, target))
        getattr(h, kind)(**fields)
    return h


def _region_of(events: list[tuple[str, dict[str, Any]]], event_id: str) -> str:
    for kind, fields in events:
        if fields["event_id"] == event_id:
            if kind in ("outcome", "void"):
                return _region_of(events, fields["of"])
            return fields.get("region") or "lumbar"
    return "lumbar"


def clinical(state: PatientState) -> dict[str, Any]:
    """Everything the state says, without recording instants and void bookkeeping."""
    procedures, _authorizations = patient_rows(state)
    rows = [
        {
            k: [{**o, "recorded_at": None} for o in v] if k == "outcomes" else v
            for k, v in r.as_record().items()
            if k != "recorded_at"
        }
        for r in procedures
    ]
    placements = {
        key: [
            (
                p.episode_number,
                p.episode_start,
                p.new_episode,
                p.reason,
                p.position,
                [q.event_id for q in p.prior_in_episode],
                p.previous.event_id if p.previous else None,
            )
            for p in (fam.placement(BASE + timedelta(days=d)) for d in (0, 400, 900))
        ]
        for key, fam in state.families.items()
    }
    return {"rows": rows, "facts": state.facts, "placements": placements}


def event_count(plan: list[tuple[Any, ...]]) -> int:
    return len(build(plan).events)


@FAST
@given(plan=steps, data=st.data())
def test_recording_order_does_not_change_the_state(
    plan: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    n = event_count(plan)
    order = data.draw(st.permutations(list(range(n))))
    assert clinical(build(plan, order=order).fold()) == clinical(build(plan).fold())


@FAST
@given(plan=steps, data=st.data())
def test_voiding_an_event_is_the_same_as_never_recording_it(
    plan: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    history = build(plan)
    state = history.fold()
    candidates = sorted(
        {
            r.event.event_id
            for r in history.events  # type: ignore[attr-defined]
            if type(r.event).__name__ != "EventVoided"
        }
        - state.voided
    )
    if not candidates:
        return
    target = data.draw(st.sampled_from(candidates))
    voided = build(plan)
    voided.void("the-void", of=target)
    assert clinical(voided.fold()) == clinical(build(plan, skip=target).fold())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    patients=st.integers(1, 4),
    size=st.integers(1, 14),
    page_size=st.integers(1, 40),
)
def test_the_read_model_equals_the_fold_for_every_patient(
    seed: int, patients: int, size: int, page_size: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store_settings = Settings(
            persistence="memory",
            db=Path(tmp) / "store.sqlite",
            view_db=Path(tmp) / "view.sqlite",
            database_url=None,
        )
        ledger = build_ledger(store_settings, FakeClock())
        opened = open_view(view_env(store_settings))
        try:
            ids = populate(ledger, patients=patients, size=size, seed=seed)
            catch_up(opened.view, ledger.recorder, ledger.mapper, ledger.name, page_size=page_size)
            for pid in ids:
                assert sort_rows(opened.view.procedure_rows(pid)) == folded_rows(
                    ledger.patient_events(pid), pid
                )
        finally:
            opened.close()
            ledger.close()


def test_the_generated_histories_exercise_voids_and_outcomes() -> None:
    # Guard that the read-model property is not vacuous.
    kinds = {b[0]["type"] for seed in range(5) for b in patient_history("p", seed, 14)}
    assert {"procedure_performed", "outcome_reported", "event_voided"} <= kinds
