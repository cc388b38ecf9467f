"""Field types shared by request models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from domain.catalog import Region
from domain.commands import ProcedureSpec
from domain.events import BilledCode
from domain.vocabulary import Agent, Approach, Indication, Intent, Laterality

# The plausible range of clinical dates (and of ``as_of`` instants), inclusive. Anything
# outside is refused with 422 before it can reach the store: a date like 0001-01-01 would be
# stored and then break every calendar computation over the patient (and the read model).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
EARLIEST_INSTANT = datetime.combine(EARLIEST_DATE, time.min, tzinfo=UTC)
LATEST_INSTANT = datetime.combine(LATEST_DATE, time.max, tzinfo=UTC)
DATE_RANGE_TEXT = f"from {EARLIEST_DATE} to {LATEST_DATE} inclusive"

# Printable ASCII without spaces: no NUL (PostgreSQL cannot store it in text) and no control
# characters in anything used as a key.
PRINTABLE = r"^[!-~]+$"
# Free text: anything but control characters (tab and line feed excepted).
NO_CONTROL = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"

# Event ids starting with this are the keys of authorization records in a patient's ledger.
RESERVED_EVENT_ID_PREFIX = "authorization:"


def _not_reserved(value: str) -> str:
    if value.startswith(RESERVED_EVENT_ID_PREFIX):
        raise ValueError(
            f"event ids starting with {RESERVED_EVENT_ID_PREFIX!r} are reserved for "
            "authorization records"
        )
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$"
)


def _date_text(value: Any) -> Any:
    """Dates only as ``YYYY-MM-DD`` text: pydantic would read ``0`` as 1970-01-01."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _datetime_text(value: Any) -> Any:
    """Instants only as ISO 8601 text: pydantic would read ``0`` (or ``"0"``) as
    1970-01-01T00:00Z."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("must be an ISO 8601 date and time, e.g. 2025-03-10T14:30:00Z")
    return value


# Strict types (text only, never numbers); the plausible range is added where they are used.
IsoDate = Annotated[date, BeforeValidator(_date_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_datetime_text)]
IsoAwareDateTime = Annotated[AwareDatetime, BeforeValidator(_datetime_text)]

ClinicalDate = Annotated[
    IsoDate,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"A calendar date (YYYY-MM-DD), {DATE_RANGE_TEXT}.",
    ),
]
AsOf = Annotated[
    IsoAwareDateTime,
    Field(
        ge=EARLIEST_INSTANT,
        le=LATEST_INSTANT,
        description="An instant with its time zone (e.g. 2025-03-10T14:30:00Z), "
        f"{DATE_RANGE_TEXT}: only events recorded at or before it count.",
    ),
]


def as_of_query() -> Any:
    """The ``as_of`` query parameter: an instant with its time zone, in the accepted range."""
    return Query(
        ge=EARLIEST_INSTANT,
        le=LATEST_INSTANT,
        description="Only events recorded at or before this instant; it must carry its time "
        f"zone (e.g. 2025-03-10T14:30:00Z) and lie {DATE_RANGE_TEXT}",
    )


def date_query(alias: str, description: str) -> Any:
    """A date query parameter in the accepted range."""
    return Query(
        alias=alias,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"{description}, {DATE_RANGE_TEXT}",
    )


Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=PRINTABLE)]
FreeText = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_CONTROL)]
PatientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
PatientIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
EventId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=PRINTABLE,
        description="Printable ASCII, no spaces; the prefix 'authorization:' is reserved.",
    ),
    AfterValidator(_not_reserved),
]
Level = Annotated[
    str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z][0-9]{1,2}-[A-Za-z][0-9]{1,2}$")
]


class StrictModel(BaseModel):
    """Request models reject unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CodeIn(StrictModel):
    cpt: Annotated[str, Field(min_length=1, max_length=16, pattern=PRINTABLE)]
    units: Annotated[int, Field(ge=1, le=100)] = 1


class ProcedureFields(StrictModel):
    """What describes a procedure, performed or proposed: the same fields in
    ``procedure_performed`` events and in eligibility requests."""

    date_of_service: ClinicalDate
    region: Region
    codes: Annotated[list[CodeIn], Field(min_length=1, max_length=20)]
    laterality: Laterality | None = None
    levels: Annotated[list[Level], Field(max_length=12)] = []
    intent: Intent = Intent.THERAPEUTIC
    agent: Agent | None = None
    indication: Indication | None = None
    approach: Approach | None = None
    device_type: Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)] | None = None

    def to_spec(self) -> ProcedureSpec:
        return ProcedureSpec(
            date_of_service=self.date_of_service,
            region=self.region,
            codes=tuple(BilledCode(c.cpt, c.units) for c in self.codes),
            laterality=self.laterality,
            levels=tuple(self.levels),
            intent=self.intent,
            agent=self.agent,
            indication=self.indication,
            approach=self.approach,
            device_type=self.device_type,
        )


class ModelResponse(Response):
    """A response model as JSON, serialised by pydantic in the endpoint's own thread.

    Returned by a plain ``def`` endpoint, it spares FastAPI validating the model a second
    time, which it does in its thread pool (one more thread hop per request). The model was
    validated when it was built; the route keeps ``response_model=`` for its OpenAPI
    document, and the bytes are what FastAPI would send (by alias, nothing excluded)."""

    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.model_dump_json(by_alias=True), status_code)
