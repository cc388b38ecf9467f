"""The CDS Hooks benchmark runs (a few calls) and answers five recorded orders a call, so
the figure ``injtrack bench`` reports keeps measuring the real path."""

from __future__ import annotations

from pathlib import Path

from api.cds_bench import cds_hooks_latencies_ms


def test_the_benchmark_times_order_sign_calls_with_five_orders(tmp_path: Path) -> None:
    times = cds_hooks_latencies_ms(runs=3, patients=2, store_dir=tmp_path, warmup=0)
    assert len(times) == 3 and all(t > 0 for t in times)
