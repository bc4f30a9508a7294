"""A short run of the labelling progress benchmark: it must work end to end, and above the
exact bound the figure is an estimate equal to the count (figures not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_progress_benchmark_runs():
    out = subprocess.run(
        [sys.executable, "bench/progress_bench.py", "--tasks", "20000", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert report["tasks"] == 20000
    manager = report["answers"]["manager"]
    assert manager["remaining_estimated"] is True and 10_000 < manager["remaining"] < 20_000
    assert all(figures["median_ms"] > 0 for figures in report["timings"].values())
