"""A synthetic population: realistic, contract-valid patient histories for the demo, the
compliance report, the benchmarks and the tests.

:func:`generate` yields JSON lines (one event or authorization request a line, each with its
``patient_id``), deterministic for a seed: the same arguments give the same bytes. Every
patient draws from its own random stream (seeded by the population seed and the patient's
number), so a population of ``N`` is a prefix of a population of ``N + 1``.

What a patient's history looks like
-----------------------------------
Each patient is treated in one spinal region, sometimes two or three, over several years.
A region sees courses of care of one family at a time (esi, facet blocks then rfa, sij,
sympathetic blocks, spinal cord stimulation trial then implant, intrathecal trial then pump
implant and refills, the odd cyst aspiration or investigational injection), with initial and
therapeutic phases, outcomes for most procedures (some assessed late, some missing, some
poor), and surgery or a new pathology that starts a new episode. Course lengths and the
number of courses follow a long tail, so a few patients have hundreds of events.

Before a procedure the provider asks for an authorization (an ``authorization_request``
line, see :data:`application.bulk_import.AUTHORIZATION_REQUEST`) unless an approved one still covers it. The
generator decides each request exactly as the import will (the same fold and policy engine,
on the events that precede it in the import's order, see :func:`application.bulk_import.line_key`): approved, the
procedure is done (a few days later at most); denied, it is usually postponed to the next
eligible date. A configurable share of procedures is done without asking (planted
*unauthorized*) and of denied ones is done anyway (planted *over-limit*). Some procedures are
recorded in error and voided, some lines are resent as duplicates.

:class:`Truth` records what was planted: the procedures no approved authorization covers,
the procedures done although the rules denied them (with the rules that failed), and counts.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from application.bulk_import import AUTHORIZATION_REQUEST, RANK
from domain.catalog import Region, classify
from domain.events import BilledCode, PatientRegion, RecordedEvent, patient_region_id
from policies import registry
from policies.engine import Proposed, decide
from projections.state import fold

Order = Literal["patient", "date", "shuffled"]

COVER_BEFORE: Final = timedelta(days=7)
COVER_AFTER: Final = timedelta(days=60)

DEFAULT_END: Final = date(2025, 12, 31)
DEFAULT_YEARS: Final = 5


def clinical_date_of(line: dict[str, Any]) -> str | None:
    """The clinical date (ISO text) a line is ordered by, or None for voids and bad lines."""
    kind = line.get("type")
    if kind == "procedure_performed":
        value = line.get("date_of_service")
    elif kind == "outcome_reported":
        value = line.get("assessed_on")
    elif kind in ("surgery_performed", "pathology_diagnosed"):
        value = line.get("date")
    elif kind == AUTHORIZATION_REQUEST:
        procedure = line.get("procedure")
        value = procedure.get("date_of_service") if isinstance(procedure, dict) else None
    else:
        value = None
    return value if isinstance(value, str) else None


# ------------------------------------------------------------------------------ vocabulary

LEVELS: Final[dict[Region, tuple[str, ...]]] = {
    Region.CERVICAL: ("C3-C4", "C4-C5", "C5-C6", "C6-C7", "C7-T1"),
    Region.THORACIC: ("T6-T7", "T7-T8", "T8-T9", "T9-T10", "T10-T11", "T11-T12"),
    Region.LUMBAR: ("L2-L3", "L3-L4", "L4-L5", "L5-S1"),
}
ICD10: Final[dict[Region, tuple[str, ...]]] = {
    Region.CERVICAL: ("M50.12", "M47.812", "M54.12"),
    Region.THORACIC: ("M51.14", "M47.814", "M54.14"),
    Region.LUMBAR: ("M51.16", "M48.061", "M47.816", "M54.16", "M46.1"),
}
# Families a region's courses are drawn from, with weights.
FAMILY_WEIGHTS: Final[dict[Region, tuple[tuple[str, float], ...]]] = {
    Region.LUMBAR: (
        ("esi", 40),
        ("facet", 22),
        ("sij", 10),
        ("sympathetic", 5),
        ("scs", 6),
        ("pump", 4),
        ("investigational", 1),
    ),
    Region.CERVICAL: (("esi", 50), ("facet", 30), ("sympathetic", 8), ("cyst_aspiration", 3)),
    Region.THORACIC: (("esi", 45), ("facet", 25), ("sympathetic", 15), ("scs", 8)),
}
REGION_WEIGHTS: Final = ((Region.LUMBAR, 70), (Region.CERVICAL, 22), (Region.THORACIC, 8))
# Families the default set does not govern are asked under a set that does.
POLICY_SET_FOR: Final[dict[str, str]] = {
    "cyst_aspiration": "cohere",
    "investigational": "bcbs-ma",
}
DEVICE_REASONS: Final[dict[str, tuple[str, ...]]] = {
    "replacement": ("battery_depletion", "malfunction"),
    "revision": ("lead_migration", "infection", "loss_of_effectiveness"),
}


def _pick(rng: random.Random, weighted: Iterable[tuple[Any, float]]) -> Any:
    items = list(weighted)
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


# ------------------------------------------------------------------------------ truth


@dataclass
class Truth:
    """What the generator planted, for tests and reports to check against.

    ``unauthorized``: performed, non-voided procedures that no approved authorization covers
    (same patient, region and family; date of service from 7 days before to 60 days after
    the authorized date), with why (``no_request``, ``denied``, ``pending``).
    Families the authorizations' policy set does not govern are listed too (filter by
    ``family``). ``over_limit``: performed, non-voided procedures the rules denied at the
    time (decided on the history before them, documentation complete) for a frequency or
    interval rule (a time rule: waiting cures it), with those ``rules`` and the
    ``other_failed_rules``. ``authorizations``: each request's decision as the import will
    store it. ``counts``: lines by type, duplicates, decisions.
    """

    unauthorized: list[dict[str, Any]] = field(default_factory=list)
    over_limit: list[dict[str, Any]] = field(default_factory=list)
    authorizations: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def as_json(self) -> dict[str, Any]:
        return {
            "coverage_window_days": {
                "before": COVER_BEFORE.days,
                "after": COVER_AFTER.days,
            },
            "unauthorized": self.unauthorized,
            "over_limit": self.over_limit,
            "authorizations": self.authorizations,
            "counts": dict(sorted(self.counts.items())),
        }


# ------------------------------------------------------------------------------ config


@dataclass(frozen=True, slots=True)
class PopulationConfig:
    """Knobs of :func:`generate`. Shares are per performed procedure (unauthorized,
    over-limit, voided) or per line (duplicate)."""

    patients: int
    seed: int = 0
    end: date = DEFAULT_END
    years: int = DEFAULT_YEARS
    policy_set: str = "nia"
    unauthorized_share: float = 0.03
    over_limit_share: float = 0.03
    void_share: float = 0.01
    duplicate_share: float = 0.02
    id_prefix: str = "P"
    order: Order = "patient"

    @property
    def start(self) -> date:
        return self.end - timedelta(days=365 * self.years)


# ------------------------------------------------------------------------------ one patient


@dataclass
class _Line:
    key: tuple[int, int, int]
    body: dict[str, Any]
    event: RecordedEvent | None = None  # what the fold sees (region events only)


@dataclass
class _Auth:
    authorization_id: str
    region: Region
    family: str
    dos: date
    decision: str


@dataclass
class _Done:
    event_id: str
    region: Region
    family: str
    dos: date
    cause: str  # why no approval was asked or given: approved | no_request | denied | pending
    failed_rules: tuple[str, ...] = ()


class _Patient:
    """One patient's history, built in clinical-date order across regions."""

    T0 = datetime(2000, 1, 1, tzinfo=UTC)

    def __init__(self, config: PopulationConfig, index: int, providers: int) -> None:
        self.config = config
        self.rng = random.Random(f"injtrack-population/{config.seed}/{index}")
        self.patient_id = f"{config.id_prefix}{index:07d}"
        self.lines: list[_Line] = []
        self.seq = 0
        self.n_events = 0
        self.n_auths = 0
        self.versions: dict[Region, int] = {}
        self.auths: list[_Auth] = []
        self.done: list[_Done] = []
        self.voided: set[str] = set()
        # A patient sees one to three providers, drawn from a pool where a few providers
        # see many patients (10-digit ids shaped like NPIs).
        self.providers = [
            f"{1000000000 + int(providers * self.rng.random() ** 2) * 7919 % 999999999}"
            for _ in range(1 + int(self.rng.random() < 0.3) + int(self.rng.random() < 0.1))
        ]

    # -- keys and lines

    def _key(self, day: date, kind: str) -> tuple[int, int, int]:
        self.seq += 1
        return (day.toordinal(), RANK[kind], self.seq)

    def _event_id(self, letter: str) -> str:
        self.n_events += 1
        return f"{self.patient_id}-{letter}{self.n_events}"

    def _add(
        self,
        day: date,
        body: dict[str, Any],
        region: Region | None = None,
        event_class: type[Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> _Line:
        key = self._key(day, body["type"])
        line = _Line(key, body)
        if region is not None and event_class is not None and fields is not None:
            version = self.versions.get(region, 1) + 1
            self.versions[region] = version
            event = event_class(
                originator_id=patient_region_id(self.patient_id, region),
                originator_version=version,
                timestamp=self.T0 + timedelta(seconds=self.seq),
                fingerprint="-",
                **fields,
            )
            line.event = RecordedEvent(self.patient_id, region.value, event)
        self.lines.append(line)
        return line

    # -- events

    def procedure(
        self, spec: dict[str, Any], authorization_id: str | None, letter: str = "p"
    ) -> str:
        event_id = self._event_id(letter)
        dos = date.fromisoformat(spec["date_of_service"])
        region = Region(spec["region"])
        body: dict[str, Any] = {
            "type": "procedure_performed",
            "event_id": event_id,
            "patient_id": self.patient_id,
        }
        body.update(spec)
        if authorization_id is not None:
            body["authorization_id"] = authorization_id
        body["provider_id"] = self.rng.choice(self.providers)
        proposed = _proposed(spec)
        fields = {
            "event_id": event_id,
            "date_of_service": dos,
            "codes": [BilledCode(c["cpt"], c.get("units", 1)) for c in spec["codes"]],
            "family": proposed.family,
            "intent": proposed.intent,
            "laterality": proposed.laterality,
            "levels": list(proposed.levels),
            "agent": proposed.agent,
            "indication": proposed.indication,
            "approach": proposed.approach,
            "device_type": proposed.device_type,
            "authorization_id": authorization_id,
            "provider_id": body["provider_id"],
        }
        self._add(dos, body, region, PatientRegion.ProcedurePerformed, fields)
        return event_id

    def outcome(
        self, procedure_event_id: str, region: Region, on: date, relief: float, improved: bool
    ) -> str:
        event_id = self._event_id("o")
        body = {
            "type": "outcome_reported",
            "event_id": event_id,
            "patient_id": self.patient_id,
            "procedure_event_id": procedure_event_id,
            "assessed_on": on.isoformat(),
            "pain_relief_percent": relief,
            "functional_improvement": improved,
        }
        fields = {
            "event_id": event_id,
            "procedure_event_id": procedure_event_id,
            "assessed_on": on,
            "pain_relief_percent": float(relief),
            "functional_improvement": improved,
        }
        self._add(on, body, region, PatientRegion.OutcomeReported, fields)
        return event_id

    def void(self, target: _Line, reason: str) -> None:
        assert target.event is not None
        event_id = self._event_id("v")
        voided = target.body["event_id"]
        body = {
            "type": "event_voided",
            "event_id": event_id,
            "patient_id": self.patient_id,
            "voided_event_id": voided,
            "reason": reason,
        }
        fields = {"event_id": event_id, "voided_event_id": voided, "reason": reason}
        day = date.fromordinal(target.key[0])
        self._add(day, body, Region(target.event.region), PatientRegion.EventVoided, fields)
        self.voided.add(voided)

    def episode_fact(self, region: Region, day: date) -> None:
        """Surgery or a new pathology in the region: a new episode starts."""
        event_id = self._event_id("f")
        if self.rng.random() < 0.5:
            levels = sorted(self.rng.sample(LEVELS[region], k=self.rng.choice((1, 1, 2))))
            kind = self.rng.choice(("fusion", "decompression", "decompression", "other"))
            body = {
                "type": "surgery_performed",
                "event_id": event_id,
                "patient_id": self.patient_id,
                "date": day.isoformat(),
                "region": region.value,
                "levels": levels,
                "kind": kind,
            }
            fields = {"event_id": event_id, "date": day, "levels": levels, "kind": kind}
            self._add(day, body, region, PatientRegion.SurgeryPerformed, fields)
        else:
            icd10 = self.rng.choice(ICD10[region])
            body = {
                "type": "pathology_diagnosed",
                "event_id": event_id,
                "patient_id": self.patient_id,
                "date": day.isoformat(),
                "region": region.value,
                "icd10": icd10,
            }
            fields = {"event_id": event_id, "date": day, "icd10": icd10}
            self._add(day, body, region, PatientRegion.PathologyDiagnosed, fields)

    # -- deciding as the import will

    def covered(self, region: Region, family: str, dos: date) -> bool:
        return any(
            a.decision == "eligible"
            and a.region is region
            and a.family == family
            and a.dos - COVER_BEFORE <= dos <= a.dos + COVER_AFTER
            for a in self.auths
        )

    def request(
        self, spec: dict[str, Any], clinical: dict[str, Any]
    ) -> tuple[str, str, date | None, tuple[str, ...]]:
        """Ask for an authorization of ``spec``; returns its id, the decision, the next
        eligible date and the rules that failed."""
        self.n_auths += 1
        authorization_id = f"{self.patient_id}-a{self.n_auths}"
        family = _proposed(spec).family
        policy_set = POLICY_SET_FOR.get(family, self.config.policy_set)
        body = {
            "type": AUTHORIZATION_REQUEST,
            "authorization_id": authorization_id,
            "patient_id": self.patient_id,
            "policy_set": policy_set,
            "procedure": json.loads(json.dumps(spec)),
            "clinical": clinical,
        }
        dos = date.fromisoformat(spec["date_of_service"])
        line = self._add(dos, body)
        decision, next_date, failed = self._decide(policy_set, spec, clinical, line.key)
        self.auths.append(_Auth(authorization_id, Region(spec["region"]), family, dos, decision))
        return authorization_id, decision, next_date, failed

    def judge(
        self, spec: dict[str, Any], clinical: dict[str, Any]
    ) -> tuple[str, date | None, tuple[str, ...]]:
        """What the rules decide for ``spec`` where a request would stand, without asking."""
        family = _proposed(spec).family
        policy_set = POLICY_SET_FOR.get(family, self.config.policy_set)
        key = (
            date.fromisoformat(spec["date_of_service"]).toordinal(),
            RANK[AUTHORIZATION_REQUEST],
            self.seq + 1,
        )
        return self._decide(policy_set, spec, clinical, key)

    def _decide(
        self,
        policy_set: str,
        spec: dict[str, Any],
        clinical: dict[str, Any],
        key: tuple[int, int, int],
    ) -> tuple[str, date | None, tuple[str, ...]]:
        known = [line.event for line in self.lines if line.event is not None and line.key < key]
        state = fold(known, None, self.patient_id)
        result = decide(registry.get(policy_set), state, _proposed(spec), clinical)
        # Failed rules, time rules (frequency, interval: waiting cures them) first marked "@".
        failed = tuple(
            ("@" if r.time_rule else "") + r.rule for r in result.reasons if r.status == "fail"
        )
        return result.decision, result.next_eligible_date, failed


def _proposed(spec: dict[str, Any]) -> Proposed:
    region = Region(spec["region"])
    indication = spec.get("indication")
    codes = tuple((c["cpt"], c.get("units", 1)) for c in spec["codes"])
    kind = classify([c for c, _ in codes], region, indication)
    return Proposed(
        date_of_service=date.fromisoformat(spec["date_of_service"]),
        region=region.value,
        family=kind.family.value,
        codes=codes,
        intent=spec.get("intent", "therapeutic"),
        laterality=spec.get("laterality"),
        levels=tuple(spec.get("levels", ())),
        agent=spec.get("agent"),
        approach=spec.get("approach") or kind.approach,
        indication=indication,
        device_type=spec.get("device_type"),
    )


# ------------------------------------------------------------------------------ courses of care


@dataclass
class _Course:
    """One course of care of one family in one region; ``step`` counts procedures done."""

    region: Region
    family: str
    length: int
    step: int = 0
    side: str | None = None
    levels: tuple[str, ...] = ()
    approach: str | None = None
    stage: str = ""  # scs / pump: trial -> implant -> maintenance
    tries: int = 0
    rushed: bool = False  # planted over-limit: done even when denied


def _spec(patient: _Patient, course: _Course, day: date) -> dict[str, Any]:
    """The procedure a course does next, as a contract ``procedure`` object."""
    rng = patient.rng
    region, family = course.region, course.family
    cervical_thoracic = region is not Region.LUMBAR
    spec: dict[str, Any] = {"date_of_service": day.isoformat(), "region": region.value}
    codes: list[dict[str, Any]]
    if family == "esi":
        if course.approach == "transforaminal":
            primary = "64479" if cervical_thoracic else "64483"
            codes = [{"cpt": primary}]
            if len(course.levels) > 1:
                codes.append({"cpt": "64480" if cervical_thoracic else "64484"})
            spec["laterality"] = course.side
        else:
            codes = [{"cpt": "62321" if cervical_thoracic else "62323"}]
            spec["approach"] = course.approach
        spec["levels"] = list(course.levels)
        spec["agent"] = "steroid"
        spec["intent"] = "therapeutic"
    elif family == "facet":
        primary = "64490" if cervical_thoracic else "64493"
        codes = [{"cpt": primary}]
        if len(course.levels) > 1:
            codes.append({"cpt": "64491" if cervical_thoracic else "64494"})
        spec["levels"] = list(course.levels)
        spec["laterality"] = course.side
        spec["approach"] = "medial_branch"
        spec["intent"] = "diagnostic"
        spec["agent"] = "local_anesthetic"
    elif family == "rfa":
        codes = [{"cpt": "64633" if cervical_thoracic else "64635"}]
        if len(course.levels) > 1:
            codes.append({"cpt": "64634" if cervical_thoracic else "64636"})
        spec["levels"] = list(course.levels)
        spec["laterality"] = course.side
        spec["intent"] = "therapeutic"
    elif family == "sij":
        codes = [{"cpt": "27096"}]
        spec["laterality"] = course.side
        spec["intent"] = "diagnostic" if course.step == 0 else "therapeutic"
        spec["agent"] = "steroid" if course.step else "local_anesthetic"
    elif family == "sympathetic":
        code = {
            Region.CERVICAL: "64510",
            Region.THORACIC: rng.choice(("64520", "64530")),
            Region.LUMBAR: rng.choice(("64520", "64520", "64517")),
        }[region]
        codes = [{"cpt": code}]
        spec["laterality"] = course.side
        spec["agent"] = "local_anesthetic"
        spec["intent"] = "diagnostic" if course.step == 0 else "therapeutic"
    elif family == "scs":
        spec["device_type"] = "spinal_cord_stimulator"
        if course.stage == "trial":
            codes = [{"cpt": "63650"}]
            spec["intent"] = "trial"
        elif course.stage == "implant":
            codes = [{"cpt": "63650"}]
            spec["intent"] = "implant"
        elif rng.random() < 0.5:
            codes = [{"cpt": "63685"}]
            spec["intent"] = "replacement"
        else:
            codes = [{"cpt": "63663"}]
            spec["intent"] = "revision"
    elif family == "pump":
        if course.stage == "trial":
            codes = [{"cpt": "62323"}]
            spec["indication"] = "intrathecal_trial"
            spec["intent"] = "trial"
            spec["agent"] = "opioid"
        elif course.stage == "implant":
            codes = [{"cpt": "62362"}]
            spec["intent"] = "implant"
            spec["device_type"] = "programmable_pump"
            spec["indication"] = "chronic_pain"
            spec["agent"] = "opioid"
        else:
            codes = [{"cpt": rng.choice(("95990", "62369", "62370", "95991"))}]
            spec["intent"] = "therapeutic"
            spec["agent"] = "opioid"
    elif family == "cyst_aspiration":
        codes = [{"cpt": "64999"}]
        spec["indication"] = "facet_cyst_aspiration"
        spec["levels"] = list(course.levels)
        spec["laterality"] = course.side
    else:  # investigational
        codes = [{"cpt": "0627T"}]
        spec["levels"] = list(course.levels[:1])
    spec["codes"] = codes
    return spec


def _clinical(
    patient: _Patient, course: _Course, spec: dict[str, Any], complete: bool = False
) -> dict[str, Any]:
    """What the provider attests with the request: mostly complete, sometimes not
    (``complete``: everything attested, drawing nothing from the patient's random stream)."""
    rng = patient.rng
    clinical: dict[str, Any] = {
        "pain_score": 7
        if complete
        else rng.choice((6, 7, 7, 8, 8, 9))
        if rng.random() > 0.05
        else 5,
        "active_conservative_therapy": True,
        "initial_criteria_met": True,
    }
    if not complete and rng.random() < 0.03:
        del clinical["active_conservative_therapy"]  # documentation missing: pending
    if course.family == "sij":
        clinical["positive_provocative_exam"] = True
    if course.family in ("pump",):
        clinical["opioid_naive"] = False
    if course.family == "cyst_aspiration":
        clinical["synovial_cyst_confirmed"] = True
    if spec.get("intent") in ("replacement", "revision"):
        reasons = DEVICE_REASONS[spec["intent"]]
        clinical["device_reason"] = reasons[0] if complete else rng.choice(reasons)
    return clinical


def _interval(patient: _Patient, course: _Course) -> int:
    """Days to the next procedure of the course."""
    rng = patient.rng
    family = course.family
    if family in ("esi", "sij"):
        return rng.randint(15, 35) if course.step < 3 else rng.randint(75, 150)
    if family == "facet":
        return rng.randint(15, 40)
    if family == "rfa":
        return rng.randint(190, 400)
    if family == "sympathetic":
        return rng.randint(10, 30)
    if family == "scs":
        return rng.randint(20, 60) if course.stage == "implant" else rng.randint(900, 1600)
    if family == "pump":
        return rng.randint(14, 45) if course.stage != "maintenance" else rng.randint(30, 90)
    return rng.randint(120, 365)


def _new_course(patient: _Patient, region: Region) -> _Course:
    rng = patient.rng
    family = _pick(rng, FAMILY_WEIGHTS[region])
    # Long tail: most courses are short, a few run for years.
    length = 1 + min(int(rng.paretovariate(1.3)), 40)
    course = _Course(region, family, length)
    levels = LEVELS[region]
    first = rng.randrange(len(levels))
    n_levels = 2 if rng.random() < 0.3 and first + 1 < len(levels) else 1
    course.levels = tuple(levels[first : first + n_levels])
    course.side = _pick(rng, (("left", 4), ("right", 4), ("bilateral", 2)))
    if family == "esi":
        course.approach = _pick(rng, (("transforaminal", 6), ("interlaminar", 3), ("caudal", 1)))
        if course.approach == "caudal" and region is not Region.LUMBAR:
            course.approach = "interlaminar"
        if course.approach != "transforaminal":
            course.side = None
    if family in ("scs", "pump"):
        course.stage = "trial"
        course.length = 2 + (length if family == "scs" else length * 4)
        course.side = None
    if family in ("investigational", "cyst_aspiration"):
        course.length = 1
    return course


def _advance(patient: _Patient, course: _Course) -> None:
    """After a procedure: the next step, stage or family of the course."""
    course.step += 1
    course.tries = 0
    if course.family == "facet" and course.step >= 2:
        course.family = "rfa"  # two diagnostic blocks, then denervation
        course.step = 0
    if course.family in ("scs", "pump"):
        if course.stage == "trial":
            course.stage = "implant"
        elif course.stage == "implant":
            course.stage = "maintenance"
        if course.family == "scs" and course.stage == "maintenance":
            course.length = min(course.length, course.step + 1)


def _relief(patient: _Patient, course: _Course) -> tuple[float, bool]:
    rng = patient.rng
    poor = rng.random() < 0.2
    relief = round(rng.uniform(0, 45) if poor else rng.uniform(50, 95), 1)
    return relief, relief >= 50 and rng.random() < 0.8


def _simulate(patient: _Patient) -> None:
    """Build the patient's whole history in clinical-date order across regions."""
    config, rng = patient.config, patient.rng
    start, end = config.start, config.end
    span = (end - start).days
    regions = [_pick(rng, REGION_WEIGHTS)]
    for _ in range(2):
        if rng.random() < 0.15:
            extra = _pick(rng, REGION_WEIGHTS)
            if extra not in regions:
                regions.append(extra)
    # How many courses each region sees over the years: a long tail.
    queue: list[tuple[int, int, Region, _Course | None, int]] = []
    for n, region in enumerate(regions):
        first = start + timedelta(days=rng.randrange(max(1, span - 60)))
        courses_left = min(int(rng.paretovariate(1.2)), 40)
        heapq.heappush(queue, (first.toordinal(), n, region, None, courses_left))
    tie = len(regions)
    while queue:
        ordinal, _, region, course, courses_left = heapq.heappop(queue)
        day = date.fromordinal(ordinal)
        if day > end:
            continue
        if course is None or course.step >= course.length:
            if courses_left <= 0:
                continue
            if course is not None and rng.random() < 0.35:
                patient.episode_fact(region, day)
                day += timedelta(days=rng.randint(60, 200))
                if day > end:
                    continue
                # The new course starts that much later: back in the queue, so every region
                # is still built in clinical-date order (each request decided on exactly the
                # history the import will have before its date of service).
                course = _new_course(patient, region)
                tie += 1
                heapq.heappush(queue, (day.toordinal(), tie, region, course, courses_left - 1))
                continue
            course = _new_course(patient, region)
            courses_left -= 1
        next_day = _step(patient, course, day)
        tie += 1
        if next_day is not None:
            heapq.heappush(queue, (next_day.toordinal(), tie, region, course, courses_left))
        else:
            gap = timedelta(days=rng.randint(90, 700))
            course.step = course.length
            heapq.heappush(queue, ((day + gap).toordinal(), tie, region, course, courses_left))


def _in_force(policy_set: str, family: str, day: date) -> bool:
    """Whether a guideline of the set governing the family has a version in force on ``day``
    (a date of service before a guideline's first version is refused)."""
    firsts = [
        g.first_effective() for g in registry.get(policy_set).guidelines if family in g.families
    ]
    return any(first is None or first <= day for first in firsts)


def _step(patient: _Patient, course: _Course, day: date) -> date | None:
    """Do (or try) the course's next procedure on ``day``; the day of the next one, or None
    when the course ends."""
    config, rng = patient.config, patient.rng
    spec = _spec(patient, course, day)
    family = _proposed(spec).family
    if not _in_force(POLICY_SET_FOR.get(family, config.policy_set), family, day):
        return None  # before the guideline's first version: a request would be a 422
    planted_unauthorized = rng.random() < config.unauthorized_share
    rushed, course.rushed = course.rushed, False
    authorization_id: str | None = None
    decision = "eligible"
    failed: tuple[str, ...] = ()
    covered = patient.covered(course.region, family, day)
    if not planted_unauthorized and not covered:
        clinical = _clinical(patient, course, spec)
        authorization_id, decision, next_date, failed = patient.request(spec, clinical)
        # Investigational services are denied; some patients have them anyway.
        anyway = rushed or (family == "investigational" and rng.random() < 0.5)
        if decision != "eligible" and not (anyway and decision == "not_eligible"):
            # Not done: postponed to when the rules allow it, or the course ends.
            course.tries += 1
            if next_date is not None and course.tries <= 2 and next_date <= config.end:
                return next_date + timedelta(days=rng.randint(0, 10))
            return None
    else:
        # Done without asking (an earlier approval covers it, or planted unauthorized): what
        # would the rules have said, with the documentation complete?
        decision, _, failed = patient.judge(spec, _clinical(patient, course, spec, complete=True))
    # Performed (a few days after the authorized date at most).
    if authorization_id is not None and decision == "eligible" and rng.random() < 0.15:
        day += timedelta(days=rng.randint(1, 5))
        spec["date_of_service"] = day.isoformat()
    if day > config.end:
        return None
    linked = authorization_id if decision == "eligible" else None
    event_id = patient.procedure(spec, linked)
    cause = "approved"
    if planted_unauthorized:
        cause = "no_request"
    elif authorization_id is not None and decision != "eligible":
        cause = "denied"  # asked, denied, done anyway
    elif decision == "not_eligible":
        cause = "covered"  # an earlier approval covers it, the rules would deny it
    patient.done.append(_Done(event_id, course.region, family, day, cause, failed))
    if rng.random() < config.void_share:
        # A claim entered in error (a copy on the next day), voided.
        twin = dict(spec, date_of_service=(day + timedelta(days=1)).isoformat())
        if date.fromisoformat(twin["date_of_service"]) <= config.end:
            patient.procedure(twin, None, letter="x")
            patient.void(patient.lines[-1], "entered in error: duplicate claim")
    last_outcome = _outcomes(patient, course, spec, event_id, day)
    _advance(patient, course)
    if course.step >= course.length:
        return None
    if rng.random() < config.over_limit_share:
        # Planted: the next one is done too early, and done even when denied.
        course.rushed = True
        return day + timedelta(days=rng.randint(3, 12))
    following = day + timedelta(days=_interval(patient, course))
    if last_outcome is not None and course.family in SUSTAINED:
        following = max(following, last_outcome + timedelta(days=rng.randint(1, 14)))
    return following


# Families whose repeats need relief sustained for a span: a follow-up outcome is reported
# after that span (days after the procedure) before the provider asks again.
SUSTAINED: Final[dict[str, tuple[int, int]]] = {
    "esi": (62, 95),
    "sij": (62, 95),
    "rfa": (125, 170),
    "facet": (62, 95),
}


def _outcomes(
    patient: _Patient, course: _Course, spec: dict[str, Any], event_id: str, day: date
) -> date | None:
    """Report the procedure's outcomes (most are, some late, some never, some poor, a few
    voided and reported again); returns the last assessment date."""
    config, rng = patient.config, patient.rng
    family = _proposed(spec).family
    if family == "pump" and course.stage == "maintenance":
        return None  # refills: no outcome
    trial = spec.get("intent") == "trial"
    if not trial and rng.random() >= 0.85:
        return None  # never reported
    late = not trial and rng.random() < 0.1
    days = rng.randint(5, 12) if trial else rng.randint(90, 200) if late else rng.randint(10, 42)
    on = day + timedelta(days=days)
    if on > config.end:
        return None
    relief, improved = _relief(patient, course)
    patient.outcome(event_id, course.region, on, relief, improved)
    if rng.random() < config.void_share:
        patient.void(patient.lines[-1], "entered in error: wrong patient chart")
        patient.outcome(event_id, course.region, on, relief, improved)
    last = on
    span = SUSTAINED.get(family)
    if span is not None and relief >= 50 and not late and rng.random() < 0.85:
        follow_up = day + timedelta(days=rng.randint(*span))
        if follow_up <= config.end:
            sustained = round(max(0.0, min(100.0, relief + rng.uniform(-15, 5))), 1)
            patient.outcome(event_id, course.region, follow_up, sustained, improved)
            last = follow_up
    return last


# ------------------------------------------------------------------------------ the population


def _patient_lines(config: PopulationConfig, index: int, truth: Truth | None) -> list[_Line]:
    patient = _Patient(config, index, providers=max(10, config.patients // 25))
    _simulate(patient)
    lines = sorted(patient.lines, key=lambda line: line.key)
    if truth is not None:
        _account(patient, lines, truth)
    # Resent lines: a copy of a line, somewhere later in the patient's feed.
    placed = [(n, 0, line) for n, line in enumerate(lines)]
    for n, line in enumerate(lines):
        if patient.rng.random() < config.duplicate_share:
            placed.append((patient.rng.randint(n, len(lines) - 1), 1, line))
            if truth is not None:
                truth.count("duplicate_lines")
    placed.sort(key=lambda item: (item[0], item[1]))
    return [line for _, _, line in placed]


def _account(patient: _Patient, lines: list[_Line], truth: Truth) -> None:
    for line in lines:
        truth.count(f"lines.{line.body['type']}")
    truth.count("patients")
    for auth in patient.auths:
        truth.count(f"decisions.{auth.decision}")
        truth.authorizations[auth.authorization_id] = auth.decision
    for done in patient.done:
        if done.event_id in patient.voided:
            continue
        truth.count("procedures")
        item = {
            "event_id": done.event_id,
            "patient_id": patient.patient_id,
            "region": done.region.value,
            "family": done.family,
            "date_of_service": done.dos.isoformat(),
        }
        if not patient.covered(done.region, done.family, done.dos):
            truth.unauthorized.append(item | {"cause": done.cause})
        limits = [r[1:] for r in done.failed_rules if r.startswith("@")]
        if done.cause in ("denied", "covered") and limits:
            others = [r for r in done.failed_rules if not r.startswith("@")]
            truth.over_limit.append(item | {"rules": limits, "other_failed_rules": others})


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def generate(config: PopulationConfig, truth: Truth | None = None) -> Iterator[str]:
    """The population as JSON lines (without newlines), deterministic for the config.
    ``truth``, when given, is filled with what was planted as the lines are produced."""
    if config.order == "patient":
        for index in range(1, config.patients + 1):
            for line in _patient_lines(config, index, truth):
                yield _dumps(line.body)
        return
    everything: list[tuple[tuple[int, int, int], int, str]] = []
    for index in range(1, config.patients + 1):
        for n, line in enumerate(_patient_lines(config, index, truth)):
            everything.append(((line.key[0], line.key[1], index), n, _dumps(line.body)))
    if config.order == "shuffled":
        random.Random(f"injtrack-population/{config.seed}/shuffle").shuffle(everything)
    else:  # by date across patients, as claims feeds arrive
        everything.sort()
    for _, _, text in everything:
        yield text
