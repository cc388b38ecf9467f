"""What the policy layer cannot decide: the API maps these to 422."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

# Stimulator and pump procedures are told apart by their intent, not by their code alone
# (63650 is a trial or a permanent placement; 62362 an implant or a replacement).
DEVICE_FAMILIES = frozenset({"scs", "pump"})
DEVICE_INTENTS = frozenset({"trial", "implant", "replacement", "revision", "removal"})


class PolicyLookupError(ValueError):
    """The request names something the policy layer cannot decide (mapped to 422 by the API);
    ``field`` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UnknownPolicySet(PolicyLookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(
            "policy_set",
            f"unknown policy set {name!r} (known: {', '.join(sorted(known))})",
        )


class NoGuideline(PolicyLookupError):
    def __init__(self, policy_set: str, code: str, family: str, region: str) -> None:
        super().__init__(
            "procedure.codes",
            f"policy set {policy_set!r} has no guideline for CPT {code} ({family}, {region})",
        )


class NoVersionInForce(PolicyLookupError):
    """The date of service is before the first version of a guideline that governs the
    request: no version of it was in force, so nothing can be decided under it."""

    def __init__(self, guideline: str, first: date, on: date) -> None:
        super().__init__(
            "procedure.date_of_service",
            f"no version of {guideline} was in force on {on}: its first version is "
            f"effective from {first}",
        )


class IntentRequired(PolicyLookupError):
    """A stimulator or pump placement code (trial, implant, revision, replacement, removal)
    sent without one of those intents: the code alone does not say which procedure it is."""

    def __init__(self, code: str, family: str, intent: str | None) -> None:
        given = "no intent" if intent is None else f"intent {intent!r}"
        super().__init__(
            "procedure.intent",
            f"CPT {code} is a {family} placement code sent with {given}: intent must be one "
            f"of {', '.join(sorted(DEVICE_INTENTS))}",
        )
