"""``injtrack bench``: the figures issue 12 names, and the table that shows each beside its
ceiling. (CI runs ``injtrack bench --scale smoke`` and checks every figure is produced.)"""

from __future__ import annotations

from api.bench_cmd import KEYS, SCALES, TABLE, table


def test_the_json_has_exactly_the_figures_issue_12_names() -> None:
    assert KEYS == (
        "import_events_per_s",
        "import_ceiling_events_per_s",
        "import_sorted_feed_events_per_s",
        "http_ingest_events_per_s",
        "elig_inproc_p50_ms",
        "elig_inproc_p99_ms",
        "elig_http_p50_ms",
        "elig_http_p99_ms",
        "elig_http_rps_8_clients",
        "elig_growth_ratio",
        "baseline_sql_p50_ms",
        "rebuild_events_per_s",
        "rebuild_ceiling_events_per_s",
        "report_seconds",
        "store_bytes_per_event",
        "peak_rss_mb",
        "machine",
    )
    assert {"smoke", "medium", "full"} == set(SCALES)
    assert SCALES["full"].patients == 100_000 and SCALES["medium"].patients == 10_000


def test_the_table_shows_each_figure_beside_its_ceiling_and_dashes_for_those_not_taken() -> None:
    figures = dict.fromkeys(KEYS) | {
        "import_events_per_s": 6000.0,
        "import_ceiling_events_per_s": 10000.0,
    }
    shown = table(figures)
    [line] = [row for row in shown.splitlines() if row.startswith("import_events_per_s")]
    assert "import_ceiling_events_per_s 10,000" in line and "0.60" in line
    [line] = [row for row in shown.splitlines() if row.startswith("report_seconds")]
    assert " - " in line
    assert {key for key, _, _ in TABLE} <= set(KEYS)
