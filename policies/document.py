"""The policy documents, as pydantic models: one ``set.yaml`` per policy set and one YAML
document per guideline (``policies/library/<set-id>/``).

These models are the one source of truth of the format: the loader validates documents with
them and the published JSON Schema (``injtrack policies schema``) is generated from them. A
rule's ``params`` are validated against its kind's parameter model (see
:mod:`policies.kinds`); the schema states that with one ``if kind = ... then params = ...``
branch per kind.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from policies.values import Duration, DurationOrRef, VersionValue

Name = Annotated[str, Field(min_length=1, strict=True)]
Text = Annotated[str, Field(min_length=1, strict=True)]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", strict=True)]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------- set


class AuthorizationWindowDoc(Document):
    """How far from the planned date of service an authorization may be used."""

    before: Duration = Field(
        default="P7D",
        validate_default=True,
        description="the earliest use: planned date minus this",
    )
    after: Duration = Field(
        default="P60D", validate_default=True, description="the latest use: planned date plus this"
    )


class SetDocument(Document):
    """``set.yaml``: a policy set clients name in ``policy_set``."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", strict=True)] = Field(
        description="the policy_set name clients send"
    )
    title: Text
    extends: Name | None = Field(
        default=None,
        description="a set whose guidelines come first; this set's documents apply on top",
    )
    guidelines: list[Annotated[str, Field(pattern=r"^[^/\\]+\.ya?ml$", strict=True)]] = Field(
        description="guideline document file names in this folder, in order"
    )
    authorization_window: AuthorizationWindowDoc = Field(
        default_factory=lambda: AuthorizationWindowDoc(),
        description="default: 7 days before to 60 days after the planned date",
    )


# ----------------------------------------------------------------------------- guideline


class CitationDoc(Document):
    """A short verbatim sentence of the source document and the section it stands under."""

    quote: Text = Field(description="verbatim, one sentence or clause")
    section: Text = Field(description="where it stands, in the source's section naming")
    note: Text | None = Field(
        default=None,
        description="for reviewers: how the rule reads the sentence, or why it is the nearest",
    )


class SourceDoc(Document):
    file: Name = Field(description="the source document's file name")
    publisher: Text
    document_version: Text
    section_naming: Text = Field(description="how citation sections name their place")


class GovernsDoc(Document):
    """What the guideline decides: procedures of these families (and, when given, only these
    primary codes and regions)."""

    families: list[Name] = Field(min_length=1)
    codes: list[Name] | None = None
    regions: list[Literal["cervical", "thoracic", "lumbar"]] | None = None


class VersionDoc(Document):
    id: Annotated[str, Field(min_length=1, strict=True)]
    effective: date | None = Field(
        default=None, description="first date of service it applies to (null: since always)"
    )
    note: str = Field(default="", description="the policy-history entry that introduced it")
    parameters: dict[str, VersionValue] = Field(
        default_factory=dict, description="values rules read with {ref: name}"
    )
    citations: list[CitationDoc] = Field(
        default_factory=list, description="the policy-history sentences behind it"
    )


class OtherSinceDoc(Document):
    families: list[Name] = Field(min_length=1)
    region: Name | None = Field(default=None, description="null: the proposed region")


class PriorInWindowDoc(Document):
    length: DurationOrRef
    min: Annotated[int, Field(ge=0, strict=True)]
    max: Annotated[int, Field(ge=0, strict=True)] | None = None


OptionalNames = list[StrictStr | None]


class WhenDoc(Document):
    """When a rule applies: every condition given must hold (none given: always). Lists may
    hold null to match an absent value. Positions count within the episode, from 1."""

    min_position: Annotated[int, Field(ge=1, strict=True)] | None = None
    max_position: Annotated[int, Field(ge=1, strict=True)] | None = None
    new_episode: StrictBool | None = None
    first_year: StrictBool | None = None
    has_previous: StrictBool | None = Field(
        default=None, description="a prior procedure of the family in the region"
    )
    intent_in: OptionalNames | None = None
    agent_in: OptionalNames | None = None
    indication_in: OptionalNames | None = None
    indication_not_in: OptionalNames | None = None
    approach_in: OptionalNames | None = None
    cpt_in: list[Name] | None = Field(default=None, description="the primary (first) code")
    region_in: list[Name] | None = None
    laterality_in: OptionalNames | None = None
    previous_intent_in: OptionalNames | None = None
    previous_agent_in: OptionalNames | None = None
    previous_within: DurationOrRef | None = Field(
        default=None, description="the date decided is within this of the previous procedure"
    )
    opposite_side_of_previous: DurationOrRef | None = Field(
        default=None,
        description="the previous one was the other side at the same levels, within this",
    )
    other_since_previous: OtherSinceDoc | None = None
    prior_in_window: PriorInWindowDoc | None = Field(
        default=None, description="between min and max prior procedures in the window before"
    )


class RuleDoc(Document):
    """One checkable sentence: a kind, its parameters, when it applies, and the quote."""

    id: RuleId = Field(description="unique in the document; names the reason")
    reported_as: RuleId | None = Field(
        default=None,
        description="report under another rule's id (one reason for several checks of one "
        "sentence: worst status, messages joined)",
    )
    kind: Name = Field(description="a rule kind (injtrack policies schema lists them)")
    description: Text = Field(description="a one-sentence paraphrase of the guideline")
    params: dict[str, object] = Field(default_factory=dict)
    when: WhenDoc = Field(default_factory=lambda: WhenDoc())
    unless: WhenDoc | None = None
    time_rule: StrictBool = Field(default=False, description="a failure that waiting cures")
    effective_from: date | None = Field(default=None, description="inclusive")
    effective_until: date | None = Field(default=None, description="exclusive")
    citation: CitationDoc
    supporting: list[CitationDoc] = Field(
        default_factory=list, description="further sentences this rule implements"
    )


class CriterionDoc(Document):
    """One criterion sentence of the guideline and how it is enforced: ``checked`` by rules,
    ``attested`` through clinical facts that rules read, or ``not_checkable`` with a reason."""

    id: Name
    quote: Text
    section: Text
    status: Literal["checked", "attested", "not_checkable"]
    rules: list[Name] = Field(default_factory=list)
    facts: list[Name] = Field(default_factory=list)
    reason: StrictStr | None = None


class GuidelineDocument(Document):
    """``<GUIDELINE>.yaml``: one payer guideline, its versions by effective date, its rules
    each beside its quoted sentence."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", strict=True)]
    title: Text
    source: SourceDoc
    title_citation: CitationDoc | None = Field(
        default=None, description="the document's title line"
    )
    governs: GovernsDoc
    versions: list[VersionDoc] = Field(min_length=1, description="by increasing effective date")
    rules: list[RuleDoc] = Field(min_length=1)
    criteria: list[CriterionDoc] = Field(default_factory=list)
