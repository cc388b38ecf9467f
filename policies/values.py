"""The value types a policy document writes, as pydantic types: ISO 8601 durations, version
parameter references, and the numbers rules take.

A duration is one ISO 8601 component: ``P14D`` (days), ``P6W`` (weeks), ``P2M`` (calendar
months), ``P1Y`` (12 calendar months); it loads as a :class:`~projections.calendar.Span`. A
reference ``{ref: name}`` loads as a :class:`Ref`, resolved from the guideline version in force
on the date decided. Each type validates, serialises back to the document form and carries its
JSON Schema, so the published schema and the loader agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from projections.calendar import Span, Unit

_DURATION = re.compile(r"^P(\d+)([DWMY])$")
_UNITS = {"D": Unit.DAYS, "W": Unit.WEEKS, "M": Unit.MONTHS}
_LETTER = {Unit.DAYS: "D", Unit.WEEKS: "W", Unit.MONTHS: "M"}
DURATION_PATTERN = r"^P[0-9]+[DWMY]$"


@dataclass(frozen=True, slots=True)
class Ref:
    """A rule parameter taken from the guideline version in force on the date decided;
    ``expects`` says what the version's value must be ("span", "number" or "any")."""

    name: str
    expects: str = field(default="any", compare=False)


def iso(span: Span) -> str:
    """A span as its ISO 8601 duration (``P2M``)."""
    return f"P{span.amount}{_LETTER[span.unit]}"


def parse_duration(value: Any) -> Span:
    if isinstance(value, Span):
        span = value
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        amount, letter = int(m.group(1)), m.group(2)
        span = Span(amount * 12, Unit.MONTHS) if letter == "Y" else Span(amount, _UNITS[letter])
    else:
        raise ValueError(f"{value!r} is not an ISO 8601 duration of one part (P14D, P6W, P2M, P1Y)")
    if span.amount == 0:
        raise ValueError(f"{value!r} is an empty span")
    return span


def _ref(value: Any, expects: str) -> Ref | None:
    if isinstance(value, Ref):
        return Ref(value.name, expects)
    if isinstance(value, dict) and set(value) == {"ref"}:
        name = value["ref"]
        if isinstance(name, str) and name:
            return Ref(name, expects)
        raise ValueError("ref must name a version parameter")
    return None


def _number(value: Any, low: float | None, high: float | None, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not {'an integer' if integer else 'a number'}")
    if integer and not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    if low is not None and value < low:
        raise ValueError(f"must be at least {low:g}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {high:g}")
    return value


REF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ref": {"type": "string", "minLength": 1}},
    "required": ["ref"],
    "additionalProperties": False,
    "description": "a parameter of the guideline version in force",
}
DURATION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": "ISO 8601 duration of one part: P14D, P6W, P2M, P1Y",
}


def _duration_or_ref(value: Any) -> Span | Ref:
    return _ref(value, "span") or parse_duration(value)


def _dump(value: Any) -> Any:
    if isinstance(value, Span):
        return iso(value)
    if isinstance(value, Ref):
        return {"ref": value.name}
    return value


Duration = Annotated[
    Span,
    PlainValidator(parse_duration),
    PlainSerializer(iso),
    WithJsonSchema(DURATION_SCHEMA),
]
DurationOrRef = Annotated[
    Span | Ref,
    PlainValidator(_duration_or_ref),
    PlainSerializer(_dump),
    WithJsonSchema({"oneOf": [DURATION_SCHEMA, REF_SCHEMA]}),
]


def number_or_ref(
    low: float | None = None, high: float | None = None, *, integer: bool = False
) -> Any:
    """A number (integer when ``integer``) within [low, high], or a version reference."""

    def validate(value: Any) -> int | float | Ref:
        return _ref(value, "number") or _number(value, low, high, integer)

    number: dict[str, Any] = {"type": "integer" if integer else "number"}
    if low is not None:
        number["minimum"] = low
    if high is not None:
        number["maximum"] = high
    return Annotated[
        int | float | Ref,
        PlainValidator(validate),
        PlainSerializer(_dump),
        WithJsonSchema({"oneOf": [number, REF_SCHEMA]}),
    ]


Percent = number_or_ref(0, 100)
CountOrRef = number_or_ref(1, integer=True)


def _version_value(value: Any) -> Span | int | float:
    if isinstance(value, str):
        return parse_duration(value)
    return _number(value, 0, None, False)


VersionValue = Annotated[
    Span | int | float,
    PlainValidator(_version_value),
    PlainSerializer(_dump),
    WithJsonSchema({"oneOf": [DURATION_SCHEMA, {"type": "number", "minimum": 0}]}),
]
Scope = Literal["region", "patient"]
