"""The patient state: a pure fold of a patient's recorded events (all regions).

``fold(events, as_of=None)`` takes plain lists of :class:`domain.events.RecordedEvent` and
returns a :class:`PatientState`. No I/O, no clock: the knowledge instant is ``as_of`` (only
events recorded at or before it are seen) and every query takes the date being decided.

Counting semantics (exact):

- Episode of care (per patient, region and family): starts at its first procedure; a new one
  starts when the DOS is >= 2 years after the previous procedure of that family in that
  region, or when a surgery_performed or pathology_diagnosed in that region is dated after the
  previous procedure and on or before the DOS.
- First year of treatment: DOS < episode start + 12 months.
- Bilateral counting (facet, rfa): unilateral procedures at the same levels on opposite sides
  within the pairing window count as one toward a cap. Pairs form in date order: a unilateral
  procedure pairs with the earliest still-unpaired unilateral procedure of the opposite side
  with the same (equal, non-empty) set of levels dated within the window before it. A
  bilateral procedure counts as one.
- Voided events count for nothing, everywhere: a voided procedure takes its outcomes with it.

Ordering never depends on recording order: procedures sort by (date of service, event id),
outcomes by (assessment date, event id).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from domain.events import PatientRegion, RecordedEvent
from projections.calendar import Span, months, within
from projections.relief import (
    ReliefTest,
    SustainedRelief,
    earliest_meets,
    latest_meets,
    sustained,
)

EPISODE_GAP = months(24)
FIRST_YEAR = months(12)
OPPOSITE = {"left": "right", "right": "left"}


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    procedure_event_id: str
    assessed_on: date
    pain_relief_percent: float
    functional_improvement: bool
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Procedure:
    """A non-voided procedure with its non-voided outcomes (in assessment order)."""

    event_id: str
    region: str
    family: str
    date_of_service: date
    codes: tuple[tuple[str, int], ...]
    intent: str
    laterality: str | None
    levels: tuple[str, ...]
    agent: str | None
    indication: str | None
    approach: str | None
    device_type: str | None
    authorization_id: str | None
    recorded_at: datetime
    outcomes: tuple[Outcome, ...] = ()
    provider_id: str | None = None

    @property
    def primary_cpt(self) -> str:
        return self.codes[0][0]

    def units(self, *cpts: str) -> int:
        return sum(u for c, u in self.codes if c in cpts)

    def meets(self, test: ReliefTest, on: date) -> bool | None:
        """ "Meets T" as of ``on``: the latest counted outcome meets T; None when none."""
        return latest_meets(self.outcomes, test, on)

    def earliest_meets(self, test: ReliefTest, on: date) -> bool | None:
        return earliest_meets(self.outcomes, test, on)

    def sustained(self, test: ReliefTest, length: Span, on: date) -> SustainedRelief:
        return sustained(self.date_of_service, self.outcomes, test, length, on)

    def counted_outcomes(self, on: date) -> list[Outcome]:
        return [o for o in self.outcomes if o.assessed_on <= on]


@dataclass(frozen=True, slots=True)
class RegionFact:
    """A surgery or a pathology diagnosis in a region: it starts new episodes."""

    event_id: str
    kind: str  # "surgery" | "pathology"
    region: str
    date: date
    levels: tuple[str, ...] = ()
    surgery_kind: str | None = None
    icd10: str | None = None


@dataclass(frozen=True, slots=True)
class Authorization:
    authorization_id: str
    region: str
    family: str
    date_of_service: date
    policy_set: str
    decision: str | None
    next_eligible_date: date | None
    policy: dict[str, Any]
    recorded_at: datetime
    request: dict[str, Any] = field(default_factory=dict)  # the request as sent

    @property
    def approved(self) -> bool:
        return self.decision == "eligible"


class EpisodeReason(StrEnum):
    FIRST_PROCEDURE = "first_procedure"
    TWO_YEAR_GAP = "two_year_gap"
    SURGERY = "surgery"
    PATHOLOGY = "pathology"


@dataclass(frozen=True, slots=True)
class Episode:
    number: int  # 1-based within the region and family
    start: date
    reason: EpisodeReason
    procedures: tuple[Procedure, ...]

    @property
    def first_year_end(self) -> date:
        """First year of treatment: DOS < this date."""
        return FIRST_YEAR.after(self.start)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a procedure on ``on`` falls in its region-family history: computed from prior
    procedures only (dated strictly before ``on``)."""

    on: date
    episode_number: int
    episode_start: date
    new_episode: bool
    reason: EpisodeReason
    position: int  # 1-based position of the procedure on ``on`` within its episode
    prior_in_episode: tuple[Procedure, ...]
    previous: Procedure | None  # latest prior procedure of the family (any episode)

    @property
    def first_year(self) -> bool:
        return self.on < FIRST_YEAR.after(self.episode_start)

    @property
    def first_year_count(self) -> int:
        """Prior procedures of this episode dated in its first year of treatment."""
        end = FIRST_YEAR.after(self.episode_start)
        return sum(1 for p in self.prior_in_episode if p.date_of_service < end)


@dataclass(frozen=True, slots=True)
class Pairing:
    """Bilateral pairing of a family's unilateral procedures under one window."""

    partner_of: dict[str, str]  # event id -> event id of its pair (both directions)

    def counted(self, procedures: Iterable[Procedure]) -> int:
        """How many procedures count toward a cap: a pair with both members in
        ``procedures`` counts once."""
        chosen = list(procedures)
        ids = {p.event_id for p in chosen}
        pairs = (
            sum(
                1
                for p in chosen
                if p.event_id in self.partner_of and self.partner_of[p.event_id] in ids
            )
            // 2
        )
        return len(chosen) - pairs


@dataclass(frozen=True, slots=True)
class FamilyState:
    """One region and family: its procedures in date order and its episodes."""

    region: str
    family: str
    procedures: tuple[Procedure, ...]
    episodes: tuple[Episode, ...]
    boundaries: tuple[RegionFact, ...]  # surgeries and pathologies in the region
    episode_of: dict[str, int] = field(default_factory=dict)  # event id -> episode number
    position_of: dict[str, int] = field(default_factory=dict)  # event id -> position
    # The procedures' dates, in the same (date) order: windows are found by bisection.
    dates: tuple[date, ...] = field(init=False, repr=False, compare=False)
    # The boundaries' dates when they are in date order (None: looked through one by one).
    boundary_dates: tuple[date, ...] | None = field(init=False, repr=False, compare=False)
    # Pairings already worked out on this (immutable) state, by window.
    memo: dict[Span, Pairing] = field(init=False, repr=False, compare=False, default_factory=dict)
    ids: dict[str, Procedure] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", tuple(p.date_of_service for p in self.procedures))
        days = tuple(f.date for f in self.boundaries)
        ordered = all(a <= b for a, b in pairwise(days))
        object.__setattr__(self, "boundary_dates", days if ordered else None)

    @property
    def by_id(self) -> dict[str, Procedure]:
        """The family's procedures by event id."""
        if not self.ids and self.procedures:
            self.ids.update((p.event_id, p) for p in self.procedures)
        return self.ids

    # -- the procedures relative to a date

    def prior(self, on: date) -> list[Procedure]:
        """Procedures dated strictly before ``on``."""
        return list(self.procedures[: bisect_left(self.dates, on)])

    def previous(self, on: date) -> Procedure | None:
        index = bisect_left(self.dates, on)
        return self.procedures[index - 1] if index else None

    def on_date(self, on: date) -> list[Procedure]:
        return list(self.procedures[bisect_left(self.dates, on) : bisect_right(self.dates, on)])

    def in_window(self, end: date, length: Span, *, before: date | None = None) -> list[Procedure]:
        """Procedures in the rolling window of ``length`` ending on ``end`` (dated strictly
        after ``end - length``, on or before ``end``); with ``before``, only those dated
        strictly before it."""
        low = bisect_right(self.dates, length.before(end))
        high = bisect_right(self.dates, end)
        if before is not None:
            high = min(high, bisect_left(self.dates, before))
        return list(self.procedures[low:high])

    def count_in_window(self, end: date, length: Span, *, before: date | None = None) -> int:
        return len(self.in_window(end, length, before=before))

    # -- episodes

    def _starts_new_episode(self, previous: Procedure | None, on: date) -> EpisodeReason | None:
        if previous is None:
            return EpisodeReason.FIRST_PROCEDURE
        if self.boundary_dates is not None:  # in date order: the first one after previous
            index = bisect_right(self.boundary_dates, previous.date_of_service)
            found = self.boundaries[index] if index < len(self.boundaries) else None
            if found is not None and found.date <= on:
                return EpisodeReason.SURGERY if found.kind == "surgery" else EpisodeReason.PATHOLOGY
        else:
            for fact in self.boundaries:
                if previous.date_of_service < fact.date <= on:
                    kind = fact.kind
                    return EpisodeReason.SURGERY if kind == "surgery" else EpisodeReason.PATHOLOGY
        if on >= EPISODE_GAP.after(previous.date_of_service):
            return EpisodeReason.TWO_YEAR_GAP
        return None

    def placement(self, on: date) -> Placement:
        """Episode and position of a (proposed) procedure of this family on ``on``."""
        prior = self.prior(on)
        previous = prior[-1] if prior else None
        reason = self._starts_new_episode(previous, on)
        if reason is not None:
            # Episodes are numbered in date order: the previous procedure's is the last one.
            before = self.episode_of.get(previous.event_id) if previous is not None else 0
            if before is None:
                before = len({self.episode_of[p.event_id] for p in prior})
            return Placement(
                on=on,
                episode_number=before + 1,
                episode_start=on,
                new_episode=True,
                reason=reason,
                position=1,
                prior_in_episode=(),
                previous=previous,
            )
        assert previous is not None
        number = self.episode_of[previous.event_id]
        episode = self.episodes[number - 1]
        # An episode is a run of procedures in date order, the previous procedure its last
        # one dated before ``on``.
        position = self.position_of.get(previous.event_id)
        in_episode = (
            episode.procedures[:position]
            if position is not None
            else tuple(p for p in prior if self.episode_of[p.event_id] == number)
        )
        return Placement(
            on=on,
            episode_number=number,
            episode_start=episode.start,
            new_episode=False,
            reason=episode.reason,
            position=len(in_episode) + 1,
            prior_in_episode=in_episode,
            previous=previous,
        )

    def first_year_count(self, on: date) -> int:
        """Procedures of the episode of ``on`` dated before ``on`` and in its first year."""
        return self.placement(on).first_year_count

    def episode_for(self, procedure: Procedure) -> Episode:
        """The episode a recorded procedure of this family belongs to."""
        return self.episodes[self.episode_of[procedure.event_id] - 1]

    def in_first_year(self, procedure: Procedure) -> bool:
        """Whether a recorded procedure falls in the first year of its episode."""
        return procedure.date_of_service < self.episode_for(procedure).first_year_end

    # -- bilateral pairs

    def _paired(self, window: Span) -> Pairing:
        """Pair unilateral procedures in date order under ``window``, once per state: the
        unpaired candidates wait in queues by (side, levels), so each procedure looks only
        at those it could pair with. Equivalent to scanning every earlier unpaired
        procedure in date order: the window holds a suffix of each queue (``within`` is
        monotone in the earlier date), and a candidate outside it for one procedure is
        outside it for every later one."""
        found = self.memo.get(window)
        if found is not None:
            return found
        partner_of: dict[str, str] = {}
        waiting: dict[tuple[str, frozenset[str]], deque[Procedure]] = {}
        for proc in self.procedures:
            if proc.laterality not in OPPOSITE or not proc.levels:
                continue
            levels = frozenset(proc.levels)
            queue = waiting.get((OPPOSITE[proc.laterality], levels))
            while queue and not within(proc.date_of_service, queue[0].date_of_service, window):
                queue.popleft()  # too old for this procedure, so for every later one
            if queue:
                candidate = queue.popleft()
                partner_of[proc.event_id] = candidate.event_id
                partner_of[candidate.event_id] = proc.event_id
            else:
                waiting.setdefault((proc.laterality, levels), deque()).append(proc)
        pairing = self.memo[window] = Pairing(partner_of)
        return pairing

    def pairing(self, window: Span, *, through: date | None = None) -> Pairing:
        """Pair unilateral procedures in date order under ``window``; with ``through``, only
        procedures dated on or before it take part. Pairs form in date order, so those
        are the pairs of the whole history both of whose procedures are dated by then."""
        full = self._paired(window)
        if through is None:
            return full
        kept = {p.event_id for p in self.procedures[: bisect_right(self.dates, through)]}
        return Pairing({a: b for a, b in full.partner_of.items() if a in kept and b in kept})

    def partner_for(
        self, on: date, laterality: str | None, levels: Sequence[str], window: Span
    ) -> Procedure | None:
        """The prior unilateral procedure a proposed one on ``on`` would pair with: the
        earliest still-unpaired opposite-side procedure at the same levels within ``window``
        before it. Pairs form in date order, so procedures dated after ``on`` play no part:
        a procedure is still unpaired on ``on`` when its partner in the whole history (if
        any) is dated after it. Only the procedures within the window are looked at."""
        if laterality not in OPPOSITE or not levels:
            return None
        side, wanted = OPPOSITE[laterality], frozenset(levels)
        partner_of = self._paired(window).partner_of
        index = bisect_right(self.dates, on)
        found: Procedure | None = None
        # Those within the window of ``on`` are the latest ones dated by then: walk back.
        while index > 0 and within(on, self.dates[index - 1], window):
            index -= 1
            proc = self.procedures[index]
            if proc.laterality != side or frozenset(proc.levels) != wanted:
                continue
            partner = partner_of.get(proc.event_id)
            if partner is None or self._date_of(partner) > on:
                found = proc
        return found

    def _date_of(self, event_id: str) -> date:
        return self.by_id[event_id].date_of_service

    def counted_in_window(
        self, end: date, length: Span, window: Span, *, before: date | None = None
    ) -> int:
        """Procedures in the rolling window, bilateral pairs counted once."""
        return self.pairing(window).counted(self.in_window(end, length, before=before))


@dataclass(slots=True)
class _StateIndex:
    """A patient state's procedures by family and their dates (``()``: not in date order)."""

    by_family: dict[str, list[Procedure]] = field(default_factory=dict)
    dates: tuple[date, ...] | None = None


@dataclass(frozen=True, slots=True)
class PatientState:
    """Everything the rules consult about one patient, as known at ``as_of``."""

    patient_id: str
    as_of: datetime | None
    families: dict[tuple[str, str], FamilyState]
    procedures: tuple[Procedure, ...]  # every non-voided procedure, all regions, date order
    facts: tuple[RegionFact, ...]
    authorizations: tuple[Authorization, ...]
    voided: frozenset[str]
    # Looked up by family and by date, worked out on first use (the state is immutable).
    index: _StateIndex = field(
        init=False, repr=False, compare=False, default_factory=lambda: _StateIndex()
    )

    def family(self, region: str, family: str) -> FamilyState:
        """The state of one region and family (empty when the patient has none)."""
        found = self.families.get((region, family))
        if found is not None:
            return found
        return FamilyState(
            region=region,
            family=family,
            procedures=(),
            episodes=(),
            boundaries=self._boundaries(region),
        )

    def _boundaries(self, region: str) -> tuple[RegionFact, ...]:
        return tuple(f for f in self.facts if f.region == region)

    def surgeries(self, region: str) -> list[RegionFact]:
        return [f for f in self.facts if f.region == region and f.kind == "surgery"]

    def of_family(self, family: str, *, region: str | None = None) -> list[Procedure]:
        """Every procedure of a family in any region (or in one), date order."""
        index = self.index
        if not index.by_family and self.procedures:
            for p in self.procedures:
                index.by_family.setdefault(p.family, []).append(p)
        return [p for p in index.by_family.get(family, ()) if region is None or p.region == region]

    def _dated(self, low: date, high: date) -> Sequence[Procedure]:
        """The procedures that may be dated from ``low`` to ``high``: found by bisection
        when the procedures are in date order (as the fold leaves them), else all."""
        index = self.index
        if index.dates is None:
            dates = tuple(p.date_of_service for p in self.procedures)
            ordered = all(a <= b for a, b in pairwise(dates))
            index.dates = dates if ordered else ()
        if not index.dates and self.procedures:
            return self.procedures
        return self.procedures[bisect_left(index.dates, low) : bisect_right(index.dates, high)]

    def on_date(self, on: date, families: Iterable[str] | None = None) -> list[Procedure]:
        """The patient's procedures on ``on``, any region."""
        wanted = set(families) if families is not None else None
        return [
            p
            for p in self._dated(on, on)
            if p.date_of_service == on and (wanted is None or p.family in wanted)
        ]

    def near(
        self, on: date, days_apart: int, families: Iterable[str], exclude_region: str | None = None
    ) -> list[Procedure]:
        """Procedures of ``families`` dated 0 < |DOS - on| < ``days_apart`` days, in other
        regions than ``exclude_region``."""
        wanted = set(families)
        try:
            span = timedelta(days=max(0, days_apart))
            candidates = self._dated(on - span, on + span)
        except OverflowError:  # a span past the calendar's ends: look at every one
            candidates = self.procedures
        return [
            p
            for p in candidates
            if p.family in wanted
            and p.region != exclude_region
            and 0 < abs((p.date_of_service - on).days) < days_apart
        ]

    def procedure(self, event_id: str) -> Procedure | None:
        for p in self.procedures:
            if p.event_id == event_id:
                return p
        return None

    def before(self, on: date, *, excluding: str | None = None) -> PatientState:
        """The state a procedure dated ``on`` is judged against, as if proposed that day:
        the procedures dated before ``on`` and the others of that same date (all but
        ``excluding``); facts and authorizations unchanged. Episodes and positions only
        depend on earlier procedures, so they are those of the full state."""
        kept = [p for p in self.procedures if p.date_of_service <= on and p.event_id != excluding]
        grouped: dict[tuple[str, str], list[Procedure]] = {}
        for p in kept:
            grouped.setdefault((p.region, p.family), []).append(p)
        families = {
            key: _family_state(key[0], key[1], procs, self._boundaries(key[0]))
            for key, procs in grouped.items()
        }
        return replace(self, families=families, procedures=tuple(kept))


def fold(
    events: Iterable[RecordedEvent], as_of: datetime | None = None, patient_id: str | None = None
) -> PatientState:
    """Fold a patient's recorded events (any order, any regions) into its state as known at
    ``as_of``."""
    known = [r for r in events if as_of is None or r.event.timestamp <= as_of]
    voided = frozenset(
        r.event.voided_event_id for r in known if isinstance(r.event, PatientRegion.EventVoided)
    )
    raw_procs: list[tuple[RecordedEvent, PatientRegion.ProcedurePerformed]] = []
    outcomes: dict[str, list[Outcome]] = {}
    facts: list[RegionFact] = []
    requested: dict[str, tuple[str, PatientRegion.AuthorizationRequested]] = {}
    decided: dict[str, PatientRegion.AuthorizationDecided] = {}
    pid = patient_id
    for r in known:
        e = r.event
        pid = pid or r.patient_id
        if getattr(e, "event_id", None) in voided:
            continue
        if isinstance(e, PatientRegion.ProcedurePerformed):
            raw_procs.append((r, e))
        elif isinstance(e, PatientRegion.OutcomeReported):
            outcomes.setdefault(e.procedure_event_id, []).append(
                Outcome(
                    e.event_id,
                    e.procedure_event_id,
                    e.assessed_on,
                    e.pain_relief_percent,
                    e.functional_improvement,
                    e.timestamp,
                )
            )
        elif isinstance(e, PatientRegion.SurgeryPerformed):
            facts.append(
                RegionFact(
                    e.event_id, "surgery", r.region, e.date, tuple(e.levels), surgery_kind=e.kind
                )
            )
        elif isinstance(e, PatientRegion.PathologyDiagnosed):
            facts.append(RegionFact(e.event_id, "pathology", r.region, e.date, icd10=e.icd10))
        elif isinstance(e, PatientRegion.AuthorizationRequested):
            requested[e.authorization_id] = (r.region, e)
        elif isinstance(e, PatientRegion.AuthorizationDecided):
            decided[e.authorization_id] = e

    procedures: list[Procedure] = []
    for r, e in raw_procs:
        own = outcomes.get(e.event_id, [])
        own.sort(key=lambda o: (o.assessed_on, o.event_id))
        procedures.append(
            Procedure(
                event_id=e.event_id,
                region=r.region,
                family=e.family,
                date_of_service=e.date_of_service,
                codes=tuple((c.cpt, c.units) for c in e.codes),
                intent=e.intent,
                laterality=e.laterality,
                levels=tuple(e.levels),
                agent=e.agent,
                indication=e.indication,
                approach=e.approach,
                device_type=e.device_type,
                authorization_id=e.authorization_id,
                recorded_at=e.timestamp,
                outcomes=tuple(own),
                provider_id=e.provider_id,
            )
        )
    procedures.sort(key=lambda p: (p.date_of_service, p.event_id))
    facts.sort(key=lambda f: (f.date, f.event_id))

    grouped: dict[tuple[str, str], list[Procedure]] = {}
    for p in procedures:
        grouped.setdefault((p.region, p.family), []).append(p)
    families = {
        key: _family_state(key[0], key[1], procs, tuple(f for f in facts if f.region == key[0]))
        for key, procs in grouped.items()
    }
    authorizations = _authorizations(requested, decided)
    state = PatientState(
        patient_id=pid or "",
        as_of=as_of,
        families=families,
        procedures=tuple(procedures),
        facts=tuple(facts),
        authorizations=authorizations,
        voided=voided,
    )
    state.index.dates = tuple(p.date_of_service for p in procedures)  # sorted above
    return state


def authorizations_of(
    events: Iterable[RecordedEvent], voided: frozenset[str]
) -> tuple[Authorization, ...]:
    """The authorizations :func:`fold` gives for ``events`` (already limited to what is
    known) when ``voided`` are the voided event ids: a state's authorizations depend on
    nothing else, so a state can be given the authorizations of a few events less without
    folding everything again (the audit's "now" leaves out each decision's own)."""
    requested: dict[str, tuple[str, PatientRegion.AuthorizationRequested]] = {}
    decided: dict[str, PatientRegion.AuthorizationDecided] = {}
    for r in events:
        e = r.event
        if isinstance(e, PatientRegion.AuthorizationRequested):
            if e.event_id not in voided:
                requested[e.authorization_id] = (r.region, e)
        elif isinstance(e, PatientRegion.AuthorizationDecided) and e.event_id not in voided:
            decided[e.authorization_id] = e
    return _authorizations(requested, decided)


def _authorizations(
    requested: Mapping[str, tuple[str, PatientRegion.AuthorizationRequested]],
    decided: Mapping[str, PatientRegion.AuthorizationDecided],
) -> tuple[Authorization, ...]:
    return tuple(
        sorted(
            (
                Authorization(
                    authorization_id=a.authorization_id,
                    region=region,
                    family=a.family,
                    date_of_service=a.date_of_service,
                    policy_set=a.policy_set,
                    decision=decided[a.authorization_id].decision
                    if a.authorization_id in decided
                    else None,
                    next_eligible_date=decided[a.authorization_id].next_eligible_date
                    if a.authorization_id in decided
                    else None,
                    policy=decided[a.authorization_id].policy
                    if a.authorization_id in decided
                    else {},
                    recorded_at=a.timestamp,
                    request=dict(a.request),
                )
                for region, a in requested.values()
            ),
            key=lambda a: (a.date_of_service, a.authorization_id),
        )
    )


def _family_state(
    region: str, family: str, procedures: list[Procedure], boundaries: tuple[RegionFact, ...]
) -> FamilyState:
    shell = FamilyState(region, family, tuple(procedures), (), boundaries)
    episodes: list[Episode] = []
    current: list[Procedure] = []
    start: date | None = None
    reason = EpisodeReason.FIRST_PROCEDURE
    episode_of: dict[str, int] = {}
    position_of: dict[str, int] = {}
    previous: Procedure | None = None
    for p in procedures:
        new_reason = shell._starts_new_episode(previous, p.date_of_service)
        if new_reason is not None:
            if current:
                assert start is not None
                episodes.append(Episode(len(episodes) + 1, start, reason, tuple(current)))
            current, start, reason = [], p.date_of_service, new_reason
        current.append(p)
        episode_of[p.event_id] = len(episodes) + 1
        position_of[p.event_id] = len(current)
        previous = p
    if current:
        assert start is not None
        episodes.append(Episode(len(episodes) + 1, start, reason, tuple(current)))
    return FamilyState(
        region, family, tuple(procedures), tuple(episodes), boundaries, episode_of, position_of
    )
