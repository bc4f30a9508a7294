"""A short run of the labelling-page benchmark: it must work end to end in a real browser
(the timings are not judged; the keystroke counts are deterministic)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.conftest import CHROMIUM, _unavailable

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def test_quick_ui_benchmark_reports_every_figure():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    out = subprocess.run(
        [sys.executable, "bench/ui_bench.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)["sqlite"]
    assert report["keystrokes"]["accept_prediction"] == 1
    assert report["keystrokes"]["accept_prediction_correct"] is True
    assert report["keystrokes"]["entity_and_intent_from_scratch"] <= 5
    assert report["keystrokes"]["from_scratch_correct"] is True
    if report["keystrokes"]["multi_word_phrase_from_scratch"] is not None:
        assert report["keystrokes"]["multi_word_phrase_from_scratch"] <= 5
        assert report["keystrokes"]["multi_word_phrase_correct"] is True
    assert 0 < report["javascript_kb"] < 500
    for key in (
        "interactive_ms",
        "task_switch_k_ms",
        "submit_to_next_ms",
        "baseline_projects_page_ms",
    ):
        assert report[key] > 0
