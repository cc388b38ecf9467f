"""The FastAPI app factory: settings and clock in, a wired app out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from adapters.access import AccessStore, PostgresAccessStore, SQLiteAccessStore
from adapters.eventstore import InjectionLedger, utc_now
from adapters.protect import Protector, create_private_file
from api.docs import install_docs
from api.edge import EdgeMiddleware
from api.errors import document_errors, install_error_handlers
from api.routers import (
    access_log,
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
from api.security import Access
from api.settings import Settings, postgres_env
from application.access import Keys
from application.usecases import Tracker
from policies import registry

log = logging.getLogger("injtrack.service")


def build_ledger(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    kind: type[InjectionLedger] = InjectionLedger,
) -> InjectionLedger:
    """The event store the settings name. A new SQLite file is created readable by its owner
    only; a store the configured keys cannot read raises
    :class:`~adapters.protect.StoreKeyMismatch` (the service refuses to start). ``kind``: the
    bench's ceilings open it as a :class:`~adapters.eventstore.LibraryTranscoderLedger`."""
    env = settings.library_env()
    if settings.effective_persistence == "sqlite":
        create_private_file(settings.db)
    ledger = kind(
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


def open_access_store(settings: Settings) -> AccessStore:
    """Keys and the access trail, in the service's own database."""
    kind = settings.effective_persistence
    settings.check_secrets()
    key = settings.cipher_key.get_secret_value() if settings.cipher_key is not None else None
    protector = Protector(key)
    if kind == "memory":
        return SQLiteAccessStore(":memory:", protector)
    if kind == "sqlite":
        create_private_file(settings.db)
        return SQLiteAccessStore(settings.db, protector)
    env = postgres_env(settings.database_url or "")
    conninfo = {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"],
    }
    return PostgresAccessStore(conninfo, settings.postgres_schema, protector)


def open_access(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Access:
    store = open_access_store(settings)
    return Access(store, Keys(store, clock))


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
    access = open_access(settings, clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not access.keys_configured():
            log.warning(
                "no API keys configured: requests without a key are served only from "
                "loopback; create one with 'injtrack keys create --role R --name N'"
            )
        yield
        access.close()

    app = FastAPI(
        title="injection-tracker",
        version="0.1.0",
        description="Event-sourced tracker of spinal interventional pain procedures and "
        "payer repeat-injection eligibility. Every `/v1` route needs an API key "
        "(`Authorization: Bearer <key>`, see *Authorize*) with a role that allows it.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.access = access
    app.state.ledger = ledger or build_ledger(settings, clock)
    app.state.tracker = Tracker(app.state.ledger, clock)
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(
        EdgeMiddleware,
        trail=access.trail,
        clock=clock,
        max_body_bytes=settings.max_body_bytes,
    )
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
    app.include_router(access_log.router)
    document_errors(app)
    return app
