"""The population read model's rows, computed from a folded :class:`PatientState` (pure).

One :class:`ProcedureRow` per non-voided procedure and one :class:`AuthorizationRow` per
authorization request. The storage shell (:mod:`adapters.readmodel`) only writes what
:func:`patient_rows` returns, so the stored read model can never disagree with the fold.

Counts on a row (all per patient, region and family, voided procedures excluded):

- ``count_6m`` / ``count_12m``: procedures in the rolling 6 / 12 months ending on the row's
  date of service (strictly after DOS - N months, on or before DOS), the row itself and every
  procedure on the same day included.
- ``counted_6m`` / ``counted_12m``: the same with bilateral pairs counted once, under the
  pairing window :data:`REPORT_PAIRING_WINDOW` (facet and rfa only; other families never
  pair, so they equal the plain counts).
- ``first_year``: the DOS is before the episode start + 12 months.
- ``first_year_count``: procedures of the row's episode dated in its first year and on or
  before the row's DOS (the row included when it is in the first year).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from projections.calendar import Span, months
from projections.state import FamilyState, Pairing, PatientState, Procedure

REPORT_PAIRING_WINDOW = months(1)
PAIRED_FAMILIES = frozenset({"facet", "rfa"})
SIX_MONTHS = months(6)
TWELVE_MONTHS = months(12)


@dataclass(frozen=True, slots=True)
class ProcedureRow:
    """One non-voided procedure as reports see it. Dates are ISO strings, JSON-ready."""

    patient_id: str
    event_id: str
    region: str
    family: str
    date_of_service: str
    primary_cpt: str
    laterality: str | None
    levels: list[str]
    episode_number: int
    episode_start: str
    episode_reason: str
    position: int
    first_year: bool
    first_year_count: int
    count_6m: int
    count_12m: int
    counted_6m: int
    counted_12m: int
    paired_with: str | None
    authorization_id: str | None
    recorded_at: str
    outcomes: list[dict[str, Any]]
    authorizations: list[dict[str, Any]]
    provider_id: str | None = None

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AuthorizationRow:
    """One authorization request and its decision (``None`` while undecided)."""

    patient_id: str
    authorization_id: str
    region: str
    family: str
    date_of_service: str
    policy_set: str
    decision: str | None
    next_eligible_date: str | None
    policy: dict[str, Any]
    recorded_at: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def authorization_rows(state: PatientState) -> list[AuthorizationRow]:
    return [
        AuthorizationRow(
            patient_id=state.patient_id,
            authorization_id=a.authorization_id,
            region=a.region,
            family=a.family,
            date_of_service=a.date_of_service.isoformat(),
            policy_set=a.policy_set,
            decision=a.decision,
            next_eligible_date=_iso(a.next_eligible_date),
            policy=dict(a.policy),
            recorded_at=a.recorded_at.isoformat(),
        )
        for a in state.authorizations
    ]


def report_pairing(fam: FamilyState, window: Span = REPORT_PAIRING_WINDOW) -> Pairing:
    """Bilateral pairs as reports count them: facet and rfa pair, other families never."""
    return fam.pairing(window) if fam.family in PAIRED_FAMILIES else Pairing({})


def _outcomes(proc: Procedure) -> list[dict[str, Any]]:
    return [
        {
            "event_id": o.event_id,
            "assessed_on": o.assessed_on.isoformat(),
            "pain_relief_percent": o.pain_relief_percent,
            "functional_improvement": o.functional_improvement,
            "recorded_at": o.recorded_at.isoformat(),
        }
        for o in proc.outcomes
    ]


def _family_rows(
    patient_id: str,
    fam: FamilyState,
    authorizations: list[AuthorizationRow],
    pairing_window: Span,
) -> list[ProcedureRow]:
    pairing = report_pairing(fam, pairing_window)
    rows: list[ProcedureRow] = []
    for proc in fam.procedures:
        dos = proc.date_of_service
        episode = fam.episode_for(proc)
        first_year_end = episode.first_year_end
        in_6 = fam.in_window(dos, SIX_MONTHS)
        in_12 = fam.in_window(dos, TWELVE_MONTHS)
        linked = [
            a.as_record()
            for a in authorizations
            if a.authorization_id == proc.authorization_id
            or (
                a.region == proc.region
                and a.family == proc.family
                and a.date_of_service == dos.isoformat()
            )
        ]
        rows.append(
            ProcedureRow(
                patient_id=patient_id,
                event_id=proc.event_id,
                region=proc.region,
                family=proc.family,
                date_of_service=dos.isoformat(),
                primary_cpt=proc.primary_cpt,
                laterality=proc.laterality,
                levels=list(proc.levels),
                episode_number=episode.number,
                episode_start=episode.start.isoformat(),
                episode_reason=episode.reason.value,
                position=fam.position_of[proc.event_id],
                first_year=fam.in_first_year(proc),
                first_year_count=sum(
                    1
                    for p in episode.procedures
                    if p.date_of_service <= dos and p.date_of_service < first_year_end
                ),
                count_6m=len(in_6),
                count_12m=len(in_12),
                counted_6m=pairing.counted(in_6),
                counted_12m=pairing.counted(in_12),
                paired_with=pairing.partner_of.get(proc.event_id),
                authorization_id=proc.authorization_id,
                recorded_at=proc.recorded_at.isoformat(),
                outcomes=_outcomes(proc),
                authorizations=linked,
                provider_id=proc.provider_id,
            )
        )
    return rows


def patient_rows(
    state: PatientState, pairing_window: Span = REPORT_PAIRING_WINDOW
) -> tuple[list[ProcedureRow], list[AuthorizationRow]]:
    """Every row of one patient's state: procedures (region, family, date order) and
    authorizations."""
    authorizations = authorization_rows(state)
    rows: list[ProcedureRow] = []
    for key in sorted(state.families):
        rows.extend(
            _family_rows(state.patient_id, state.families[key], authorizations, pairing_window)
        )
    return rows, authorizations
