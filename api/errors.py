"""Service errors, their one mapping to HTTP status codes, and their one shape.

Every error the service answers, whatever its status, has the body of :class:`ErrorOut`:
``{"message": "...", "detail": [{"field": ..., "message": ..., "index"?: ..., "event_id"?: ...}],
"request_id": "..."}`` (``detail`` lists the offending fields, empty when no field is to
blame). :func:`install_error_handlers` maps every error to it and :func:`document_errors`
writes the same shapes into the OpenAPI document, per operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

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

REQUEST_ID: ContextVar[str | None] = ContextVar("injtrack_request_id", default=None)


class Unauthenticated(ServiceError):
    """No API key, or an unknown or revoked one."""


class Forbidden(ServiceError):
    """The API key is valid but none of its roles allows this call."""


# HTTP status of each error a command can end in (the body shape is below).
STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 422,
    EventIdConflict: 409,
    WriteContention: 503,
    StoreUnavailable: 503,
    NotFound: 404,
    Unauthenticated: 401,
    Forbidden: 403,
}
HEADERS: dict[type[ServiceError], dict[str, str]] = {
    WriteContention: {"Retry-After": "1"},
    StoreUnavailable: {"Retry-After": "1"},
    Unauthenticated: {"WWW-Authenticate": "Bearer"},
}


def status_of(exc: ServiceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def headers_of(exc: ServiceError) -> dict[str, str] | None:
    for cls in type(exc).__mro__:
        if cls in HEADERS:
            return HEADERS[cls]  # type: ignore[index]
    return None


class FieldErrorOut(BaseModel):
    field: str
    message: str
    index: int | None = None
    event_id: str | None = None


class ErrorOut(BaseModel):
    """The one error body of every status: what went wrong, which fields, which request."""

    message: str
    detail: list[FieldErrorOut]
    request_id: str | None = None


def field_error_json(error: FieldError) -> dict[str, Any]:
    body: dict[str, Any] = {"field": error.field, "message": error.message}
    if error.index is not None:
        body["index"] = error.index
    if error.event_id is not None:
        body["event_id"] = error.event_id
    return body


def error_payload(message: str, detail: list[FieldError] | None = None) -> dict[str, Any]:
    """The one error body (:class:`ErrorOut`), stamped with the request id."""
    body: dict[str, Any] = {
        "message": message,
        "detail": [field_error_json(e) for e in detail or ()],
    }
    request_id = REQUEST_ID.get()
    if request_id is not None:
        body["request_id"] = request_id
    return body


def error_body(exc: ServiceError) -> dict[str, Any]:
    """The JSON body of a service error: its field errors (if any) under ``detail``."""
    errors = exc.errors if isinstance(exc, (InvalidInput, EventIdConflict)) else None
    return error_payload(exc.message, errors)


def error_response(
    status_code: int,
    message: str,
    detail: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        status_code=status_code, content=error_payload(message, detail), headers=headers
    )


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


def _validation_error(err: Mapping[str, Any], prefix: tuple[Any, ...] = ()) -> FieldError:
    loc = (*prefix, *tuple(err.get("loc", ())))
    if err.get("type") == "json_invalid":
        # FastAPI puts the character offset where a field name belongs.
        where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        reason = (err.get("ctx") or {}).get("error", "invalid JSON")
        return FieldError(field="body", message=f"malformed JSON{where}: {reason}")
    return _loc_to_error(loc, _validation_message(dict(err)))


def validation_errors(
    errors: Iterable[Mapping[str, Any]], prefix: tuple[Any, ...] = ()
) -> list[FieldError]:
    """Pydantic validation errors as the API reports them (``prefix`` is prepended to each
    location, e.g. ``("body",)``); the JSONL import reports bad lines with the same."""
    return [_validation_error(err, prefix) for err in errors]


def install_error_handlers(app: FastAPI) -> None:
    """Map every service error, and request validation, to its status in one place."""

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(
            status_code=status_of(exc), content=error_body(exc), headers=headers_of(exc)
        )

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

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown routes (404), wrong methods (405), unreadable bodies (400), too large (413).
        message = exc.detail if isinstance(exc.detail, str) else str(exc.status_code)
        return error_response(exc.status_code, message, headers=exc.headers)


# ---------------------------------------------------------------------------- OpenAPI

_DESCRIPTIONS = {
    400: "The request body could not be read.",
    401: "No API key, or an unknown or revoked one (`WWW-Authenticate: Bearer`).",
    403: "The API key's roles do not allow this call.",
    404: "Not found.",
    409: "An id already names something with different content.",
    413: "The request body is larger than the limit (`INJTRACK_MAX_BODY_BYTES`).",
    422: "The request breaks the contract; `detail` names each field. Nothing was stored.",
    503: "The store is busy or unreachable; nothing was stored. Retry after `Retry-After` seconds.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=error_responses(404, 409)`` for a route that answers these besides the
    ones every route documents."""
    return {c: {"model": ErrorOut, "description": _DESCRIPTIONS.get(c, "Error.")} for c in codes}


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the error shape on every operation: 422 in our shape
    instead of FastAPI's, 401/403 where an API key is required, 400/413 where a body is read,
    503 everywhere under ``/v1``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        defs = components["ErrorOut"].pop("$defs", {})
        components.update(defs)
        ref = {"$ref": "#/components/schemas/ErrorOut"}

        def response(code: int) -> dict[str, Any]:
            headers: dict[str, Any] = {}
            if code == 503:
                headers["Retry-After"] = {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "string"},
                }
            if code == 401:
                headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
            body: dict[str, Any] = {
                "description": _DESCRIPTIONS.get(code, "Error."),
                "content": {"application/json": {"schema": ref}},
            }
            if headers:
                body["headers"] = headers
            return body

        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/v1"):
                # Other protocols answer in their own shapes (CDS Hooks: OperationOutcome);
                # only FastAPI's validation-error schema, which is never ours, is replaced.
                for op in operations.values():
                    if "422" in op.get("responses", {}):
                        op["responses"]["422"] = response(422)
                continue
            for op in operations.values():
                responses = op.setdefault("responses", {})
                codes: set[int] = {int(c) for c in responses if c.isdigit() and int(c) >= 400}
                if op.get("parameters") or op.get("requestBody"):
                    codes.add(422)
                if op.get("requestBody"):
                    codes |= {400, 413}
                if op.get("security"):
                    codes |= {401, 403}
                if path.startswith("/v1"):
                    codes.add(503)
                for code in sorted(codes):
                    existing = responses.get(str(code), {})
                    responses[str(code)] = response(code) | {
                        k: v for k, v in existing.items() if k == "description" and code != 422
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
