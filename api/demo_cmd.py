"""``injtrack demo``: generate a synthetic population into a fresh store, import it, catch
the read model up and answer three example questions; ``injtrack demo generate``: write a
synthetic population as JSON lines (see :mod:`application.population`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from api.settings import Settings
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


# ------------------------------------------------------------------------------ injtrack demo

DEMO_DB = "injtrack-demo.sqlite"


def _fresh(db: Path) -> None:
    """Remove the demo's own files (its store, read model and population) to start fresh."""
    for path in (
        db,
        Path(f"{db}-wal"),
        Path(f"{db}-shm"),
        db.with_name(db.name + ".view"),
        db.with_name(db.name + ".view-wal"),
        db.with_name(db.name + ".view-shm"),
        db.with_suffix(".jsonl"),
        Path(f"{db.with_suffix('.jsonl')}.rejects.jsonl"),
    ):
        path.unlink(missing_ok=True)


def _busiest_esi_patient(path: Path) -> tuple[str, dict[str, Any]]:
    """The patient with the most lumbar epidural injections, and the last one's procedure."""
    counts: dict[str, int] = {}
    last: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as lines:
        for text in lines:
            line = json.loads(text)
            codes = {c["cpt"] for c in line.get("codes", ())}
            if line["type"] == "procedure_performed" and codes & {"64483", "62323"}:
                counts[line["patient_id"]] = counts.get(line["patient_id"], 0) + 1
                last[line["patient_id"]] = line
    patient = min(counts, key=lambda p: (-counts[p], p))
    return patient, last[patient]


def _demo(args: argparse.Namespace) -> int:
    from adapters.eventstore import utc_now
    from api.app import build_ledger
    from api.import_cmd import import_jsonl
    from api.projections_cmd import opened, run_catch_up
    from api.schemas.eligibility import EligibilityIn
    from api.views import report_source
    from application.compliance import Period, compliance_report
    from application.usecases import Tracker
    from policies import registry

    db = Path(args.db)
    _fresh(db)
    settings = Settings(db=db, persistence="sqlite", database_url=None, view_db=None)
    config = PopulationConfig(patients=args.patients, seed=args.seed)
    population = db.with_suffix(".jsonl")
    started = time.perf_counter()
    print(
        f"1. Generating {config.patients} patients ({config.start} to {config.end}) -> {population}"
    )
    with population.open("w", encoding="utf-8", newline="\n") as out:
        lines = write_population(config, out)
    print(f"   {lines} lines: events and authorization requests")
    print(f"2. Importing them into a fresh store {db}")
    ledger = build_ledger(settings)
    try:
        with Path(f"{population}.rejects.jsonl").open("w", encoding="utf-8") as rejects:
            summary = import_jsonl(
                Tracker(ledger, utc_now), population, rejects=rejects, progress=not args.quiet
            )
        print(f"   {summary.describe()}")
    finally:
        ledger.close()
    print("3. Catching the population read model up")
    with opened(settings) as (store, view):
        done = run_catch_up(store, view, progress=not args.quiet)
    print(f"   {done} notifications folded into {settings.effective_view_db}")

    patient, procedure = _busiest_esi_patient(population)
    proposed_on = config.end + timedelta(days=14)
    body = {
        "patient_id": patient,
        "policy_set": "nia",
        "procedure": {
            k: procedure[k]
            for k in ("region", "codes", "laterality", "levels", "intent", "agent", "approach")
            if k in procedure
        }
        | {"date_of_service": proposed_on.isoformat()},
        "clinical": {"pain_score": 7, "active_conservative_therapy": True},
    }
    ledger = build_ledger(settings)
    try:
        tracker = Tracker(ledger, utc_now)
        codes = "+".join(c["cpt"] for c in body["procedure"]["codes"])
        print(
            f"\nQ1. Can {patient} have another lumbar epidural injection (CPT {codes}) "
            f"on {proposed_on} under nia?"
        )
        decision = tracker.decide(EligibilityIn.model_validate(body).to_query())
        print(
            f"    {decision.decision}"
            + (
                f", next eligible {decision.next_eligible_date}"
                if decision.next_eligible_date
                else ""
            )
        )
        for reason in decision.reasons:
            if reason.status != "pass":
                print(f"    - {reason.rule} ({reason.status}): {reason.message}")
        history = tracker.history(patient)
        print(f"\nQ2. What do we know of {patient}? ({len(history)} events; the last 8)")
        for entry in history[-8:]:
            f = entry.fields
            when = f.get("date_of_service") or f.get("assessed_on") or f.get("date") or ""
            what = (
                ",".join(c["cpt"] for c in f.get("codes", []))
                or (f"{f['pain_relief_percent']}% relief" if "pain_relief_percent" in f else "")
                or f.get("decision", "")
            )
            void = f" (voided by {entry.voided_by})" if entry.voided_by else ""
            print(f"    {when:<10} {entry.region:<9} {entry.type:<22} {what}{void}")
        period = Period(config.end - timedelta(days=364), config.end)
        print(
            f"\nQ3. Which procedures from {period.start} to {period.end} broke a nia limit or "
            "had no covering authorization?"
        )
        with report_source(settings, ledger) as source:
            report = compliance_report(source, registry.get("nia"), period)
        kinds = report.summary.get("by_kind", {})
        print(
            f"    {report.summary.get('procedures')} procedures: "
            + ", ".join(f"{n} {k}" for k, n in kinds.items())
        )
        for finding in report.findings[:3]:
            print(
                f"    - {finding.date_of_service} {finding.patient_id} {finding.kind}: {finding.message}"
            )
    finally:
        ledger.close()
    print(
        f"\nDone in {time.perf_counter() - started:.0f}s. Next:\n"
        f"  injtrack serve --db {db}      # then open http://127.0.0.1:8000/docs\n"
        f"  curl 'http://127.0.0.1:8000/v1/patients/{patient}/history?limit=5'\n"
        f"  injtrack report compliance --db {db} --policy-set nia --from {period.start} "
        f"--to {period.end} --format html --out report.html"
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
    demo.add_argument("--patients", type=int, default=200, help="patients to generate")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--db",
        default=DEMO_DB,
        help=f"the demo's SQLite store, replaced on every run (default {DEMO_DB})",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)
    return demo
