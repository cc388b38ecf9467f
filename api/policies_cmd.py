"""``injtrack policies check|schema``: the policy documents from the command line.

``check [--seeds DIR] [PATH ...]`` loads the shipped library and every folder given (a folder
of ``<set-id>/set.yaml`` folders, as ``INJTRACK_POLICY_DIRS`` names, or one set folder) with
every check the service runs at start, and prints each problem as ``file:line path: message``;
with ``--seeds DIR`` (the folder of source guidelines, e.g. ``../shared/seeds``) also that
every quote occurs in its named file (each file read once), whitespace insensitive. Exits 1
when there is any problem, 0 otherwise. The service never needs the source files.

``schema`` prints the JSON Schema (draft 2020-12) every policy document validates against.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _check(args: argparse.Namespace) -> int:
    from policies import registry
    from policies.loader import PolicyLoadError, load_library
    from policies.sources import check_sources

    seeds = Path(args.seeds) if args.seeds else None
    if seeds is not None and not seeds.is_dir():
        print(f"policies check: --seeds {seeds} is not a folder", file=sys.stderr)
        return 2
    folders = registry.folders_with([Path(p) for p in args.paths])
    try:
        library = load_library(folders)
    except PolicyLoadError as exc:
        print(f"policies check: {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    sets = list(library.sets.values())
    problems = check_sources(sets, seeds) if seeds is not None else []
    rules = len({id(r) for s in sets for g in s.guidelines for r in g.rules})
    guidelines = len({id(g) for s in sets for g in s.guidelines})
    scope = f"{len(sets)} policy sets, {guidelines} guidelines, {rules} rules" + (
        f", citations against {seeds}" if seeds is not None else ""
    )
    if problems:
        print(f"policies check: {len(problems)} problem(s) in {scope}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"policies check: OK ({scope})")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from policies.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def add_policies_parser(sub: Any) -> None:
    """Add ``policies check|schema`` to the ``injtrack`` subcommands."""
    policies = sub.add_parser("policies", help="the payer policy documents")
    actions = policies.add_subparsers(dest="policies_command", required=True)
    check = actions.add_parser(
        "check",
        help="validate the shipped policy documents and any folder given "
        "(and, with --seeds, their quotes)",
    )
    check.add_argument(
        "--seeds",
        metavar="DIR",
        help="folder of the source guidelines; every quote must be found in its named file",
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="folders of <set-id>/set.yaml folders (or one set folder) to check with the library",
    )
    check.set_defaults(func=_check)
    schema = actions.add_parser(
        "schema", help="print the JSON Schema (draft 2020-12) of the policy documents"
    )
    schema.set_defaults(func=_schema)
