"""The folded state of a patient as the API shows it: response models built from
:class:`~application.usecases.PatientStateOn`."""

from __future__ import annotations

from datetime import date

from adapters.eventstore import REGIONS
from api.schemas.state import (
    EpisodeOut,
    FamilyStateOut,
    LastProcedureOut,
    NextPlacementOut,
    OutcomeOut,
    PatientStateOut,
    ProcedureOut,
    RegionStateOut,
    ReliefSummaryOut,
)
from application.usecases import PatientStateOn
from projections.relief import ReliefTest
from projections.rows import SIX_MONTHS, TWELVE_MONTHS, report_pairing
from projections.state import FamilyState, Outcome, Procedure

THRESHOLDS = (30, 50, 80)


def _outcome(o: Outcome | None) -> OutcomeOut | None:
    if o is None:
        return None
    return OutcomeOut(
        event_id=o.event_id,
        assessed_on=o.assessed_on,
        pain_relief_percent=o.pain_relief_percent,
        functional_improvement=o.functional_improvement,
    )


def _procedure(fam: FamilyState, p: Procedure) -> ProcedureOut:
    return ProcedureOut(
        event_id=p.event_id,
        date_of_service=p.date_of_service,
        primary_cpt=p.primary_cpt,
        laterality=p.laterality,
        levels=list(p.levels),
        episode_number=fam.episode_of[p.event_id],
        position=fam.position_of[p.event_id],
        first_year=fam.in_first_year(p),
    )


def relief_summary(p: Procedure, on: date) -> ReliefSummaryOut:
    counted = p.counted_outcomes(on)
    return ReliefSummaryOut(
        outcomes_counted=len(counted),
        latest_outcome=_outcome(counted[-1] if counted else None),
        earliest_outcome=_outcome(counted[0] if counted else None),
        meets={str(t): p.meets(ReliefTest(t), on) for t in THRESHOLDS},
        earliest_meets={str(t): p.earliest_meets(ReliefTest(t), on) for t in THRESHOLDS},
    )


def family_state(fam: FamilyState, on: date) -> FamilyStateOut | None:
    """The family as of ``on``; ``None`` when it has no procedure dated on or before it."""
    shown = [p for p in fam.procedures if p.date_of_service <= on]
    if not shown:
        return None
    pairing = report_pairing(fam)
    in_6 = fam.in_window(on, SIX_MONTHS)
    in_12 = fam.in_window(on, TWELVE_MONTHS)
    episodes = [
        EpisodeOut(
            number=e.number,
            start=e.start,
            reason=e.reason.value,
            procedures=sum(1 for p in e.procedures if p.date_of_service <= on),
            first_year_end=e.first_year_end,
        )
        for e in fam.episodes
        if e.start <= on
    ]
    last = shown[-1]
    place = fam.placement(on)
    return FamilyStateOut(
        family=fam.family,
        count_6m=len(in_6),
        count_12m=len(in_12),
        counted_6m=pairing.counted(in_6),
        counted_12m=pairing.counted(in_12),
        episodes=episodes,
        procedures=[_procedure(fam, p) for p in shown],
        last_procedure=LastProcedureOut(
            **_procedure(fam, last).model_dump(), relief=relief_summary(last, on)
        ),
        next=NextPlacementOut(
            episode_number=place.episode_number,
            new_episode=place.new_episode,
            reason=place.reason.value,
            position=place.position,
            first_year=place.first_year,
            first_year_count=place.first_year_count,
        ),
    )


def patient_state(s: PatientStateOn) -> PatientStateOut:
    """Episodes, positions, 6- and 12-month counts ending on ``s.on`` and the last
    procedure's relief, per region and family."""
    regions: list[RegionStateOut] = []
    for region in REGIONS:
        families = [
            out
            for (r, _), fam in sorted(s.state.families.items())
            if r == region.value
            if (out := family_state(fam, s.on)) is not None
        ]
        if families:
            regions.append(RegionStateOut(region=region.value, families=families))
    return PatientStateOut(
        patient_id=s.patient_id,
        on=s.on,
        as_of=s.as_of,
        voided_events=len(s.state.voided),
        regions=regions,
    )
