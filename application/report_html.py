"""The compliance report (and the policy impact report) as one self-contained HTML file
read offline.

Charts are drawn by matplotlib (Agg backend, no display) as SVG and inlined, so the file
needs no network and no script: headline figures, violations per month by family, cap
utilization, the rules most often broken, the patients with the most findings, and the
table of findings with each citation. Each chart has its own fixed palette (``PALETTES``),
which lets a test find it in a screenshot.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from application.compliance import UTILIZATION_BUCKETS, ComplianceReport
from application.impact import ImpactItem, ImpactReport
from application.judging import Finding

FAMILY_COLORS = {
    "esi": "#1f77b4",
    "facet": "#ff7f0e",
    "rfa": "#2ca02c",
    "sij": "#d62728",
    "sympathetic": "#9467bd",
}
OTHER_FAMILY_COLORS = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
UTILIZATION_COLORS = ("#c7e9c0", "#74c476", "#fdae6b", "#e6550d", "#a50f15")
RULE_COLOR = "#6a3d9a"
PALETTES = {
    "months": tuple(FAMILY_COLORS.values()),
    "utilization": UTILIZATION_COLORS,
    "rules": (RULE_COLOR,),
}
MAX_TABLE_ROWS = 2000

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 24px;
       color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 17px; margin: 28px 0 8px 0; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; font-size: 13px; }
.headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.figure .value { font-size: 24px; font-weight: 600; }
.figure .label { font-size: 12px; color: #555; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { margin: 0; border: 1px solid #eee; padding: 6px; }
.chart svg { width: 100%; height: auto; }
.chart figcaption { font-size: 12px; color: #444; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border: 1px solid #e3e3e3; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
td.quote { color: #333; font-style: italic; max-width: 420px; }
.kind-violation { color: #a50f15; font-weight: 600; }
.kind-unauthorized { color: #8c510a; font-weight: 600; }
.kind-approval_now_denied { color: #542788; font-weight: 600; }
"""


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    # The metadata block (creation date, tool) is dropped: the page depends on nothing else.
    return re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


def _family_color(family: str, index: int) -> str:
    return FAMILY_COLORS.get(family, OTHER_FAMILY_COLORS[index % len(OTHER_FAMILY_COLORS)])


def _stack(
    ax: Any,
    categories: list[str],
    series: list[tuple[str, list[int], str]],
    labels: tuple[str, str, str],
    legend_size: int,
) -> None:
    """Stacked bars: each (label, values per category, colour) on top of the previous;
    ``labels`` are the y label, the title and the text shown when there is no series."""
    bottom = [0] * len(categories)
    for label, values, color in series:
        ax.bar(categories, values, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ylabel, title, empty = labels
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    if series:
        ax.legend(frameon=False, fontsize=legend_size, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
    ax.spines[["top", "right"]].set_visible(False)


def months_chart(findings: Sequence[Finding]) -> str:
    """Violations per month of service, stacked by family."""
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        if f.kind != "violation":
            continue
        month = f"{f.date_of_service.year:04d}-{f.date_of_service.month:02d}"
        counts.setdefault(month, {})
        counts[month][f.family] = counts[month].get(f.family, 0) + 1
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    months = sorted(counts)
    families = sorted({fam for c in counts.values() for fam in c})
    _stack(
        ax,
        months,
        [
            (family, [counts[m].get(family, 0) for m in months], _family_color(family, i))
            for i, family in enumerate(families)
        ],
        ("violations", "Violations per month of service, by family", "no violations"),
        8,
    )
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    return _svg(fig)


def utilization_chart(utilization: Sequence[dict[str, Any]]) -> str:
    """Per rolling cap: share of patient regions peaking in each band of the limit."""
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    labels = [f"{u['rule']} (limit {u['limit']} in {u['window']})" for u in utilization]
    left = [0.0] * len(utilization)
    for bucket, color in zip(UTILIZATION_BUCKETS, UTILIZATION_COLORS, strict=True):
        shares = [
            100.0 * u["buckets"][bucket] / u["groups"] if u["groups"] else 0.0 for u in utilization
        ]
        ax.barh(labels, shares, left=left, color=color, label=bucket)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of patient regions (peak in any window of the period)")
    ax.set_title("Cap utilization")
    ax.tick_params(axis="y", labelsize=7)
    if utilization:
        ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    else:
        ax.text(0.5, 0.5, "no rolling caps apply", ha="center", va="center", transform=ax.transAxes)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def rules_chart(by_rule: dict[str, int], findings: Sequence[Finding], top: int = 10) -> str:
    """The rules most often broken (violations and approvals now denied)."""
    counts: dict[str, int] = {}
    for f in findings:
        if f.kind == "unauthorized":
            continue
        for rule in f.rules:
            counts[rule] = counts.get(rule, 0) + 1
    return _ranked_rules_chart(counts, top, "Top rules broken", "findings", "no rule broken")


def _ranked_rules_chart(counts: dict[str, int], top: int, title: str, unit: str, none: str) -> str:
    """Horizontal bars of the ``top`` rules by count, the largest on top."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    names = [r for r, _ in reversed(ranked)]
    ax.barh(names, [n for _, n in reversed(ranked)], color=RULE_COLOR)
    ax.set_xlabel(unit)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7)
    if not ranked:
        ax.text(0.5, 0.5, none, ha="center", va="center", transform=ax.transAxes)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _headline(report: ComplianceReport) -> str:
    s = report.summary
    rate = s["violation_rate"]["overall"]
    ref = s["violation_rate"]["reference"]
    figures = [
        (s["procedures"], "procedures in the period"),
        (s["patients"], "patients"),
        (s["by_kind"]["violation"], "frequency / interval violations"),
        (f"{100 * rate['rate']:.1f}%", "of procedures with a violation"),
        (s["by_kind"]["unauthorized"], "procedures without a covering approval"),
        (s["by_kind"]["approval_now_denied"], "approvals that would be denied now"),
        (f"{100 * ref['rate']:.1f}%", f"OIG reference ({ref['source']})"),
    ]
    return _figures_html(figures)


def _figures_html(figures: Sequence[tuple[Any, str]]) -> str:
    """The headline: one box per (value, label)."""
    return (
        '<div class="headline">'
        + "".join(
            f'<div class="figure"><div class="value">{_e(v)}</div>'
            f'<div class="label">{_e(label)}</div></div>'
            for v, label in figures
        )
        + "</div>"
    )


def _charts_html(charts: Sequence[tuple[str, str, str]]) -> str:
    """(name, svg, caption) as figures in the two-column grid."""
    return (
        '<div class="charts">'
        + "".join(
            f'<figure class="chart" id="chart-{name}">{svg}<figcaption>{_e(caption)}</figcaption>'
            "</figure>"
            for name, svg, caption in charts
        )
        + "</div>"
    )


def _page(title: str, heading: str, intro: str, body: str) -> str:
    """One self-contained HTML document (no external resource of any kind)."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{_e(title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{_e(heading)}</h1>
<div class="meta">{intro}</div>
{body}
</body></html>
"""


def _rates_table(report: ComplianceReport) -> str:
    rows = "".join(
        f"<tr><td>{_e(fam)}</td><td>{r['procedures']}</td><td>{r['with_violation']}</td>"
        f"<td>{100 * r['rate']:.1f}%</td></tr>"
        for fam, r in report.summary["violation_rate"]["by_family"].items()
    )
    return (
        "<table><tr><th>family</th><th>procedures</th><th>with a violation</th>"
        f"<th>violation rate</th></tr>{rows}</table>"
    )


def _worst_table(report: ComplianceReport) -> str:
    by_patient: dict[str, dict[str, int]] = {}
    for f in report.findings:
        kinds = by_patient.setdefault(f.patient_id, {})
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    rows = "".join(
        f"<tr><td>{_e(w['patient_id'])}</td><td>{w['findings']}</td>"
        + "".join(
            f"<td>{by_patient.get(w['patient_id'], {}).get(k, 0)}</td>"
            for k in ("violation", "unauthorized", "approval_now_denied")
        )
        + "</tr>"
        for w in report.summary["worst_patients"]
    )
    return (
        "<table><tr><th>patient</th><th>findings</th><th>violations</th><th>unauthorized</th>"
        f"<th>approvals now denied</th></tr>{rows}</table>"
    )


def _findings_table(findings: Sequence[Finding]) -> str:
    shown = findings[:MAX_TABLE_ROWS]
    rows = []
    for f in shown:
        quotes = "<br>".join(
            f"<b>{_e(c['rule'])}</b>: “{_e(c['quote'])}” ({_e(c['source'])}"
            + (f", {_e(c['section'])}" if c.get("section") else "")
            + ")"
            for c in f.citations
        )
        rows.append(
            f'<tr><td class="kind-{_e(f.kind)}">{_e(f.kind)}</td><td>{_e(f.date_of_service)}</td>'
            f"<td>{_e(f.patient_id)}</td><td>{_e(f.event_id)}</td><td>{_e(f.region)}</td>"
            f"<td>{_e(f.family)}</td><td>{_e(', '.join(f.rules))}</td><td>{_e(f.message)}</td>"
            f'<td class="quote">{quotes}</td></tr>'
        )
    note = (
        f"<p class='meta'>The first {len(shown)} of {len(findings)} findings; the JSON and CSV "
        "formats hold them all.</p>"
        if len(findings) > len(shown)
        else ""
    )
    return (
        note + "<table><tr><th>kind</th><th>date of service</th><th>patient</th><th>event</th>"
        "<th>region</th><th>family</th><th>rules</th><th>what</th><th>citation</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_html(report: ComplianceReport) -> str:
    """The whole report as one HTML document (no external resource of any kind)."""
    s = report.summary
    window = s.get("authorization_window", {"before": "7 days", "after": "60 days"})
    period = f"{report.period.start} to {report.period.end}"
    known = f"as known at {report.as_of.isoformat()}" if report.as_of else "as known now"
    charts = [
        ("months", months_chart(report.findings), "Violations per month of service by family."),
        (
            "utilization",
            utilization_chart(s["cap_utilization"]),
            "How close patients ran to each rolling cap: the peak count in any window ending "
            "in the period, as a share of the limit.",
        ),
        (
            "rules",
            rules_chart(s["by_rule"], report.findings),
            "The rules broken most often (violations and approvals now denied).",
        ),
    ]
    return _page(
        f"Compliance report {report.policy_set} {period}",
        f"Compliance report: policy set {report.policy_set}",
        f"Dates of service {_e(period)}, {_e(known)}. Every non-voided procedure judged again "
        f"at its own date of service; an approved authorization covers {_e(window['before'])} "
        f"before to {_e(window['after'])} after its authorized date.",
        _headline(report)
        + _charts_html(charts)
        + "<h2>Violation rate by family</h2>"
        + _rates_table(report)
        + "<h2>Patients with the most findings</h2>"
        + _worst_table(report)
        + "<h2>Findings</h2>"
        + _findings_table(report.findings),
    )


# ---------------------------------------------------------------------- policy impact

CHANGE_COLORS = ("#b2182b", "#2166ac", "#762a83", "#1b7837", "#e08214", "#878787")


def impact_rules_chart(by_rule: dict[str, int], top: int = 12) -> str:
    """The rules whose status differs most often between the two sets."""
    return _ranked_rules_chart(by_rule, top, "Rules that differ", "procedures", "no rule differs")


def impact_families_chart(by_family: dict[str, dict[str, int]]) -> str:
    """Procedures that differ per family, stacked by change of decision."""
    families = sorted(by_family)
    changes = sorted({c for counts in by_family.values() for c in counts})
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    _stack(
        ax,
        families,
        [
            (
                change,
                [by_family[f].get(change, 0) for f in families],
                CHANGE_COLORS[i % len(CHANGE_COLORS)],
            )
            for i, change in enumerate(changes)
        ],
        ("procedures", "Differences by family and change of decision", "no differences"),
        7,
    )
    return _svg(fig)


def _impact_table(items: Sequence[ImpactItem]) -> str:
    shown = items[:MAX_TABLE_ROWS]
    rows = "".join(
        f"<tr><td>{_e(i.date_of_service)}</td><td>{_e(i.patient_id)}</td><td>{_e(i.event_id)}</td>"
        f"<td>{_e(i.region)}</td><td>{_e(i.family)}</td><td>{_e(i.decision)}</td>"
        f"<td>{_e(i.against)}</td><td>"
        + "<br>".join(
            f"<b>{_e(rule)}</b>: {_e(i.reasons.get(rule, 'absent'))} → "
            f"{_e(i.against_reasons.get(rule, 'absent'))}"
            for rule in i.rules
        )
        + "</td></tr>"
        for i in shown
    )
    note = (
        f"<p class='meta'>The first {len(shown)} of {len(items)} procedures; the JSON and CSV "
        "formats hold them all.</p>"
        if len(items) > len(shown)
        else ""
    )
    return (
        note + "<table><tr><th>date of service</th><th>patient</th><th>event</th><th>region</th>"
        "<th>family</th><th>decision now</th><th>under the candidate</th>"
        "<th>rules that differ (status now → candidate)</th></tr>" + rows + "</table>"
    )


def render_impact_html(report: ImpactReport) -> str:
    """The policy impact report as one self-contained HTML document."""
    s = report.summary
    period = f"{report.period.start} to {report.period.end}"
    figures = [
        (s["procedures"], "procedures in the period"),
        (s["differing"], "decided differently or on different rules"),
        (s["decision_changes"], "with a different decision"),
    ] + [(n, change) for change, n in sorted(s["by_change"].items())]
    charts = [
        (
            "impact-rules",
            impact_rules_chart(s["by_rule"]),
            "How many procedures each rule decides differently under the candidate set.",
        ),
        (
            "impact-families",
            impact_families_chart(s["by_family"]),
            "Procedures that differ, per family, by change of decision (now -> candidate).",
        ),
    ]
    return _page(
        f"Policy impact {report.policy_set} vs {report.against} {period}",
        f"Policy impact: {report.policy_set} (in force) against {report.against}",
        f"Dates of service {_e(period)}. Every non-voided procedure decided as if proposed on "
        "its date of service, with what was known before it, under both sets; listed when the "
        "decisions differ or rest on rules whose status differs.",
        _figures_html(figures)
        + _charts_html(charts)
        + "<h2>Procedures decided differently</h2>"
        + _impact_table(report.items),
    )
