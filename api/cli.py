"""The ``injtrack`` command."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from api.bench_cmd import add_bench_parser
from api.cipher_cmd import add_cipher_command
from api.demo_cmd import add_demo_parser
from api.import_cmd import add_import_parser
from api.keys_cmd import add_key_commands
from api.policies_cmd import add_policies_parser
from api.projections_cmd import add_projections_parser
from api.report_cmd import add_audit_parser, add_report_parser


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.protect import StoreKeyMismatch
    from api.app import create_app, open_access
    from api.logs import configure_logging, logging_config
    from api.policies_cmd import install_sighup_reload
    from api.settings import Settings
    from policies.loader import PolicyLoadError

    overrides = {"db": Path(args.db)} if args.db else {}
    settings = Settings(**overrides)
    try:
        access = open_access(settings)
    except ValueError as exc:  # settings refused; messages never carry secrets
        print(f"injtrack serve: refusing to start: {exc}", file=sys.stderr)
        return 2
    try:
        keys_configured = access.keys.any_active()
    finally:
        access.close()
    if not keys_configured and not is_loopback_host(args.host):
        print(
            f"injtrack serve: refusing to listen on {args.host}: no API key is configured, "
            "so the service would answer anyone without credentials. Create one with "
            "'injtrack keys create --role R --name N', or listen on 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except (PolicyLoadError, StoreKeyMismatch, ValueError) as exc:
        # ValueError: settings refused (their messages never carry secrets or passwords).
        print(f"injtrack serve: refusing to start: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1:
        # Each worker process builds its own app from the environment (the store supports
        # several processes: conflicting writes are retried, every read fast-forwards).
        del app
        if args.db:
            os.environ["INJTRACK_DB"] = str(args.db)
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # A worker imports the app and loads the policies before it answers the
            # supervisor's health check; on a busy machine that takes more than 5 s.
            timeout_worker_healthcheck=120,
            # The workers log as one worker does: JSON, and never uvicorn's access log
            # (it prints paths, which hold patient ids).
            log_config=logging_config(settings.log_level),
            access_log=False,
            server_header=False,
        )
        return 0
    install_sighup_reload()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=logging_config(settings.log_level),
        access_log=False,
        server_header=False,
    )
    return 0


def recommended_workers() -> int:
    """One worker process per core (the README's recommendation; ``--workers auto``)."""
    return max(1, min(16, os.cpu_count() or 1))


def _workers(text: str) -> int:
    if text == "auto":
        return recommended_workers()
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number or 'auto': {text!r}") from None
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"must be between 1 and 16, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="injtrack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes sharing the store (1 to 16, or 'auto': one per core, "
        "which the README recommends; more than 1 uses every core; SIGHUP then restarts "
        "the workers, which reloads the policies)",
    )
    serve.set_defaults(func=_serve)
    keys = sub.add_parser(
        "keys",
        help="API keys (create, list, revoke) and the secrets of encryption at rest (cipher)",
    )
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    add_key_commands(keys_commands)
    add_cipher_command(keys_commands)
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
