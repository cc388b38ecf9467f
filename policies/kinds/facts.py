"""Rule kinds about what the request states: attested clinical facts, the payer's own
words (not covered, an exemption), an attribute of the procedure, its place in a phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from policies.context import Context, Verdict, failed, missing, passed
from policies.kinds.base import (
    Count,
    Kind,
    Names,
    Params,
    family_name,
)

FactOp = Literal["==", ">=", "<=", ">", "<", "in", "not_in"]


class FactTest(BaseModel):
    """One clinical fact the provider must attest: ``clinical[fact] <op> value``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fact: StrictStr = Field(description="the clinical fact's name")
    op: FactOp = Field(description="how the attested value compares with value")
    value: Any = Field(description="the value compared with (a list for in / not_in)")
    label: StrictStr = Field(description="what it means, for messages")

    @model_validator(mode="before")
    @classmethod
    def _sets(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("op") in ("in", "not_in"):
            value = data.get("value")
            if isinstance(value, list | tuple | set):
                return {**data, "value": frozenset(value)}
        return data

    def holds(self, actual: Any) -> bool:
        match self.op:
            case "==":
                return bool(actual == self.value)
            case ">=":
                return bool(actual >= self.value)
            case "<=":
                return bool(actual <= self.value)
            case ">":
                return bool(actual > self.value)
            case "<":
                return bool(actual < self.value)
            case "in":
                return actual in self.value
            case "not_in":
                return actual not in self.value
        raise ValueError(f"unknown operator {self.op!r}")


FACT_OPS = frozenset({"==", ">=", "<=", ">", "<", "in", "not_in"})


class FactsParams(Params):
    tests: tuple[FactTest, ...] = Field(description="every one must hold")


def _facts(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Clinical facts the provider attests: every test must hold. Absent -> missing;
    present and not satisfying -> fail."""
    fails: list[str] = []
    absent: list[str] = []
    for test in params["tests"]:
        actual = ctx.fact(test.fact)
        if actual is None:
            absent.append(f"{test.fact} ({test.label})")
        elif not test.holds(actual):
            fails.append(f"{test.label} is required, but {test.fact} is {actual!r}")
    if fails:
        return failed("; ".join(fails))
    if absent:
        return missing("not documented: " + "; ".join(absent))
    return passed("documented: " + "; ".join(t.label for t in params["tests"]))


class MessageParams(Params):
    message: StrictStr = Field(description="what the payer says, shown as the reason")


def _not_covered(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """The service is not covered (e.g. investigational): always fails, not a time rule."""
    return failed(str(params["message"]))


def _exemption(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """An exception of the guideline applies (its ``when`` says when); always passes and
    says so, e.g. the opposite side within the window needs no outcome or interval."""
    return passed(str(params["message"]))


class ProcedureAttributeParams(Params):
    field: Literal["approach", "intent", "agent", "indication", "laterality", "device_type"] = (
        Field(description="attribute of the proposed procedure")
    )
    allowed: Names | None = Field(
        default=None, description="the values that pass (absent: any stated value passes)"
    )
    label: StrictStr = Field(description="what the attribute is, for messages")


def _procedure_attribute(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """An attribute of the proposed procedure the payer needs stated: absent -> missing;
    stated but not one of ``allowed`` -> fail (e.g. an approach the payer does not cover)."""
    name = str(params["field"])
    value = getattr(ctx.proposed, name)
    label = params["label"]
    if value is None:
        return missing(f"{name} is not given: {label}")
    allowed = params.get("allowed")
    if allowed is not None and value not in allowed:
        return failed(
            f"{name} {value} is not covered: {label} must be {' or '.join(sorted(allowed))}"
        )
    return passed(f"{name} {value}: {label}")


class PhaseParams(Params):
    length: Count = Field(description="how many procedures of the episode form the phase")
    phase: StrictStr = Field(description="name of the phase, e.g. 'initial treatment phase'")
    after: StrictStr | None = Field(default=None, description="name of the phase that follows")


def _phase_position(ctx: Context, params: Mapping[str, Any]) -> Verdict:
    """Where the procedure falls in its episode's phases (informational; always passes)."""
    place = ctx.placement
    length = int(params["length"])
    name = family_name(ctx.proposed.family)
    episode = (
        f"a new episode of care ({place.reason.value.replace('_', ' ')})"
        if place.new_episode
        else f"the episode of care started {place.episode_start}"
    )
    if place.position <= length:
        return passed(
            f"{name} #{place.position} of {episode}: within the {params['phase']} "
            f"(the first {length})"
        )
    after = params.get("after", "the phase after it")
    return passed(
        f"{name} #{place.position} of {episode}: past the {params['phase']} "
        f"(the first {length}), in {after}"
    )


KINDS: tuple[Kind, ...] = (
    Kind.of("facts", _facts, FactsParams),
    Kind.of("not_covered", _not_covered, MessageParams),
    Kind.of("exemption", _exemption, MessageParams),
    Kind.of("procedure_attribute", _procedure_attribute, ProcedureAttributeParams),
    Kind.of("phase_position", _phase_position, PhaseParams),
)
