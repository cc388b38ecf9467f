"""Response model of ``GET /v1/access-log``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AccessEntryOut(BaseModel):
    at: datetime
    request_id: str
    key_name: str | None
    role: str | None
    method: str
    route: str
    patient_id: str | None
    status: int
    outcome: str


class AccessLogOut(BaseModel):
    patient_id: str | None
    start: datetime | None
    end: datetime | None
    total: int
    offset: int
    limit: int
    next_offset: int | None
    entries: list[AccessEntryOut]
