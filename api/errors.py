"""Service errors and their one mapping to HTTP status codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.catalog import CatalogError
from domain.errors import (
    EventIdConflict,
    FieldError,
    InvalidInput,
    NotFound,
    ServiceError,
    StoreUnavailable,
    WriteContention,
)
from policies.engine import PolicyLookupError

# HTTP status of each error a command can end in (the body shapes are below).
STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 422,
    EventIdConflict: 409,
    WriteContention: 503,
    StoreUnavailable: 503,
    NotFound: 404,
}


def status_of(exc: ServiceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def field_error_json(error: FieldError) -> dict[str, Any]:
    body: dict[str, Any] = {"field": error.field, "message": error.message}
    if error.index is not None:
        body["index"] = error.index
    if error.event_id is not None:
        body["event_id"] = error.event_id
    return body


def error_body(exc: ServiceError) -> dict[str, Any]:
    """The JSON body of an error: field errors listed under ``detail`` with a summary
    ``message``; otherwise ``detail`` is the message."""
    if isinstance(exc, (InvalidInput, EventIdConflict)):
        return {"detail": [field_error_json(e) for e in exc.errors], "message": exc.message}
    return {"detail": exc.message}


class OperationOutcomeError(Exception):
    """An error of the CDS Hooks endpoints, answered as a FHIR OperationOutcome (the form CDS
    clients parse) with the service's usual ``detail`` beside it."""

    status_code = 400
    issue_code = "invalid"
    headers: dict[str, str] | None = None

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression

    def body(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": self.issue_code,
            "diagnostics": self.message,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return {"resourceType": "OperationOutcome", "issue": [issue], "detail": self.message}


class CdsBadRequest(OperationOutcomeError):
    """400: the CDS Hooks call is malformed or its FHIR resources are invalid."""


class CdsUnauthorized(OperationOutcomeError):
    """401: the client JWT is missing or not acceptable."""

    status_code = 401
    issue_code = "security"
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class CdsServiceNotFound(OperationOutcomeError):
    """404: no CDS service has this id."""

    status_code = 404
    issue_code = "not-found"


class CdsPreconditionFailed(OperationOutcomeError):
    """412: data the service needs was neither prefetched nor fetchable."""

    status_code = 412
    issue_code = "incomplete"


def _loc_to_error(loc: tuple[Any, ...], message: str) -> FieldError:
    """Turn a pydantic location like ('body', 'events', 3, 'procedure_performed', 'codes', 0,
    'cpt') into the event index and a dotted field name."""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    index: int | None = None
    if len(parts) >= 2 and parts[0] == "events" and isinstance(parts[1], int):
        index = parts[1]
        parts = parts[2:]
        # Drop the discriminator tag pydantic inserts for tagged unions.
        if parts and isinstance(parts[0], str) and parts[0] in _EVENT_TAGS:
            parts = parts[1:]
    field = ".".join(str(p) for p in parts) or ("type" if index is not None else "body")
    return FieldError(field=field, message=message, index=index)


_EVENT_TAGS = {
    "procedure_performed",
    "outcome_reported",
    "surgery_performed",
    "pathology_diagnosed",
    "event_voided",
}


def _validation_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_invalid":
        return (
            f"unknown event type {err.get('input', {}).get('type')!r}"
            if isinstance(err.get("input"), dict)
            else "unknown event type"
        )
    if kind == "union_tag_not_found":
        return "missing event type"
    return str(err.get("msg", "invalid"))


def validation_errors(
    errors: Iterable[Mapping[str, Any]], prefix: tuple[Any, ...] = ()
) -> list[FieldError]:
    """Pydantic validation errors as the API reports them (``prefix`` is prepended to each
    location, e.g. ``("body",)``); the JSONL import reports bad lines with the same."""
    return [
        _loc_to_error((*prefix, *tuple(err.get("loc", ()))), _validation_message(dict(err)))
        for err in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Map every service error, and request validation, to its status in one place."""

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        status = status_of(exc)
        headers = {"Retry-After": "1"} if status == 503 else None
        return JSONResponse(status_code=status, content=error_body(exc), headers=headers)

    async def _store_unavailable(request: Request, _: Exception) -> JSONResponse:
        # Transient database failures only (the library's own retries spent); programming
        # and data errors stay 500s.
        return await _service_error(request, StoreUnavailable())

    app.add_exception_handler(OperationalError, _store_unavailable)
    app.add_exception_handler(InterfaceError, _store_unavailable)

    @app.exception_handler(OperationOutcomeError)
    async def _operation_outcome(_: Request, exc: OperationOutcomeError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content=exc.body(), headers=exc.headers)

    @app.exception_handler(PolicyLookupError)
    async def _policy_lookup(_: Request, exc: PolicyLookupError) -> JSONResponse:
        # An unknown policy set, or a code the set has no guideline for.
        invalid = InvalidInput([FieldError(exc.field, exc.message)])
        return JSONResponse(status_code=422, content=error_body(invalid))

    @app.exception_handler(CatalogError)
    async def _catalog(_: Request, exc: CatalogError) -> JSONResponse:
        # A proposed procedure's codes break the catalog (decision requests only; batch
        # ingestion reports catalog errors per event itself).
        invalid = InvalidInput([FieldError(f"procedure.{exc.field}", exc.message)])
        return JSONResponse(status_code=422, content=error_body(invalid))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        invalid = InvalidInput(validation_errors(exc.errors()))
        return JSONResponse(status_code=422, content=error_body(invalid))
