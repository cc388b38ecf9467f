"""The CDS Hooks benchmark runs (a few calls) and answers five recorded orders a call, so
the figure ``injtrack bench`` reports keeps measuring the real path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_cds_hooks.py"


def test_the_benchmark_times_order_sign_calls_with_five_orders(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_cds_hooks", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    times = bench.cds_hooks_latencies_ms(runs=3, patients=2, store_dir=tmp_path, warmup=0)
    assert len(times) == 3 and all(t > 0 for t in times)
