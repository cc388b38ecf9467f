"""``injtrack report compliance`` and ``injtrack report impact``: the reports of
:mod:`application.compliance` and :mod:`application.impact` written to a file (JSON, CSV
with one row per finding, or a self-contained HTML page)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.views import report_source
from application.compliance import ComplianceReport, Period, compliance_report
from application.judging import Finding
from policies import registry
from policies.engine import PolicyLookupError

FINDING_COLUMNS = (
    "kind",
    "patient_id",
    "event_id",
    "region",
    "family",
    "date_of_service",
    "rules",
    "message",
    "allowed_from",
    "provider_id",
    "authorization_id",
    "citations",
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO instant") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (e.g. Z)")
    return value


def _citations(finding: Finding) -> str:
    return " | ".join(
        f'{c["rule"]}: "{c["quote"]}" ({c["source"]}'
        + (f", {c['section']}" if c.get("section") else "")
        + ")"
        for c in finding.citations
    )


def findings_csv(findings: list[Finding]) -> str:
    """One row per finding, rules joined with ';', citations with ' | '."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FINDING_COLUMNS)
    for f in findings:
        writer.writerow(
            [
                f.kind,
                f.patient_id,
                f.event_id,
                f.region,
                f.family,
                f.date_of_service.isoformat(),
                ";".join(f.rules),
                f.message,
                f.allowed_from.isoformat() if f.allowed_from else "",
                f.provider_id or "",
                f.authorization_id or "",
                _citations(f),
            ]
        )
    return out.getvalue()


def render(report: ComplianceReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_json(), indent=2) + "\n"
    if fmt == "csv":
        return findings_csv(report.findings)
    from application.report_html import render_html

    return render_html(report)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(**({"db": Path(args.db)} if args.db else {}))


def _write(text: str, out: str | None) -> None:
    if out in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")


def _compliance(args: argparse.Namespace) -> int:
    from api.app import build_ledger

    try:
        policy_set = registry.get(args.policy_set)
    except PolicyLookupError as exc:
        print(f"injtrack report: {exc.message}", file=sys.stderr)
        return 2
    if args.to < args.start:
        print("injtrack report: --to is before --from", file=sys.stderr)
        return 2
    settings = _settings(args)
    ledger = build_ledger(settings)
    try:
        with report_source(settings, ledger) as source:
            report = compliance_report(source, policy_set, Period(args.start, args.to), args.as_of)
    finally:
        ledger.close()
    _write(render(report, args.format), args.out)
    if args.out not in (None, "-"):
        s: dict[str, Any] = report.summary
        print(
            f"{s['procedures']} procedures, {s['by_kind']['violation']} violations, "
            f"{s['by_kind']['unauthorized']} unauthorized, "
            f"{s['by_kind']['approval_now_denied']} approvals now denied -> {args.out}",
            file=sys.stderr,
        )
    return 0


def impact_csv(items: list[dict[str, Any]]) -> str:
    """One row per procedure that differs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        (
            "patient_id",
            "event_id",
            "region",
            "family",
            "date_of_service",
            "decision",
            "against",
            "rules",
        )
    )
    for i in items:
        writer.writerow(
            [
                i["patient_id"],
                i["event_id"],
                i["region"],
                i["family"],
                i["date_of_service"],
                i["decision"],
                i["against"],
                ";".join(i["rules"]),
            ]
        )
    return out.getvalue()


def _impact(args: argparse.Namespace) -> int:
    from api.app import build_ledger
    from application.impact import impact_report

    try:
        current, candidate = registry.get(args.policy_set), registry.get(args.against)
    except PolicyLookupError as exc:
        print(f"injtrack report: {exc.message}", file=sys.stderr)
        return 2
    if args.to < args.start:
        print("injtrack report: --to is before --from", file=sys.stderr)
        return 2
    settings = _settings(args)
    ledger = build_ledger(settings)
    try:
        with report_source(settings, ledger) as source:
            report = impact_report(source, current, candidate, Period(args.start, args.to))
    finally:
        ledger.close()
    body = report.as_json()
    if args.format == "html":
        from application.report_html import render_impact_html

        text = render_impact_html(report)
    elif args.format == "csv":
        text = impact_csv(body["items"])
    else:
        text = json.dumps(body, indent=2) + "\n"
    _write(text, args.out)
    s = report.summary
    print(
        f"{s['differing']} of {s['procedures']} procedures differ "
        f"({s['decision_changes']} change decision) between {current.name} and {candidate.name}",
        file=sys.stderr,
    )
    return 0


def _common(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--policy-set", required=True, help="e.g. nia, nia-wa, cohere")
    cmd.add_argument("--from", dest="start", type=_date, required=True, help="first DOS")
    cmd.add_argument("--to", type=_date, required=True, help="last DOS (inclusive)")
    cmd.add_argument("--out", help="file to write (default: standard output)")
    cmd.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")


def add_report_parser(sub: Any) -> None:
    """Register ``report compliance`` on the ``injtrack`` subparsers."""
    report = sub.add_parser("report", help="compliance and policy impact reports")
    commands = report.add_subparsers(dest="report_command", required=True)
    comp = commands.add_parser(
        "compliance", help="violations, unauthorized procedures, approvals now denied"
    )
    _common(comp)
    comp.add_argument("--as-of", type=_instant, help="judge with what was recorded by then")
    comp.add_argument("--format", choices=("json", "csv", "html"), default="json")
    comp.set_defaults(func=_compliance)
    impact = commands.add_parser(
        "impact", help="the procedures another (e.g. amended) set would decide differently"
    )
    _common(impact)
    impact.add_argument("--against", required=True, help="the candidate set to compare with")
    impact.add_argument("--format", choices=("json", "csv", "html"), default="json")
    impact.set_defaults(func=_impact)


def _audit(args: argparse.Namespace) -> int:
    from api.app import build_ledger
    from api.schemas.eligibility import decision_json
    from application.audit import audit_patient

    settings = _settings(args)
    ledger = build_ledger(settings)
    try:
        body = audit_patient(ledger, args.patient_id, decision_json, args.as_of)
    finally:
        ledger.close()
    _write(json.dumps(body, indent=2) + "\n", args.out)
    for item in body["authorizations"]:
        if not item["matches"]:
            print(f"injtrack audit: {item['authorization_id']}: {item['flag']}", file=sys.stderr)
    if body["summary"]["mismatches"]:
        print(
            f"injtrack audit: {body['summary']['mismatches']} of "
            f"{body['summary']['authorizations']} authorization decisions do NOT replay",
            file=sys.stderr,
        )
        return 3
    return 0


def add_audit_parser(sub: Any) -> None:
    """Register ``audit PATIENT``: exit status 3 when a recorded decision does not replay."""
    cmd = sub.add_parser("audit", help="replay one patient's history and authorizations")
    cmd.add_argument("patient_id")
    cmd.add_argument("--as-of", type=_instant, help="what 'now' knows: events recorded by then")
    cmd.add_argument("--out", help="file to write (default: standard output)")
    cmd.add_argument("--db", help="SQLite file of the event store (overrides INJTRACK_DB)")
    cmd.set_defaults(func=_audit)
