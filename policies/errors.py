"""What the policy layer cannot decide: the API maps these to 422."""

from __future__ import annotations

from collections.abc import Iterable


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
