"""A short run of the data manager benchmark: it must work end to end (figures not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_data_manager_benchmark_runs():
    out = subprocess.run(
        [sys.executable, "bench/datamanager_bench.py", "--tasks", "3000", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert report["tasks"] == 3000
    assert all(figures["median_ms"] > 0 for figures in report["pages"].values())
