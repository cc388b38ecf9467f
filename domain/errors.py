"""Why the tracker refused a command: errors every entry point maps to its own answer
(the API's status codes and bodies live in :mod:`api.errors`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One reason an input was refused: which event (by index in the batch), which field."""

    field: str
    message: str
    index: int | None = None
    event_id: str | None = None

    def describe(self) -> str:
        where = f"events[{self.index}]." if self.index is not None else ""
        return f"{where}{self.field}: {self.message}"


class ServiceError(Exception):
    """Base of the errors a command can end in."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    """The command breaks the contract; nothing was stored."""

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        super().__init__(message or "; ".join(e.describe() for e in errors))
        self.errors = errors


class EventIdConflict(ServiceError):
    """An event id already names an event with different content; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.describe() for e in errors))
        self.errors = errors


class WriteContention(ServiceError):
    """Concurrent writers kept conflicting; nothing was stored, retry."""


class StoreUnavailable(ServiceError):
    """The database failed under the command (connection dropped, server restarting). Retrying
    is safe: event and authorization ids make resends idempotent, so a write that did reach
    the store answers ``duplicate`` the second time."""

    def __init__(self) -> None:
        super().__init__(
            "the database is temporarily unavailable; retry the request "
            "(resending the same events or authorization is safe)"
        )


class NotFound(ServiceError):
    """What was asked for does not exist."""
