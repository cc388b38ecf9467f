"""The ``injtrack`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from api.bench_cmd import add_bench_parser
from api.cipher_cmd import add_cipher_command
from api.demo_cmd import add_demo_parser
from api.import_cmd import add_import_parser
from api.policies_cmd import add_policies_parser
from api.projections_cmd import add_projections_parser
from api.report_cmd import add_audit_parser, add_report_parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.protect import StoreKeyMismatch
    from api.app import create_app
    from api.policies_cmd import install_sighup_reload
    from api.settings import Settings
    from policies.loader import PolicyLoadError

    overrides = {"db": Path(args.db)} if args.db else {}
    settings = Settings(**overrides)
    try:
        app = create_app(settings)
    except (PolicyLoadError, StoreKeyMismatch, ValueError) as exc:
        # ValueError: settings refused (their messages never carry secrets or passwords).
        print(f"injtrack serve: refusing to start: {exc}", file=sys.stderr)
        return 2
    install_sighup_reload()
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="injtrack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")
    serve.set_defaults(func=_serve)
    keys = sub.add_parser("keys", help="secrets: the cipher key and stream-id secret")
    add_cipher_command(keys.add_subparsers(dest="keys_command", required=True))
    add_projections_parser(sub)
    add_policies_parser(sub)
    add_demo_parser(sub)
    add_import_parser(sub)
    add_report_parser(sub)
    add_audit_parser(sub)
    add_bench_parser(sub)
    return parser


def _payer_policies(args: argparse.Namespace) -> int | None:
    """Commands that decide serve ``INJTRACK_POLICY_DIRS`` beside the shipped library, as the
    server does; documents with errors stop them (exit 2) before they do anything."""
    if args.command in ("serve", "policies"):
        return None  # serve loads them itself; policies check reads them as documents
    from api.app import load_policies
    from api.settings import Settings
    from policies.loader import PolicyLoadError

    settings = Settings()
    if settings.policy_folders is None:
        return None
    try:
        load_policies(settings)
    except PolicyLoadError as exc:
        print(f"injtrack {args.command}: {exc}", file=sys.stderr)
        return 2
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    refused = _payer_policies(args)
    if refused is not None:
        return refused
    from adapters.protect import StoreKeyMismatch

    try:
        return int(args.func(args))
    except StoreKeyMismatch as exc:
        # Any command on a store (or read model) the configured keys cannot read.
        print(f"injtrack {args.command}: refusing: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
