"""A short run of the API benchmark: it must work end to end (the figures are not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_against_a_real_server_without_double_handouts():
    out = subprocess.run(
        [sys.executable, "bench/api_bench.py", "--db", "sqlite", "--quick", "--workers", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)["sqlite"]
    assert [i["tasks"] for i in report["import"]] == [200, 1000]
    for run in report["annotate"]:
        assert run["errors"] == []
        assert run["double_handouts"] == 0
        assert run["annotations"] == run["annotators"] * 5
    assert {e["format"] for e in report["export"]} == {"JSON", "CONLL2003"}
    assert all(e["mb"] > 0 for e in report["export"] if e["format"] == "JSON")
