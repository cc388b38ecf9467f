"""``injtrack import FILE.jsonl [--batch 1000]`` (``-`` reads stdin): bulk import of events
and authorization requests through the same validation and use cases as the API (see
:mod:`application.bulk_import`).

Prints a summary (recorded, duplicate, rejected, authorization decisions, lines/s); writes
each rejected line with its line number and reasons to the rejects file (JSON lines); exits
0 when nothing was rejected, 1 when something was, 2 when the import could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from api.lines import parse_line
from api.schemas.eligibility import decision_json
from api.settings import Settings
from application.bulk_import import (
    Checkpoint,
    Importer,
    ImportSummary,
    Rejection,
    TrackerTarget,
    file_identity,
    spool,
)
from application.usecases import Tracker


def store_identity(settings: Settings) -> str:
    """Which store an import writes to (for its checkpoint), without credentials."""
    kind = settings.effective_persistence
    if kind == "postgres":
        from urllib.parse import urlsplit

        url = urlsplit(settings.database_url or "")
        where = f"{url.hostname}:{url.port}{url.path}/{settings.postgres_schema or 'public'}"
    elif kind == "sqlite":
        where = str(settings.db.resolve())
    else:
        where = "memory"
    return hashlib.sha256(f"{kind}|{where}".encode()).hexdigest()[:16]


@contextmanager
def opened_tracker(settings: Settings) -> Iterator[Tracker]:
    from adapters.eventstore import utc_now
    from api.app import build_ledger

    ledger = build_ledger(settings)
    try:
        yield Tracker(ledger, utc_now)
    finally:
        ledger.close()


def import_jsonl(
    tracker: Tracker,
    path: Path,
    *,
    batch_size: int = 1000,
    rejects: TextIO | None = None,
    checkpoint: Checkpoint | None = None,
    progress: bool = False,
) -> ImportSummary:
    """Import one file; rejected lines are written to ``rejects`` as JSON lines."""

    def on_reject(rejection: Rejection) -> None:
        if rejects is not None:
            rejects.write(json.dumps(rejection.as_json(), ensure_ascii=False) + "\n")

    if not progress:
        importer = Importer(
            TrackerTarget(tracker, decision_json),
            parse_line,
            batch_size=batch_size,
            on_reject=on_reject,
        )
        return importer.run(path, checkpoint)
    from tqdm import tqdm

    size = path.stat().st_size
    with tqdm(
        total=size, unit="B", unit_scale=True, desc="index", file=sys.stderr, leave=False
    ) as indexing:
        bar: Any = tqdm(total=0, unit="line", desc="import", file=sys.stderr, dynamic_ncols=True)

        def on_total(total: int) -> None:
            indexing.close()
            bar.reset(total=total)

        importer = Importer(
            TrackerTarget(tracker, decision_json),
            parse_line,
            batch_size=batch_size,
            on_reject=on_reject,
            on_progress=bar.update,
        )
        try:
            return importer.run(path, checkpoint, on_index=indexing.update, on_total=on_total)
        finally:
            bar.close()


def _import(args: argparse.Namespace) -> int:
    if args.fhir:
        from api.fhir_cmd import import_fhir_path

        return import_fhir_path(args)
    if not args.source:
        print("injtrack import: give a FILE.jsonl, '-' for stdin, or --fhir PATH", file=sys.stderr)
        return 2
    settings = Settings(**({"db": Path(args.db)} if args.db else {}))
    spooled: Path | None = None
    if args.source == "-":
        path = spooled = spool(sys.stdin.buffer)
        rejects_path = Path(args.rejects or "import.rejects.jsonl")
        checkpoint = None
    else:
        path = Path(args.source)
        if not path.is_file():
            print(f"injtrack import: no such file {path}", file=sys.stderr)
            return 2
        rejects_path = Path(args.rejects or f"{path}.rejects.jsonl")
        checkpoint = Checkpoint(
            Path(f"{path}.import-checkpoint"),
            file_identity(path, store_identity(settings), args.batch),
        )
        if args.restart:
            checkpoint.clear()
    resuming = checkpoint is not None and checkpoint.load() is not None
    try:
        with (
            opened_tracker(settings) as tracker,
            rejects_path.open("a" if resuming else "w", encoding="utf-8") as rejects,
        ):
            summary = import_jsonl(
                tracker,
                path,
                batch_size=args.batch,
                rejects=rejects,
                checkpoint=checkpoint,
                progress=not args.quiet,
            )
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)
    if resuming:
        print(
            f"resumed after {summary.resumed_from_line_groups} groups of patients already imported"
        )
    print(summary.describe())
    if summary.rejected:
        print(f"rejected lines and their reasons: {rejects_path}")
    elif rejects_path.stat().st_size == 0:
        rejects_path.unlink()
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary.as_json(), indent=1) + "\n")
    return 1 if summary.rejected else 0


def _batch(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("--batch is between 1 and 10000 events")
    return value


def add_import_parser(sub: Any) -> None:
    """Register ``import`` on the ``injtrack`` subparsers."""
    cmd = sub.add_parser(
        "import",
        help="bulk import of JSON lines (events, authorization requests) or FHIR R4",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("source", nargs="?", help="the JSONL file, or '-' for stdin")
    cmd.add_argument(
        "--fhir",
        metavar="PATH",
        help="import FHIR R4 instead: a Bundle JSON file or a Bulk Data export folder",
    )
    cmd.add_argument("--batch", type=_batch, default=1000, help="events per transaction")
    cmd.add_argument(
        "--rejects", help="where rejected lines go (default FILE.rejects.jsonl beside the input)"
    )
    cmd.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint of an interrupted run"
    )
    cmd.add_argument("--summary", help="also write the summary as JSON to this file")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")
    cmd.set_defaults(func=_import)
