"""Voided events count for nothing, everywhere; ``as_of`` sees only what was recorded by
then (by recording instant, not by clinical date)."""

from __future__ import annotations

from datetime import date, timedelta

from projections.calendar import months
from projections.relief import ReliefTest
from tests.projections.history import T0, History


def test_a_voided_procedure_is_gone_and_takes_its_outcomes_with_it() -> None:
    h = (
        History()
        .procedure("a", "2025-01-10")
        .procedure("b", "2025-02-10")
        .outcome("o", of="b", on="2025-02-20", relief=80)
        .void("v", of="b")
    )
    state = h.fold()
    fam = state.family("lumbar", "esi")
    assert [p.event_id for p in state.procedures] == ["a"]
    assert state.procedure("b") is None
    assert fam.count_in_window(date(2025, 3, 1), months(12)) == 1
    assert fam.placement(date(2025, 3, 1)).position == 2
    assert state.voided == frozenset({"b"})


def test_a_voided_outcome_is_excluded_from_relief() -> None:
    h = (
        History()
        .procedure("p", "2025-01-10")
        .outcome("good", of="p", on="2025-02-01", relief=80)
        .outcome("bad", of="p", on="2025-03-01", relief=10)
        .void("v", of="bad")
    )
    proc = h.fold().procedure("p")
    assert proc is not None
    assert [o.event_id for o in proc.outcomes] == ["good"]
    assert proc.meets(ReliefTest(50), date(2025, 4, 1)) is True


def test_a_voided_surgery_no_longer_starts_an_episode() -> None:
    h = (
        History()
        .procedure("a", "2025-01-10")
        .surgery("s", "2025-01-20")
        .procedure("b", "2025-02-01")
    )
    assert len(h.fold().family("lumbar", "esi").episodes) == 2
    h.void("v", of="s")
    assert len(h.fold().family("lumbar", "esi").episodes) == 1


def test_voiding_the_first_procedure_renumbers_positions_and_moves_the_episode_start() -> None:
    h = (
        History()
        .procedure("a", "2025-01-10")
        .procedure("b", "2025-02-10")
        .procedure("c", "2025-03-10")
        .void("v", of="a")
    )
    fam = h.fold().family("lumbar", "esi")
    assert fam.position_of == {"b": 1, "c": 2}
    assert fam.episodes[0].start == date(2025, 2, 10)


def test_a_voided_unilateral_procedure_frees_its_partner() -> None:
    h = History()
    for event_id, on, side in [
        ("L", "2025-03-01", "left"),
        ("R1", "2025-03-02", "right"),
        ("R2", "2025-03-03", "right"),
    ]:
        h.procedure(event_id, on, family="facet", laterality=side, levels=("L4-L5",))
    h.void("v", of="R1")
    fam = h.fold().family("lumbar", "facet")
    assert fam.pairing(months(1)).partner_of == {"L": "R2", "R2": "L"}


def test_a_void_recorded_after_as_of_is_ignored() -> None:
    h = History().procedure("a", "2025-01-10", at=T0)
    h.void("v", of="a", at=T0 + timedelta(hours=2))
    before = h.fold(as_of=T0 + timedelta(hours=1))
    assert [p.event_id for p in before.procedures] == ["a"]
    assert before.voided == frozenset()
    assert h.fold(as_of=T0 + timedelta(hours=2)).procedures == ()


def test_as_of_filters_by_recording_instant_not_by_clinical_date() -> None:
    h = (
        History()
        .procedure("old-but-late", "2020-01-10", at=T0 + timedelta(days=3))
        .procedure("recent-but-early", "2025-05-10", at=T0)
    )
    seen = h.fold(as_of=T0 + timedelta(days=1))
    assert [p.event_id for p in seen.procedures] == ["recent-but-early"]
    everything = h.fold()
    assert [p.event_id for p in everything.procedures] == ["old-but-late", "recent-but-early"]


def test_an_event_recorded_exactly_at_as_of_is_seen() -> None:
    h = History().procedure("a", "2025-01-10", at=T0)
    assert [p.event_id for p in h.fold(as_of=T0).procedures] == ["a"]
    assert h.fold(as_of=T0 - timedelta(microseconds=1)).procedures == ()


def test_outcomes_recorded_after_as_of_do_not_count_toward_relief() -> None:
    h = History().procedure("p", "2025-01-10", at=T0)
    h.outcome("o", of="p", on="2025-02-01", relief=80, at=T0 + timedelta(days=30))
    assert (
        h.fold(as_of=T0 + timedelta(days=1))
        .procedure("p")
        .meets(  # type: ignore[union-attr]
            ReliefTest(50), date(2025, 6, 1)
        )
        is None
    )
    assert (
        h.fold()
        .procedure("p")
        .meets(  # type: ignore[union-attr]
            ReliefTest(50), date(2025, 6, 1)
        )
        is True
    )


def test_authorizations_are_folded_with_their_decisions() -> None:
    h = (
        History()
        .authorization("auth-1", "2025-03-01", decision="approved")
        .authorization("auth-2", "2025-02-01", family="facet", decision=None)
    )
    auths = h.fold().authorizations
    assert [(a.authorization_id, a.family, a.decision) for a in auths] == [
        ("auth-2", "facet", None),
        ("auth-1", "esi", "approved"),
    ]


def test_other_regions_and_same_day_procedures() -> None:
    h = (
        History()
        .procedure("l", "2025-03-10")
        .procedure("c", "2025-03-10", region="cervical")
        .procedure("t", "2025-03-14", region="thoracic")
        .procedure("far", "2025-04-30", region="cervical")
    )
    state = h.fold()
    assert {p.event_id for p in state.on_date(date(2025, 3, 10))} == {"l", "c"}
    assert [
        p.event_id for p in state.near(date(2025, 3, 10), 7, ["esi"], exclude_region="lumbar")
    ] == ["t"]
