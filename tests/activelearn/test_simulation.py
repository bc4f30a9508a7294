"""``al_simulate``: the active-learning loop run by an oracle through the real services
(next-task, submit, training, predictions, queue rounds), a strategy against random order,
on a small generated CSV folder and a sample of SNIPS (JSONL)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from activelearn.simulation import SIMULATION_USER, strategy_parse
from annotator.demo.text import generate_utterances
from annotator.models import AuditEvent
from projects.models import Organization, Project

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {"labels_to_90", "labels_to_95", "saving_90", "saving_95", "curve", "seeds",
                "scoring_seconds_per_10k"}  # fmt: skip


def _run(*args):
    out = io.StringIO()
    call_command("al_simulate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _write_csv(folder, n_train=160, n_test=60):
    folder.mkdir()
    utterances = generate_utterances(n_train + n_test, seed=21)
    for name, rows in (("train", utterances[:n_train]), ("test", utterances[n_train:])):
        with (folder / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "category"])
            writer.writerows([u.text, u.intent] for u in rows)
    return folder


def _submitted_per_project():
    """Annotations the oracle submitted, per run project (the audit trail outlives the
    deleted projects)."""
    events = AuditEvent.objects.filter(actor_username=SIMULATION_USER, action="annotation.create")
    return Counter(events.values_list("project_id", flat=True))


def test_a_simulation_reports_curves_of_real_rounds_against_random(tmp_path, media_root):
    folder = _write_csv(tmp_path / "utterances")
    plot = tmp_path / "curves.png"
    projects_before = Project.objects.count()
    report = json.loads(
        _run(
            "--data", str(folder), "--strategy", "margin", "--strategy",
            "margin:exploration=0,diversity=no", "--seeds", "2", "--batch", "20",
            "--max-labels", "60", "--json", "--plot", str(plot),
        )
    )  # fmt: skip
    assert 0.5 < report["full_accuracy"] <= 1.0
    assert report["default_strategy"] == "margin"
    assert report["targets"]["95"] == pytest.approx(0.95 * report["full_accuracy"], abs=1e-4)
    assert list(report["strategies"]) == ["margin", "margin:exploration=0,diversity=no", "random"]
    per_run_labels = []
    for name, row in report["strategies"].items():
        assert set(row) >= SUMMARY_KEYS, name
        assert len(row["seeds"]) == 2
        for run in row["seeds"]:
            # One curve point per round, batches of 20, stopping at the target or 60 labels.
            labels = [p[0] for p in run["curve"]]
            assert labels == [20 * (i + 1) for i in range(run["rounds"])]
            assert all(0.0 <= p[1] <= 1.0 for p in run["curve"])
            last = run["curve"][-1]
            assert last[1] >= report["targets"]["95"] or last[0] == 60
            if run["labels_to_95"] is not None:
                assert run["labels_to_95"] == next(
                    n for n, acc in run["curve"] if acc >= report["targets"]["95"]
                )
            per_run_labels.append(last[0])
        assert [p[0] for p in row["curve"]] == sorted(
            {p[0] for r in row["seeds"] for p in r["curve"]}
        )
    random = report["strategies"]["random"]
    margin = report["strategies"]["margin"]
    if margin["labels_to_95"] is not None and random["labels_to_95"] is not None:
        assert margin["saving_95"] == pytest.approx(
            1 - margin["labels_to_95"] / random["labels_to_95"], abs=1e-3
        )
    assert random["saving_95"] in (0.0, None)
    # Every label of every run went through the submit service: one audit event each, in
    # 6 projects (3 strategies x 2 seeds) besides the full-data one (imported, not submitted).
    submitted = _submitted_per_project()
    assert sorted(submitted.values()) == sorted(per_run_labels)
    # The throwaway projects and their organization are gone; the plot is a PNG.
    assert Project.objects.count() == projects_before
    assert not Organization.objects.filter(title__startswith="al_simulate").exists()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_snips_sample_runs_the_default_against_random_in_text(media_root, shared_data):
    out = _run(
        "--data", str(shared_data / "snips"), "--limit", "200", "--seeds", "1",
        "--batch", "25", "--max-labels", "50",
    )  # fmt: skip
    assert "snips: pool 200 tasks" in out
    lines = out.splitlines()
    assert any(line.startswith("margin ") for line in lines)
    assert any(line.startswith("random ") for line in lines)
    assert "full-data accuracy" in out


def test_bad_strategies_and_arguments_are_refused(tmp_path):
    with pytest.raises(CommandError, match="unknown strategy 'nope'"):
        _run("--data", str(_write_csv(tmp_path / "a")), "--strategy", "nope")
    with pytest.raises(CommandError, match="can set only"):
        _run("--data", str(tmp_path / "a"), "--strategy", "margin:batch_size=3")
    with pytest.raises(CommandError, match="--seeds must be at least 1"):
        _run("--data", str(tmp_path / "a"), "--seeds", "0")
    with pytest.raises(CommandError, match="is not a folder"):
        _run("--data", str(tmp_path / "missing"))


def test_strategy_specs_parse_settings():
    spec = strategy_parse("entropy:exploration=0.05,diversity=no,exploration_adaptive=off")
    assert spec.strategy == "entropy"
    assert spec.overrides == {
        "exploration": 0.05,
        "diversity": False,
        "exploration_adaptive": False,
    }
