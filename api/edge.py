"""The edge of every HTTP exchange (one pure ASGI middleware, outermost of the app's own):

- a request id: ``X-Request-ID`` from the client when it is 1-128 printable characters of
  ``[A-Za-z0-9._:-]``, else a new one; echoed on the response, in every error body and on
  every log line of the request;
- the body size limit (``INJTRACK_MAX_BODY_BYTES``): 413 before the handler reads a byte when
  ``Content-Length`` says so, and when a streamed body grows past it;
- security headers on every response: ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``, a Content-Security-Policy
  (a strict one for the JSON API, one allowing the locally served assets on ``/docs``) and
  ``Cache-Control: no-store`` on everything but the static documentation assets;
- the access trail: a guarded request (see :mod:`api.security`) is appended to the trail,
  one row per patient it named, and its response starts only once those rows are committed
  (concurrent requests share a commit: :class:`adapters.access.GroupCommit`); if the trail
  cannot be written the client gets a 503 instead of an answer nobody recorded;
- one INFO log line per request with the route *template* (never the path, which may hold a
  patient id), the status, the duration, the key name and role;
- an unhandled exception becomes a 500 in the one error shape (and is logged with its
  traceback at ERROR, without request data).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.access import AccessEntry, GroupCommit
from api.errors import REQUEST_ID, error_payload
from api.security import ACCESS_SCOPE_KEY, AccessContext, route_template

log = logging.getLogger("injtrack.access")
errors_log = logging.getLogger("injtrack.errors")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
DOCS_PREFIX = "/docs"
ASSETS_PREFIX = "/docs/assets"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def outcome_of(status: int) -> str:
    if status in (401, 403):
        return "denied"
    if status < 400:
        return "ok"
    if status < 500:
        return "refused"
    return "error"


def _security_headers(path: str) -> list[tuple[bytes, bytes]]:
    docs = path == DOCS_PREFIX or path.startswith(DOCS_PREFIX + "/")
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", (DOCS_CSP if docs else API_CSP).encode()),
    ]
    if not path.startswith(ASSETS_PREFIX + "/"):
        headers.append((b"cache-control", b"no-store"))
    return headers


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        trail: GroupCommit,
        clock: Callable[[], datetime],
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.trail = trail
        self.clock = clock
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        state: dict[str, Any] = {"status": None, "replaced": False}
        path: str = scope.get("path", "")
        extra_headers = [(b"x-request-id", request_id.encode()), *_security_headers(path)]
        limit = self.max_body_bytes

        async def send_wrapper(message: Message) -> None:
            if state["replaced"]:
                return  # the app's own answer was replaced by a 503; drop its messages
            if message["type"] == "http.response.start":
                status = int(message["status"])
                state["status"] = status
                if not await self._record(scope, request_id, status):
                    state["replaced"] = True
                    state["status"] = 503
                    await _send_json(
                        send,
                        503,
                        error_payload(
                            "the access trail could not be written; nothing was "
                            "answered, retry later"
                        ),
                        [*extra_headers, (b"retry-after", b"5")],
                    )
                    return
                ours = {h for h, _ in extra_headers}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in ours]
                message = {**message, "headers": [*headers, *extra_headers]}
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                state["status"] = 413
                await _send_json(send, 413, error_payload(_too_large(limit)), extra_headers)
                return
            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except Exception:
                errors_log.exception(
                    "unhandled error", extra={"route": _route(scope), "method": scope["method"]}
                )
                if state["status"] is None:
                    state["status"] = 500
                    await _send_json(
                        send,
                        500,
                        error_payload(
                            "internal error; the request id names it in the service's log"
                        ),
                        extra_headers,
                    )
                raise
        finally:
            ctx: AccessContext | None = scope.get(ACCESS_SCOPE_KEY)
            principal = ctx.principal if ctx is not None else None
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": _route(scope),
                    "status": state["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "key": principal.name if principal is not None else None,
                    "role": ctx.role if ctx is not None else None,
                },
            )
            REQUEST_ID.reset(token)

    async def _record(self, scope: Scope, request_id: str, status: int) -> bool:
        """Append a guarded request to the access trail; False when that failed."""
        ctx: AccessContext | None = scope.get(ACCESS_SCOPE_KEY)
        if ctx is None:
            return True
        at = self.clock()
        principal = ctx.principal
        entries = [
            AccessEntry(
                at=at,
                request_id=request_id,
                key_name=principal.name if principal is not None else None,
                role=ctx.role,
                method=scope["method"],
                route=_route(scope),
                patient_id=pid,
                status=status,
                outcome=outcome_of(status),
            )
            for pid in (ctx.patient_ids or [None])
        ]
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[BaseException | None] = loop.create_future()

        def committed(error: BaseException | None) -> None:  # on the writer thread
            loop.call_soon_threadsafe(_settle, outcome, error)

        self.trail.submit(entries, committed)
        error = await outcome
        if error is not None:
            errors_log.error(
                "access trail write failed", exc_info=(type(error), error, error.__traceback__)
            )
            return False
        return True


def _settle(future: asyncio.Future[BaseException | None], error: BaseException | None) -> None:
    if not future.done():  # the request may have been cancelled meanwhile
        future.set_result(error)


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _route(scope: Scope) -> str:
    ctx: AccessContext | None = scope.get(ACCESS_SCOPE_KEY)
    if ctx is not None and ctx.route:
        return ctx.route
    return route_template(scope)


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    import json

    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
