"""What routers depend on, declared once as ``Annotated`` types: a router parameter typed
``TrackerDep`` receives the process's :class:`~application.usecases.Tracker`.

They are ``async def`` because they only read ``app.state``: FastAPI runs a plain ``def``
dependency in its thread pool, one thread hop per request for an attribute read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from api.settings import Settings
from application.usecases import Tracker


async def get_tracker(request: Request) -> Tracker:
    tracker: Tracker = request.app.state.tracker
    return tracker


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


TrackerDep = Annotated[Tracker, Depends(get_tracker)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
