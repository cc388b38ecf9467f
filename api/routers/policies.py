"""``GET /v1/policies``: every policy set with its guidelines, versions and rules, each rule
with its citation. ``POST /v1/policies/reload``: read the policy documents again and swap
every set at once; documents with errors are refused (422, each problem with its file and
line) and the running sets keep answering."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.schemas.eligibility import (
    AuthorizationWindowOut,
    CitationOut,
    GuidelineOut,
    PoliciesOut,
    PolicySetOut,
    RuleOut,
    VersionOut,
)
from api.schemas.policies import PolicyReloadOut
from domain.errors import FieldError, InvalidInput
from policies import registry
from policies.engine import Guideline, Rule, When
from policies.facts import facts_of
from policies.loader import PolicyLoadError
from policies.values import Ref, iso
from projections.calendar import Span

router = APIRouter(prefix="/v1", tags=["policies"])


def jsonable(value: Any) -> Any:
    """A rule parameter as JSON: spans as "2 months", version references by name."""
    if isinstance(value, Span):
        return str(value)
    if isinstance(value, Ref):
        return {"version_parameter": value.name}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (frozenset, set)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=lambda v: (v is None, str(v)))
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, BaseModel):
        return {name: jsonable(getattr(value, name)) for name in type(value).model_fields}
    return value


def _when(when: When | None) -> dict[str, Any] | None:
    if when is None:
        return None
    return {
        f.name: jsonable(getattr(when, f.name))
        for f in fields(when)
        if getattr(when, f.name) is not None
    }


def _rule(rule: Rule) -> RuleOut:
    c = rule.citation
    return RuleOut(
        id=rule.id,
        kind=rule.kind,
        description=rule.description,
        time_rule=rule.time_rule,
        params=jsonable(dict(rule.params)),
        when=_when(rule.when) or {},
        unless=_when(rule.unless),
        effective_from=rule.effective_from,
        effective_until=rule.effective_until,
        citation=CitationOut(quote=c.quote, source=c.source, section=c.section) if c else None,
        facts=facts_of(rule.params),
    )


def _guideline(g: Guideline) -> GuidelineOut:
    return GuidelineOut(
        id=g.id,
        title=g.title,
        source=g.source,
        families=sorted(g.families),
        codes=sorted(g.codes) if g.codes is not None else None,
        regions=sorted(g.regions) if g.regions is not None else None,
        versions=[
            VersionOut(
                id=v.id,
                effective_from=v.effective_from,
                effective_until=g.version_until(v),
                params=jsonable(dict(v.params)),
                note=v.note,
            )
            for v in g.versions
        ],
        rules=[_rule(r) for r in g.rules],
    )


@router.get("/policies", response_model=PoliciesOut)
def get_policies() -> PoliciesOut:
    """The policy sets, their guidelines, versions and rules with citations."""
    return PoliciesOut(
        sets=[
            PolicySetOut(
                name=s.name,
                title=s.title,
                guidelines=[_guideline(g) for g in s.guidelines],
                extends=s.extends,
                authorization_window=AuthorizationWindowOut(
                    before=iso(s.authorization_window.before),
                    after=iso(s.authorization_window.after),
                ),
            )
            for s in registry.all_sets()
        ]
    )


def reload_problems(exc: PolicyLoadError) -> InvalidInput:
    """The refused documents' problems in the service's one error shape: ``field`` is the
    file, line and path, ``message`` what is wrong."""
    return InvalidInput(
        [
            FieldError(
                field=f"{p.file}:{p.line} {p.path}".strip() if p.line else f"{p.file} {p.path}",
                message=p.message,
            )
            for p in exc.problems
        ],
        message=f"{len(exc.problems)} problem(s) in the policy documents; nothing was "
        "reloaded and the running policy sets keep answering",
    )


@router.post(
    "/policies/reload",
    response_model=PolicyReloadOut,
    responses={422: {"description": "a document has errors; the running sets keep answering"}},
)
def post_policies_reload() -> PolicyReloadOut:
    """Read the shipped library and ``INJTRACK_POLICY_DIRS`` again and swap every set at
    once (what SIGHUP to the server and ``injtrack policies reload`` do)."""
    try:
        library = registry.reload()
    except PolicyLoadError as exc:
        raise reload_problems(exc) from None
    return PolicyReloadOut(
        reloaded=True,
        sets=list(library.sets),
        folders=[str(f) for f in library.folders],
    )
