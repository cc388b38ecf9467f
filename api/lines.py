"""One JSONL import line -> a command, validated by exactly the API's request models, with
the API's field-level reasons when it is not valid."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from api.errors import validation_errors
from api.schemas.eligibility import AuthorizationIn
from api.schemas.events import EventIn
from application.bulk_import import AUTHORIZATION_REQUEST, Command
from domain.errors import FieldError, InvalidInput

_EVENT: TypeAdapter[Any] = TypeAdapter(EventIn)


def parse_line(body: Any) -> Command:
    """An event (a ``POST /v1/events`` item) or an ``authorization_request`` (a ``POST
    /v1/authorizations`` body with that ``type``). Raises :class:`InvalidInput`."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldError("body", "a line must be a JSON object")])
    if body.get("type") == AUTHORIZATION_REQUEST:
        fields = {k: v for k, v in body.items() if k != "type"}
        try:
            return AuthorizationIn.model_validate(fields).to_command()
        except ValidationError as exc:
            raise InvalidInput(validation_errors(exc.errors())) from None
    try:
        event = _EVENT.validate_python(body)
    except ValidationError as exc:
        # Located as the n-th event of a batch, then reported without the index.
        errors = validation_errors(exc.errors(), ("events", 0))
        raise InvalidInput([FieldError(e.field, e.message) for e in errors]) from None
    command: Command = event.to_command()
    return command
