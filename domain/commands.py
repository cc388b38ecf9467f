"""Commands: what a caller asks the tracker to record or decide, as plain values.

The HTTP request models, the CLI and importers all turn their input into these; the
application layer and the event store never see a transport model. Each event command's
:meth:`payload` is its canonical content (every field, enums by value, dates in ISO form),
from which the idempotency fingerprint is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar

from domain.catalog import Region
from domain.events import BilledCode
from domain.vocabulary import (
    Agent,
    Approach,
    DeviceReason,
    Indication,
    Intent,
    Laterality,
    SurgeryKind,
)

_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (``fields()`` is slow)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _plain(value: Any) -> Any:
    """``value`` JSON-ready: enums by value, dates in ISO form, dataclasses as dicts. On the
    path of every recorded event (the fingerprint), so plain values are answered first."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _field_names(kind)}
    return value


@dataclass(frozen=True, slots=True)
class ProcedureSpec:
    """What describes a procedure, performed or proposed."""

    date_of_service: date
    region: Region
    codes: tuple[BilledCode, ...]
    laterality: Laterality | None = None
    levels: tuple[str, ...] = ()
    intent: Intent | None = Intent.THERAPEUTIC  # None: not sent (an eligibility question)
    agent: Agent | None = None
    indication: Indication | None = None
    approach: Approach | None = None
    device_type: str | None = None


@dataclass(frozen=True, slots=True)
class _Command:
    type: ClassVar[str]
    event_id: str
    patient_id: str

    def payload(self) -> dict[str, Any]:
        """The canonical content: every field JSON-ready, with ``type``."""
        body: dict[str, Any] = {
            name: _plain(getattr(self, name)) for name in _field_names(type(self))
        }
        body["type"] = self.type
        return body


@dataclass(frozen=True, slots=True)
class RecordProcedure(_Command):
    """Record that a procedure was performed."""

    type: ClassVar[str] = "procedure_performed"
    procedure: ProcedureSpec
    authorization_id: str | None = None
    provider_id: str | None = None  # the rendering provider (NPI or the payer's own id)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "event_id": self.event_id,
            "patient_id": self.patient_id,
            "authorization_id": self.authorization_id,
        }
        if self.provider_id is not None:
            # Optional fields added later stay out of the payload when absent, so an event
            # recorded before they existed has the same fingerprint when resent.
            body["provider_id"] = self.provider_id
        body.update(_plain(self.procedure))
        return body


@dataclass(frozen=True, slots=True)
class ReportOutcome(_Command):
    """Record the assessed outcome of a recorded procedure."""

    type: ClassVar[str] = "outcome_reported"
    procedure_event_id: str
    assessed_on: date
    pain_relief_percent: float
    functional_improvement: bool = False


@dataclass(frozen=True, slots=True)
class RecordSurgery(_Command):
    """Record spine surgery in a region (starts a new episode)."""

    type: ClassVar[str] = "surgery_performed"
    date: date
    region: Region
    levels: tuple[str, ...] = ()
    kind: SurgeryKind | None = None


@dataclass(frozen=True, slots=True)
class RecordPathology(_Command):
    """Record a new pathology diagnosed in a region (starts a new episode)."""

    type: ClassVar[str] = "pathology_diagnosed"
    date: date
    region: Region
    icd10: str | None = None


@dataclass(frozen=True, slots=True)
class VoidEvent(_Command):
    """Declare an earlier event void."""

    type: ClassVar[str] = "event_voided"
    voided_event_id: str
    reason: str


EventCommand = RecordProcedure | ReportOutcome | RecordSurgery | RecordPathology | VoidEvent


@dataclass(frozen=True, slots=True)
class Clinical:
    """What the requesting provider attests; ``None`` means not documented. The facts'
    meanings and the rules that read them: ``policies.facts``."""

    pain_score: float | None = None
    functional_disability: bool | None = None
    pain_duration_weeks: float | None = None
    radicular_pain: bool | None = None
    patient_age: float | None = None
    active_conservative_therapy: bool | None = None
    conservative_therapy_weeks: float | None = None
    conservative_therapy_failed: bool | None = None
    conservative_therapy_exception: bool | None = None
    opioid_medication_weeks: float | None = None
    systemic_opioids_failed: bool | None = None
    oral_antispasmodics_failed: bool | None = None
    opioid_naive: bool | None = None
    initial_criteria_met: bool | None = None
    psychological_assessment_completed: bool | None = None
    trial_side_effects_tolerable: bool | None = None
    life_expectancy_months: float | None = None
    surgical_plan_documented: bool | None = None
    imaging_confirms_target: bool | None = None
    positive_provocative_exam: bool | None = None
    pain_generator_in_question: bool | None = None
    ischemic_limb_pain: bool | None = None
    special_circumstances: bool | None = None
    multi_region_medical_reason: bool | None = None
    synovial_cyst_confirmed: bool | None = None
    active_infection: bool | None = None
    needle_site_infection: bool | None = None
    severe_stenosis_obstruction: bool | None = None
    insufficient_body_habitus: bool | None = None
    no_percutaneous_access: bool | None = None
    coagulopathy_or_anticoagulation: bool | None = None
    steroid_hypersensitivity: bool | None = None
    uncontrolled_diabetes: bool | None = None
    local_anesthetic_allergy: bool | None = None
    drug_allergy: bool | None = None
    other_programmable_device: bool | None = None
    device_reason: DeviceReason | None = None

    def facts(self) -> dict[str, Any]:
        """The attested facts, JSON-ready (``None`` for what was not documented)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class DecideEligibility:
    """Is this procedure allowed for this patient under the policy set, as known ``as_of``?"""

    patient_id: str
    policy_set: str
    procedure: ProcedureSpec
    clinical: Clinical = field(default_factory=Clinical)
    as_of: datetime | None = None

    def payload(self) -> dict[str, Any]:
        """The canonical content of the request, JSON-ready."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Authorize(DecideEligibility):
    """Decide, then record the request (its :meth:`payload`) and its decision once per
    ``authorization_id``."""

    authorization_id: str = ""

    @classmethod
    def of(cls, query: DecideEligibility, authorization_id: str) -> Authorize:
        """The authorization of an eligibility question."""
        asked = {f.name: getattr(query, f.name) for f in fields(query)}
        return cls(**asked, authorization_id=authorization_id)
