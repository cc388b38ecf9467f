"""The engine's model of policy: sets of guidelines, their versions by effective date and
their rules, each with its citation; and the proposed procedure a decision is about.

Built from the documents by :mod:`policies.loader`; nothing here evaluates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from policies.conditions import ALWAYS, When
from policies.errors import (
    DEVICE_FAMILIES,
    DEVICE_INTENTS,
    IntentRequired,
    NoGuideline,
    NoVersionInForce,
)
from projections.calendar import Span, days


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote from a source guideline, with where it stands."""

    quote: str  # verbatim text from the source (whitespace may be normalised)
    source: str  # file name, e.g. "002_fc2de44da7ae47dd.txt"
    section: str  # guideline id or document, and the heading the sentence sits under


@dataclass(frozen=True, slots=True)
class GuidelineVersion:
    """The guideline as in force for dates of service on or after ``effective_from``
    (``None``: since always) until the next version's ``effective_from``."""

    id: str
    effective_from: date | None
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    citations: tuple[Citation, ...] = ()  # the policy-history sentences behind the version


@dataclass(frozen=True, slots=True)
class Rule:
    """One checkable sentence of a guideline, as data (see the module docstring)."""

    id: str
    kind: str
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    when: When = ALWAYS
    unless: When | None = None
    time_rule: bool = False
    effective_from: date | None = None  # inclusive
    effective_until: date | None = None  # exclusive
    citation: Citation | None = None
    key: str = ""  # the rule's own id in its document (``id`` is the reason it reports as)
    supporting: tuple[Citation, ...] = ()  # further sentences the rule implements

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or on >= self.effective_from) and (
            self.effective_until is None or on < self.effective_until
        )


@dataclass(frozen=True, slots=True)
class Guideline:
    """One payer guideline: what it governs, its versions and its rules."""

    id: str
    title: str
    source: str
    families: frozenset[str]
    versions: tuple[GuidelineVersion, ...]
    rules: tuple[Rule, ...]
    codes: frozenset[str] | None = None  # primary codes governed (None: every code)
    regions: frozenset[str] | None = None  # regions governed (None: every region)
    publisher: str = ""
    document_version: str = ""
    section_naming: str = ""
    title_citation: Citation | None = None
    criteria: tuple[Criterion, ...] = ()

    def governs(self, family: str, primary_cpt: str, region: str) -> bool:
        return (
            family in self.families
            and (self.codes is None or primary_cpt in self.codes)
            and (self.regions is None or region in self.regions)
        )

    def first_effective(self) -> date | None:
        """The effective date of the first version (None: in force since always)."""
        starts = [v.effective_from for v in self.versions]
        return None if None in starts else min(d for d in starts if d is not None)

    def check_in_force(self, on: date) -> None:
        """Raise :class:`NoVersionInForce` when ``on`` is before the first version."""
        first = self.first_effective()
        if first is not None and on < first:
            raise NoVersionInForce(self.id, first, on)

    def version_on(self, on: date) -> GuidelineVersion:
        """The version in force on ``on`` (the latest whose effective date is on or before)."""
        chosen = self.versions[0]
        for version in self.versions:
            start = version.effective_from
            if (start is None or start <= on) and (
                chosen.effective_from is None
                or (start is not None and start >= chosen.effective_from)
            ):
                chosen = version
        return chosen

    def version_until(self, version: GuidelineVersion) -> date | None:
        """The first date the version is no longer in force (None: still in force)."""
        later = [
            v.effective_from
            for v in self.versions
            if v.effective_from is not None
            and (version.effective_from is None or v.effective_from > version.effective_from)
        ]
        return min(later) if later else None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One sentence of a guideline and how the engine treats it: ``checked`` by rules,
    ``attested`` through clinical facts the rules read, or ``not_checkable`` (with why)."""

    id: str
    quote: str
    section: str
    status: str
    rules: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationWindow:
    """How far before and after its planned date of service an authorization may be used."""

    before: Span = field(default_factory=lambda: days(7))
    after: Span = field(default_factory=lambda: days(60))


@dataclass(frozen=True, slots=True)
class PolicySet:
    """What a payer picks per request: guidelines applied together."""

    name: str
    title: str
    guidelines: tuple[Guideline, ...]
    extends: str | None = None
    authorization_window: AuthorizationWindow = field(default_factory=AuthorizationWindow)

    def guidelines_for(self, proposed: Proposed) -> list[Guideline]:
        found = [
            g
            for g in self.guidelines
            if g.governs(proposed.family, proposed.primary_cpt, proposed.region)
        ]
        if not found:
            raise NoGuideline(self.name, proposed.primary_cpt, proposed.family, proposed.region)
        for guideline in found:
            guideline.check_in_force(proposed.date_of_service)
        return found


@dataclass(frozen=True, slots=True)
class Proposed:
    """The procedure to decide, with the family and approach the catalog derived."""

    date_of_service: date
    region: str
    family: str
    codes: tuple[tuple[str, int], ...]
    intent: str | None = "therapeutic"  # None: not sent (see ``with_intent``)
    laterality: str | None = None
    levels: tuple[str, ...] = ()
    agent: str | None = None
    approach: str | None = None
    indication: str | None = None
    device_type: str | None = None

    @property
    def primary_cpt(self) -> str:
        return self.codes[0][0]

    def units(self, *cpts: str) -> int:
        return sum(u for c, u in self.codes if c in cpts)

    def on(self, day: date) -> Proposed:
        return replace(self, date_of_service=day)

    def with_intent(self, never_limited: bool) -> Proposed:
        """The procedure with its intent settled (safe by default): a stimulator or pump
        placement code needs an explicit device intent (an ``intrathecal_trial`` indication
        makes it a trial); refills and analyses (``never_limited``) need none; anything else
        without an intent is therapeutic."""
        intent = self.intent
        if self.family in DEVICE_FAMILIES and not never_limited:
            if intent is None and self.indication == "intrathecal_trial":
                intent = "trial"
            if intent not in DEVICE_INTENTS:
                raise IntentRequired(self.primary_cpt, self.family, intent)
        return replace(self, intent=intent or "therapeutic")


Clinical = Mapping[str, Any]
