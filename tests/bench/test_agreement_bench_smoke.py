"""A short run of the agreement benchmark: it must work end to end (figures not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_agreement_benchmark_runs():
    out = subprocess.run(
        [sys.executable, "bench/agreement_bench.py", "--tasks", "3000", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert report["tasks"] == 3000
    assert 200 < report["overlapped_tasks"] < 400
    assert set(report["project_agreement_seconds_median"]) == {
        "krippendorff", "fleiss", "cohen", "gwet"
    }  # fmt: skip
    assert 0.5 < report["gwet_ac1"] < 1.0
