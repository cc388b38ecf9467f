"""``injtrack projections rebuild | status | run [--follow]``: the population read model.

The read model (:mod:`adapters.readmodel`) lives in its own SQLite file
(``INJTRACK_VIEW_DB``, default beside the store) or, when ``INJTRACK_DATABASE_URL`` is set, in
``injtrack_view_*`` tables of the PostgreSQL schema.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from adapters.eventstore import InjectionLedger
from adapters.readmodel import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    OpenedView,
    PageResult,
    ProjectionError,
    ReadModel,
    ViewStatus,
    open_view,
)
from api.settings import Settings
from application.usecases import catch_up_view, rebuild_view


def view_env(settings: Settings) -> dict[str, str]:
    """The library ``env`` of the read model for these settings."""
    if settings.effective_persistence == "postgres":
        env = settings.library_env()
        env.pop("AGGREGATE_CACHE_MAXSIZE", None)
        env["POSTGRES_POOL_SIZE"] = "2"
        return env
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.effective_view_db),
        "SQLITE_LOCK_TIMEOUT": "30",
    } | settings.cipher_env()  # the view conceals patient ids with the store's cipher key


@contextmanager
def opened(settings: Settings) -> Iterator[tuple[InjectionLedger, ReadModel]]:
    """The event store application and the read model, closed afterwards."""
    from api.app import build_ledger

    ledger = build_ledger(settings)
    view: OpenedView | None = None
    try:
        view = open_view(view_env(settings))
        yield ledger, view.view
    finally:
        if view is not None:
            view.close()
        ledger.close()


def run_catch_up(
    ledger: InjectionLedger,
    view: ReadModel,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    rebuild: bool = False,
    on_page: Callable[[PageResult], None] | None = None,
    workers: int = 1,
) -> int:
    """Bring the view up to the store's current end (``rebuild``: from the start, folding
    with ``workers`` processes), optionally with a tqdm bar."""

    def use_case(on_page: Callable[[PageResult], None] | None) -> int:
        if rebuild:
            return rebuild_view(ledger, view, page_size=page_size, on_page=on_page, workers=workers)
        return catch_up_view(ledger, view, page_size=page_size, on_page=on_page)

    if not progress:
        return use_case(on_page)
    from tqdm import tqdm

    start = 0 if rebuild else view.max_tracking_id(ledger.name) or 0
    end = ledger.recorder.max_notification_id() or 0
    with tqdm(
        total=max(0, end - start), unit="ev", desc="read model", file=sys.stderr, dynamic_ncols=True
    ) as bar:
        last = [start]

        def advance(result: PageResult) -> None:
            bar.update(result.position - last[0])
            last[0] = result.position
            if on_page is not None:
                on_page(result)

        return use_case(advance)


def format_status(status: ViewStatus) -> str:
    state = "up to date" if status.lag == 0 else f"behind by {status.lag} notifications"
    return (
        f"event store max notification id: {status.max_notification_id}\n"
        f"read model position:             {status.position}\n"
        f"lag:                             {status.lag} ({state})\n"
        f"procedure rows:                  {status.procedures}\n"
        f"authorization rows:              {status.authorizations}\n"
        f"patients:                        {status.patients}"
    )


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(**({"db": Path(args.db)} if args.db else {}))


def _rebuild(args: argparse.Namespace) -> int:
    with opened(_settings(args)) as (ledger, view):
        try:
            done = run_catch_up(
                ledger,
                view,
                page_size=args.page_size,
                progress=not args.quiet,
                rebuild=True,
                workers=args.workers,
            )
        except ProjectionError as exc:
            print(f"projections rebuild: {exc}; the live view was not changed", file=sys.stderr)
            return 1
        print(f"rebuilt the read model from {done} notifications")
        print(format_status(view.status(ledger.name, ledger.recorder)))
    return 0


def _status(args: argparse.Namespace) -> int:
    with opened(_settings(args)) as (ledger, view):
        print(format_status(view.status(ledger.name, ledger.recorder)))
    return 0


def _run(args: argparse.Namespace) -> int:
    with opened(_settings(args)) as (ledger, view):
        try:
            while True:
                try:
                    done = run_catch_up(
                        ledger,
                        view,
                        page_size=args.page_size,
                        progress=not args.quiet and not args.follow,
                    )
                except ProjectionError as exc:
                    print(f"projections run: {exc}", file=sys.stderr)
                    return 1
                except TRANSIENT as exc:
                    # A rebuild swapping tables, or another runner, holds the view: wait.
                    if not args.follow:
                        print(f"projections run: the store is busy ({exc}); retry", file=sys.stderr)
                        return 1
                    print(
                        f"projections run: the store is busy ({exc}); retrying in "
                        f"{args.interval} s",
                        file=sys.stderr,
                        flush=True,
                    )
                    time.sleep(args.interval)
                    continue
                if done or not args.follow:
                    print(
                        f"processed {done} notifications; position "
                        f"{view.max_tracking_id(ledger.name) or 0}",
                        flush=True,
                    )
                if not args.follow:
                    return 0
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


MAX_WORKERS = 32
TRANSIENT = (OperationalError, InterfaceError, IntegrityError, sqlite3.OperationalError)


def _whole_number(high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between 1 and {high}, got {value}")
        return value

    return parse


_page_size = _whole_number(MAX_PAGE_SIZE)
_workers = _whole_number(MAX_WORKERS)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 3600:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600, got {text}")
    return value


def add_projections_parser(sub: Any) -> None:
    """Register ``projections`` and its subcommands on the ``injtrack`` subparsers."""
    proj = sub.add_parser("projections", help="the population read model (reports)")
    commands = proj.add_subparsers(dest="projections_command", required=True)
    for name, func, help_ in (
        (
            "rebuild",
            _rebuild,
            "rebuild the read model from the whole event log beside the live one, then swap",
        ),
        ("status", _status, "how far the read model lags the event store"),
        ("run", _run, "catch the read model up with the event store"),
    ):
        cmd = commands.add_parser(name, help=help_)
        cmd.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")
        if name != "status":
            cmd.add_argument(
                "--page-size",
                type=_page_size,
                default=DEFAULT_PAGE_SIZE,
                help=f"notifications per transaction (1 to {MAX_PAGE_SIZE})",
            )
            cmd.add_argument("--quiet", action="store_true", help="no progress bar")
        if name == "rebuild":
            cmd.add_argument(
                "--workers",
                type=_workers,
                default=1,
                help="worker processes that fold the patients (1 to "
                f"{MAX_WORKERS}; the rows are the same for any number)",
            )
        if name == "run":
            cmd.add_argument(
                "--follow",
                action="store_true",
                help="keep polling for new events until interrupted",
            )
            cmd.add_argument(
                "--interval",
                type=_interval,
                default=1.0,
                help="seconds between polls with --follow (more than 0, at most 3600)",
            )
        cmd.set_defaults(func=func)
