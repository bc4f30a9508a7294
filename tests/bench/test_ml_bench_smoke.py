"""Short runs of the queue and on-open prediction benchmarks: they work end to end and print
their figures with a same-run baseline (figures not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout[out.stdout.index("{") :])


def test_quick_queue_benchmark_runs():
    report = _run("bench/al_bench.py", "--tasks", "2000", "--rounds", "1")
    assert report["tasks"] == 2000
    assert report["round_seconds_median"] > 0 and report["baseline_read_probabilities_seconds"] > 0


def test_quick_prediction_benchmark_runs():
    report = _run("bench/predict_bench.py", "--train", "120", "--tasks", "6")
    assert report["tasks"] == 6
    assert report["median_ms"] > 0 and report["baseline_encode_median_ms"] > 0
