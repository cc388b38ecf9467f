"""``injtrack policies check [--seeds DIR]``: validate every policy definition.

Checks each registered set: known rule kinds, parameters known, typed and in range, ``Ref``
parameters every version has, time rules only on kinds that can wait, a citation and a
description on every rule; with ``--seeds DIR`` (the folder of source guidelines, e.g.
``../shared/seeds``) also that every citation's quote occurs in its named file, whitespace
insensitive. Prints each problem on its own line and exits 1 when there is any, 0 otherwise.
The service never needs the source files: only this check reads them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _check(args: argparse.Namespace) -> int:
    from policies import registry

    seeds = Path(args.seeds) if args.seeds else None
    if seeds is not None and not seeds.is_dir():
        print(f"policies check: --seeds {seeds} is not a folder", file=sys.stderr)
        return 2
    sets = registry.all_sets()
    found: dict[str, list[str]] = {}  # problem -> the sets it shows in (sets share guidelines)
    for policy_set in sets:
        checked = registry.check_set(policy_set)
        if seeds is not None:
            checked += registry.check_sources(policy_set, seeds)
        for problem in dict.fromkeys(checked):
            found.setdefault(problem, []).append(policy_set.name)
    problems = [f"{problem} (in {', '.join(names)})" for problem, names in found.items()]
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


def add_policies_parser(sub: Any) -> None:
    """Add ``policies check`` to the ``injtrack`` subcommands."""
    policies = sub.add_parser("policies", help="the payer policy definitions")
    actions = policies.add_subparsers(dest="policies_command", required=True)
    check = actions.add_parser(
        "check", help="validate every policy definition (and, with --seeds, its citations)"
    )
    check.add_argument(
        "--seeds",
        metavar="DIR",
        help="folder of the source guidelines; every citation must be found in its named file",
    )
    check.set_defaults(func=_check)
