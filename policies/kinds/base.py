"""What every rule kind shares: the kind record, its parameter model base, and the
helpers that find the previous and prior procedures a rule looks at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from policies.context import Context, Verdict
from policies.values import Percent
from projections.relief import ReliefTest
from projections.state import Procedure

Evaluator = Callable[[Context, Mapping[str, Any]], Verdict | None]


class Params(BaseModel):
    """The parameters of a rule kind, as a document writes them (unknown names refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Kind:
    """A reusable evaluator. ``evaluate(ctx, params)`` returns a verdict, or None when the
    rule does not apply to this request; ``can_wait`` says whether it can fail in a way that
    waiting cures (only such kinds may be declared time rules)."""

    name: str
    evaluate: Evaluator
    params: type[Params]
    can_wait: bool
    doc: str

    @classmethod
    def of(
        cls, name: str, evaluate: Evaluator, params: type[Params], *, can_wait: bool = False
    ) -> Kind:
        """A kind documented by its evaluator's docstring."""
        return cls(name, evaluate, params, can_wait, (evaluate.__doc__ or "").strip())


SCOPE_DOC = '"region" (same family and region, default) or "patient" (same family, any region)'


Count = Annotated[int, Field(ge=1, strict=True)]


Days = Annotated[int, Field(ge=0, strict=True)]


Names = frozenset[StrictStr]


OptionalNames = frozenset[StrictStr | None]


_FAMILY_NAMES = {
    "esi": "epidural steroid injection",
    "facet": "facet injection/medial branch block",
    "rfa": "radiofrequency denervation",
    "sij": "sacroiliac joint injection",
    "sympathetic": "sympathetic nerve block",
    "scs": "spinal cord stimulator procedure",
    "pump": "infusion pump procedure",
    "intrathecal_trial": "intrathecal trial",
    "cyst_aspiration": "facet cyst aspiration",
}


def family_name(family: str) -> str:
    return _FAMILY_NAMES.get(family, family)


class ReliefParams(Params):
    threshold: Percent = Field(description="relief percent T")
    strictly_above: StrictBool = Field(
        default=False, description="pain relief must be > T (default >= T)"
    )
    functional_counts: StrictBool = Field(
        default=True, description="functional improvement alone meets T (default true)"
    )


def relief_test(ctx: Context, params: Mapping[str, Any]) -> ReliefTest:
    return ReliefTest(
        float(ctx.param(params["threshold"])),
        strictly_above=bool(params.get("strictly_above", False)),
        functional_counts=bool(params.get("functional_counts", True)),
    )


def prior_of(ctx: Context, scope: str, family: str | None = None) -> list[Procedure]:
    fam = family or ctx.proposed.family
    if scope == "patient":
        return [p for p in ctx.state.of_family(fam) if p.date_of_service < ctx.on]
    if family is None or family == ctx.proposed.family:
        return ctx.family_state.prior(ctx.on)
    return [
        p
        for p in ctx.state.of_family(fam, region=ctx.proposed.region)
        if p.date_of_service < ctx.on
    ]


def previous(ctx: Context, scope: str) -> Procedure | None:
    if scope == "region":
        return ctx.previous
    prior = prior_of(ctx, scope)
    return prior[-1] if prior else None


def desc(proc: Procedure) -> str:
    where = f" at {', '.join(proc.levels)}" if proc.levels else ""
    side = f" {proc.laterality}" if proc.laterality else ""
    return (
        f"the previous {family_name(proc.family)} ({proc.region}{side}{where}, "
        f"{proc.date_of_service})"
    )
