"""``injtrack import --fhir PATH``: a FHIR R4 Bundle file or a Bulk Data export folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from api.lines import parse_line
from api.schemas.eligibility import decision_json
from api.settings import Settings
from application.fhir_import import import_fhir
from interop.fhir.mapping import PatientIdentityRule
from interop.fhir.resources import SourceError, read_path


def import_fhir_path(args: argparse.Namespace) -> int:
    settings = Settings(**({"db": Path(args.db)} if args.db else {}))
    source = Path(args.fhir)
    try:
        entries = read_path(source)
    except SourceError as exc:
        print(f"injtrack import --fhir: {exc}", file=sys.stderr)
        return 2
    from api.import_cmd import opened_tracker

    identity = PatientIdentityRule(settings.fhir_member_identifier_system)
    with opened_tracker(settings) as tracker:
        result = import_fhir(
            tracker,
            entries,
            identity=identity,
            parse=parse_line,
            present=decision_json,
            batch_size=args.batch,
        )
    report = Path(args.rejects or f"{str(source).rstrip('/')}.not-imported.jsonl")
    print(
        f"{len(entries)} resources: {result.summary.recorded} events recorded, "
        f"{result.summary.duplicate} duplicate, {len(result.not_imported)} not imported, "
        f"{result.resources_used} used to resolve references"
    )
    if result.not_imported:
        with report.open("w", encoding="utf-8") as out:
            for item in result.not_imported:
                out.write(json.dumps(item.as_json()) + "\n")
        for item in result.not_imported[:20]:
            print(f"  not imported: {item.source} {item.resource}: {item.reason}")
        if len(result.not_imported) > 20:
            print(f"  ... {len(result.not_imported) - 20} more")
        print(f"every resource not imported, with why: {report}")
    if args.summary:
        Path(args.summary).write_text(json.dumps(result.as_json(), indent=1) + "\n")
    return 1 if result.not_imported else 0
