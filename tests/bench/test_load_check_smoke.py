"""A short run of the load check: annotators against a real server, then the row audit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_load_check_loses_nothing_and_doubles_nothing():
    out = subprocess.run(
        [sys.executable, "bench/load_check.py", "--db", "sqlite", "--annotators", "4",
         "--seconds", "4", "--tasks", "2000", "--workers", "1", "--think", "0.2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)["sqlite"]
    assert report["errors"] == {}
    assert report["submits_accepted"] > 0
    audit = report["audit"]
    assert audit["accepted_submits"] == audit["annotations_in_db"] == report["submits_accepted"]
    assert audit["lost"] == audit["duplicate_annotations"] == 0
    assert audit["tasks_held_by_two"] == audit["counter_mismatches"] == 0
    assert audit["drafts_over_submitted_work"] == 0
    assert report["idempotent_replays"]["sent"] == report["idempotent_replays"]["same_annotation"]
