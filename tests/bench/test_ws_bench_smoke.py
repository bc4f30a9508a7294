"""A short run of the websocket fan-out benchmark: every client gets every event (the
latencies are not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_fan_out_reaches_every_client():
    command = ["bench/ws_bench.py", "--clients", "10", "--events", "3", "--setups", "memory"]
    out = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)["memory"]
    assert report["deliveries"] == 30
    assert report["missing"] == 0
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
