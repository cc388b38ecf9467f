"""Pydantic models of CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0), written from the
specification: discovery, the service request with the contexts of ``order-select``,
``order-sign`` and ``appointment-book``, and the response (cards, suggestions, actions,
links, system actions).

Requests tolerate fields they do not know (the specification lets clients add extensions,
and newer hook versions add context fields); responses are built by us and serialised
without ``None`` members (:meth:`CdsResponse.as_json`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FhirResource = dict[str, Any]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Built(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- discovery


class CdsService(_Built):
    """One entry of ``GET /cds-services``."""

    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None
    extension: dict[str, Any] | None = None


class DiscoveryResponse(_Built):
    services: list[CdsService]


# ----------------------------------------------------------------------------- request


class FhirAuthorization(_Lenient):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


class CdsRequest(_Lenient):
    """The body of ``POST /cds-services/{id}``."""

    hook: Annotated[str, Field(min_length=1)]
    hookInstance: Annotated[str, Field(min_length=1, max_length=128)]
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_authorization(self) -> CdsRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirServer is required when fhirAuthorization is present")
        return self


class _OrderContext(_Lenient):
    userId: Annotated[str, Field(min_length=1)]
    patientId: Annotated[str, Field(min_length=1)]
    encounterId: str | None = None
    draftOrders: FhirResource

    @model_validator(mode="after")
    def _bundle(self) -> _OrderContext:
        if self.draftOrders.get("resourceType") != "Bundle":
            raise ValueError("draftOrders must be a FHIR Bundle")
        return self


class OrderSignContext(_OrderContext):
    """``order-sign``: orders about to be signed."""


class OrderSelectContext(_OrderContext):
    """``order-select``: orders the clinician selected; ``selections`` names the new ones."""

    selections: Annotated[list[str], Field(min_length=1)]


class AppointmentBookContext(_Lenient):
    """``appointment-book``: proposed appointments."""

    userId: Annotated[str, Field(min_length=1)]
    patientId: Annotated[str, Field(min_length=1)]
    encounterId: str | None = None
    appointments: FhirResource


HOOK_CONTEXTS: dict[str, type[BaseModel]] = {
    "order-sign": OrderSignContext,
    "order-select": OrderSelectContext,
    "appointment-book": AppointmentBookContext,
}


# ---------------------------------------------------------------------------- response


class Coding(_Built):
    system: str | None = None
    code: str
    display: str | None = None


class Source(_Built):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Built):
    type: Literal["create", "update", "delete"]
    description: str
    resource: FhirResource | None = None
    resourceId: str | None = None

    @model_validator(mode="after")
    def _target(self) -> Action:
        if self.type in ("create", "update") and self.resource is None:
            raise ValueError(f"a {self.type} action carries the whole resource")
        return self


class Suggestion(_Built):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Link(_Built):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class OverrideReason(_Built):
    system: str | None = None
    code: str
    display: str


class Card(_Built):
    uuid: str | None = None
    summary: Annotated[str, Field(min_length=1, max_length=139)]
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _selection(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions are present")
        return self


class CdsResponse(_Built):
    cards: list[Card] = []
    systemActions: list[Action] | None = None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------------------- feedback


class OverrideReasonIn(_Lenient):
    reason: Coding | None = None
    userComment: str | None = None


class AcceptedSuggestion(_Lenient):
    id: str


class FeedbackItem(_Lenient):
    card: str
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReasonIn | None = None
    outcomeTimestamp: str


class FeedbackRequest(_Lenient):
    feedback: list[FeedbackItem]
