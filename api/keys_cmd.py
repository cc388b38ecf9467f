"""``injtrack keys create | list | revoke``: API keys in the service's own database.

``create`` prints the new key once, alone on its last line; only its salted hash is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.settings import Settings
from application.access import KeyManagementError, Role


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(**({"db": Path(args.db)} if getattr(args, "db", None) else {}))


def _with_access(args: argparse.Namespace, action: Any) -> int:
    from api.app import open_access

    access = open_access(_settings(args))
    try:
        return int(action(access))
    except KeyManagementError as exc:
        print(f"injtrack keys: {exc}", file=sys.stderr)
        return 2
    finally:
        access.close()


def _create(args: argparse.Namespace) -> int:
    def run(access: Any) -> int:
        issued = access.keys.create(args.name, args.role)
        stored = issued.stored
        print(
            f"created key {stored.key_id} named {stored.name!r} with roles {','.join(stored.roles)}"
        )
        print("store it now: it is shown only this once")
        print(issued.key)
        return 0

    return _with_access(args, run)


def _list(args: argparse.Namespace) -> int:
    def run(access: Any) -> int:
        keys = access.keys.list()
        if not keys:
            print("no keys (the service is open on loopback only)")
            return 0
        print(f"{'key_id':<13} {'state':<8} {'created_at':<26} {'roles':<30} name")
        for k in keys:
            state = "active" if k.active else "revoked"
            created = k.created_at.isoformat(timespec="seconds")
            print(f"{k.key_id:<13} {state:<8} {created:<26} {','.join(k.roles):<30} {k.name}")
        return 0

    return _with_access(args, run)


def _revoke(args: argparse.Namespace) -> int:
    def run(access: Any) -> int:
        for key_id in access.keys.revoke(args.key):
            print(f"revoked key {key_id}")
        return 0

    return _with_access(args, run)


def add_key_commands(ksub: Any) -> None:
    """Register ``create``, ``list`` and ``revoke`` on the subparsers of the ``keys`` group."""
    roles = ", ".join(r.value for r in Role)

    create = ksub.add_parser("create", help="create a key; prints it once, on its last line")
    create.add_argument(
        "--role",
        action="append",
        required=True,
        help=f"a role ({roles}); repeat or comma-separate for several",
    )
    create.add_argument("--name", required=True, help="who or what holds the key")
    create.set_defaults(func=_create)

    listing = ksub.add_parser("list", help="every key: id, state, roles, name (never the key)")
    listing.set_defaults(func=_list)

    revoke = ksub.add_parser("revoke", help="revoke a key by its id or name (at once)")
    revoke.add_argument("key", help="the key's id (from 'keys list') or name")
    revoke.set_defaults(func=_revoke)

    for p in (create, listing, revoke):
        p.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")
