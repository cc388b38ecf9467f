"""The FastAPI app factory: settings and clock in, a wired app out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from adapters.eventstore import InjectionLedger, utc_now
from adapters.protect import create_private_file
from api.errors import install_error_handlers
from api.routers import (
    audit,
    authorizations,
    cds_hooks,
    eligibility,
    events,
    fhir,
    health,
    policies,
    reports,
)
from api.routers import state as state_router
from api.settings import Settings
from application.usecases import Tracker
from policies import registry


def build_ledger(settings: Settings, clock: Callable[[], datetime] = utc_now) -> InjectionLedger:
    """The event store the settings name. A new SQLite file is created readable by its owner
    only; a store the configured keys cannot read raises
    :class:`~adapters.protect.StoreKeyMismatch` (the service refuses to start)."""
    env = settings.library_env()
    if settings.effective_persistence == "sqlite":
        create_private_file(settings.db)
    ledger = InjectionLedger(
        env=env,
        clock=clock,
        write_retries=settings.write_retries,
        stream_ids=settings.stream_ids,
    )
    try:
        ledger.verify_keys()
    except BaseException:
        ledger.close()
        raise
    return ledger


def load_policies(settings: Settings) -> None:
    """Serve the shipped policy library plus ``INJTRACK_POLICY_DIRS``; a document with errors
    raises :class:`~policies.loader.PolicyLoadError` (the service refuses to start). Without
    the setting the sets already served stay (the shipped library by default)."""
    folders = settings.policy_folders
    if folders is not None:
        registry.load(folders)
    else:
        registry.sets()


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    ledger: InjectionLedger | None = None,
) -> FastAPI:
    """Build the service. One event-store application per process, shared by every request;
    endpoints are plain ``def`` so FastAPI runs them in its thread pool."""
    settings = settings or Settings()
    load_policies(settings)
    app = FastAPI(
        title="injection-tracker",
        version="0.1.0",
        description="Event-sourced tracker of spinal interventional pain procedures and "
        "payer repeat-injection eligibility.",
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.ledger = ledger or build_ledger(settings, clock)
    app.state.tracker = Tracker(app.state.ledger, clock)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(eligibility.router)
    app.include_router(authorizations.router)
    app.include_router(policies.router)
    app.include_router(state_router.router)
    app.include_router(reports.router)
    app.include_router(audit.router)
    app.include_router(fhir.router)
    app.include_router(cds_hooks.router)
    return app
