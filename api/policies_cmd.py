"""``injtrack policies check|schema|trace|reload``: the policy documents from the command line.

``check [--seeds DIR] [PATH ...]`` loads the shipped library, the ``INJTRACK_POLICY_DIRS``
folders and every folder given (a folder of ``<set-id>/set.yaml`` folders, or one set folder) with
every check the service runs at start, and prints each problem as ``file:line path: message``;
with ``--seeds DIR`` (the folder of source guidelines, e.g. ``../shared/seeds``) also that
every quote occurs in its named file (each file read once), whitespace insensitive. Exits 1
when there is any problem, 0 otherwise. The service never needs the source files.

``schema`` prints the JSON Schema (draft 2020-12) every policy document validates against;
``schema --kinds`` the rule kinds and their parameters as a Markdown table.

``trace [--set S] [--format md|json|html]`` prints the traceability matrix built from the
documents' ``criteria`` lists (:mod:`policies.trace`): a per-guideline summary (criteria
checked / attested / not checkable) and every criterion with its rules, facts or reason.

``reload`` tells a running server to read its policy documents again and swap every set at
once: ``--url URL`` (default ``http://127.0.0.1:8000``) posts to ``URL/v1/policies/reload``
and prints the sets now served, or the refused documents' problems (exit 1); ``--pid PID``
sends SIGHUP to the server process instead (``injtrack serve`` reloads on SIGHUP and logs the
outcome on its standard error). Either way a document with errors changes nothing: the
running sets keep answering.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any


def _check(args: argparse.Namespace) -> int:
    from api.settings import Settings
    from policies import registry
    from policies.loader import PolicyLoadError, load_library
    from policies.sources import check_sources

    seeds = Path(args.seeds) if args.seeds else None
    if seeds is not None and not seeds.is_dir():
        print(f"policies check: --seeds {seeds} is not a folder", file=sys.stderr)
        return 2
    configured = Settings().policy_folders or []
    folders = registry.folders_with([*configured, *(Path(p) for p in args.paths)])
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
    from policies.schema import kinds_markdown, schema_text

    sys.stdout.write(kinds_markdown() if args.kinds else schema_text())
    return 0


def _trace(args: argparse.Namespace) -> int:
    from policies import registry
    from policies.loader import PolicyLoadError
    from policies.trace import matrix, summary

    try:
        sets = [registry.get(args.set)] if args.set else registry.all_sets()
    except (PolicyLoadError, LookupError, ValueError) as exc:
        print(f"policies trace: {exc}", file=sys.stderr)
        return 2
    rows, counts = matrix(sets), summary(sets)
    render = {"md": trace_markdown, "json": trace_json, "html": trace_html}[args.format]
    sys.stdout.write(render(rows, counts))
    return 0


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def trace_markdown(rows: list[Any], counts: list[Any]) -> str:
    """The matrix as Markdown: a summary table, then one table per guideline."""
    out = [
        "| set | guideline | criteria | checked | attested | not checkable |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    out += [
        f"| {c.set} | {c.guideline} | {c.total} | {c.checked} | {c.attested} | {c.not_checkable} |"
        for c in counts
    ]
    for c in counts:
        out += ["", f"## {c.guideline}: {c.title}", ""]
        out += [
            "| criterion | quote | status | rules / facts / reason |",
            "| --- | --- | --- | --- |",
        ]
        for r in (r for r in rows if r.guideline == c.guideline):
            how = {
                "checked": ", ".join(r.rules),
                "attested": f"{', '.join(r.facts)} (read by {', '.join(r.rules)})",
                "not_checkable": r.reason or "",
            }[r.status]
            out.append(f"| {r.criterion} | {_cell(r.quote)} | {r.status} | {_cell(how)} |")
        if c.rules_not_traced:
            out += ["", f"Rules no criterion names: {', '.join(c.rules_not_traced)}"]
    return "\n".join(out) + "\n"


def trace_json(rows: list[Any], counts: list[Any]) -> str:
    from dataclasses import asdict

    body = {
        "summary": [asdict(c) | {"total": c.total} for c in counts],
        "criteria": [asdict(r) for r in rows],
    }
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def trace_html(rows: list[Any], counts: list[Any]) -> str:
    """A self-contained HTML page of the matrix (no scripts, no external assets)."""
    from html import escape as e

    head = "".join(
        f"<tr><td>{e(c.set)}</td><td>{e(c.guideline)}</td><td>{c.total}</td>"
        f"<td>{c.checked}</td><td>{c.attested}</td><td>{c.not_checkable}</td></tr>"
        for c in counts
    )
    body = "".join(
        f"<tr class='{e(r.status)}'><td>{e(r.guideline)}</td><td>{e(r.criterion)}</td>"
        f"<td>{e(r.section)}</td><td>{e(r.quote)}</td><td>{e(r.status)}</td>"
        f"<td>{e(', '.join(r.rules))}</td><td>{e(', '.join(r.facts))}</td>"
        f"<td>{e(r.reason or '')}</td></tr>"
        for r in rows
    )
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top;font-size:90%}"
        ".not_checkable{background:#fff4e0}.attested{background:#eef6ff}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Traceability matrix</title>"
        f"<style>{style}</style></head><body><h1>Traceability matrix</h1>"
        "<table><tr><th>set</th><th>guideline</th><th>criteria</th><th>checked</th>"
        f"<th>attested</th><th>not checkable</th></tr>{head}</table>"
        "<table><tr><th>guideline</th><th>criterion</th><th>section</th><th>quote</th>"
        "<th>status</th><th>rules</th><th>facts</th><th>reason</th></tr>"
        f"{body}</table></body></html>\n"
    )


def reload_now() -> bool:
    """Reload the served sets, saying on standard error what happened (SIGHUP's work)."""
    from policies import registry
    from policies.loader import PolicyLoadError

    try:
        library = registry.reload()
    except PolicyLoadError as exc:
        print(f"policies reload refused, the running sets keep answering: {exc}", file=sys.stderr)
        return False
    print(f"policies reloaded: {', '.join(library.sets)}", file=sys.stderr)
    return True


def install_sighup_reload() -> None:
    """Make SIGHUP reload the policy documents (in a thread, off the signal handler)."""

    def on_hup(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=reload_now, name="policies-reload", daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)


def _reload(args: argparse.Namespace) -> int:
    if args.pid is not None:
        try:
            os.kill(args.pid, signal.SIGHUP)
        except OSError as exc:
            print(f"policies reload: cannot signal {args.pid}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"policies reload: sent SIGHUP to {args.pid} (it logs the outcome)")
        return 0
    url = args.url.rstrip("/") + "/v1/policies/reload"
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}")
        print(
            f"policies reload: refused ({exc.code}): {detail.get('message', '')}", file=sys.stderr
        )
        for problem in detail.get("detail", []) if isinstance(detail.get("detail"), list) else []:
            print(f"  {problem.get('field')}: {problem.get('message')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"policies reload: cannot reach {url}: {exc}", file=sys.stderr)
        return 2
    print(f"policies reload: OK, serving {', '.join(body['sets'])}")
    return 0


def add_policies_parser(sub: Any) -> None:
    """Add ``policies check|schema|reload`` to the ``injtrack`` subcommands."""
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
    schema.add_argument(
        "--kinds",
        action="store_true",
        help="print the rule kinds and their parameters as a Markdown table instead",
    )
    schema.set_defaults(func=_schema)
    trace = actions.add_parser(
        "trace",
        help="print the traceability matrix: every criterion sentence of every guideline "
        "with its status (checked / attested / not checkable) and rules",
    )
    trace.add_argument("--set", metavar="S", help="only this policy set (default: every set)")
    trace.add_argument("--format", choices=("md", "json", "html"), default="md")
    trace.set_defaults(func=_trace)
    reload = actions.add_parser(
        "reload",
        help="make a running server read its policy documents again (HTTP or SIGHUP)",
    )
    target = reload.add_mutually_exclusive_group()
    target.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="the server's base URL: POST <url>/v1/policies/reload (default %(default)s)",
    )
    target.add_argument("--pid", type=int, help="send SIGHUP to this server process instead")
    reload.add_argument("--timeout", type=float, default=30.0, help="seconds (HTTP)")
    reload.set_defaults(func=_reload)
