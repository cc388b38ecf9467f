"""``injtrack demo generate``: write a synthetic population as JSON lines (see
:mod:`application.population`)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from application.population import DEFAULT_END, DEFAULT_YEARS, PopulationConfig, Truth, generate


def population_config(args: argparse.Namespace) -> PopulationConfig:
    return PopulationConfig(
        patients=args.patients,
        seed=args.seed,
        end=args.end,
        years=args.years,
        policy_set=args.policy_set,
        unauthorized_share=args.unauthorized_share,
        over_limit_share=args.over_limit_share,
        void_share=args.void_share,
        duplicate_share=args.duplicate_share,
        id_prefix=args.id_prefix,
        order=args.order,
    )


def write_population(config: PopulationConfig, out: TextIO, truth: Truth | None = None) -> int:
    """Write the population to ``out``, one line each; returns the number of lines."""
    count = 0
    for line in generate(config, truth):
        out.write(line)
        out.write("\n")
        count += 1
    return count


def _generate(args: argparse.Namespace) -> int:
    config = population_config(args)
    truth = Truth() if args.truth else None
    if args.out == "-":
        count = write_population(config, sys.stdout, truth)
    else:
        with open(args.out, "w", encoding="utf-8", newline="\n") as out:
            count = write_population(config, out, truth)
    if truth is not None:
        Path(args.truth).write_text(json.dumps(truth.as_json(), indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {count} lines for {config.patients} patients "
        f"({config.start} to {config.end}, seed {config.seed})",
        file=sys.stderr,
    )
    return 0


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share is between 0 and 1")
    return value


def add_generate_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--patients", type=int, default=1000, help="number of patients")
    cmd.add_argument("--seed", type=int, default=0, help="same seed, same bytes")
    cmd.add_argument(
        "--end",
        type=date.fromisoformat,
        default=DEFAULT_END,
        help=f"last date of service (default {DEFAULT_END})",
    )
    cmd.add_argument("--years", type=int, default=DEFAULT_YEARS, help="years of history")
    cmd.add_argument("--policy-set", default="nia", help="the set authorizations are asked under")
    cmd.add_argument("--unauthorized-share", type=_share, default=0.03)
    cmd.add_argument("--over-limit-share", type=_share, default=0.03)
    cmd.add_argument("--void-share", type=_share, default=0.01)
    cmd.add_argument("--duplicate-share", type=_share, default=0.02)
    cmd.add_argument("--id-prefix", default="P", help="patient ids are PREFIX0000001, ...")
    cmd.add_argument(
        "--order",
        choices=("patient", "date", "shuffled"),
        default="patient",
        help="patient by patient (default), by date across patients (a claims feed), shuffled",
    )


def add_demo_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``demo`` and ``demo generate`` on the ``injtrack`` subparsers."""
    demo = sub.add_parser("demo", help="a synthetic population: generate it, or try the product")
    commands = demo.add_subparsers(dest="demo_command")
    gen = commands.add_parser(
        "generate", help="write a synthetic population as JSON lines (events and requests)"
    )
    add_generate_arguments(gen)
    gen.add_argument("--out", required=True, help="the JSONL file to write ('-' for stdout)")
    gen.add_argument(
        "--truth",
        help="also write what was planted (unauthorized and over-limit procedures, "
        "each authorization's decision, counts) to this JSON file",
    )
    gen.set_defaults(func=_generate)
    return demo
