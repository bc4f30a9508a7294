"""``ml_evaluate``: the built-in models trained and scored on a data set through the real
services, on tiny generated folders and on samples of ../shared/data."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from django.core.management import CommandError, call_command

from annotator.demo.text import generate_utterances
from mlserve.models import ModelVersion
from projects.models import Project
from tasks.models import Task

pytestmark = pytest.mark.django_db

KEYS = {
    "intent_accuracy", "intent_macro_f1", "entity_f1", "train_seconds", "predict_per_second",
    "train_tasks", "test_tasks",
}  # fmt: skip


def _run(*args):
    out = io.StringIO()
    call_command("ml_evaluate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _write_csv(folder, n_train=120, n_test=40):
    folder.mkdir()
    utterances = generate_utterances(n_train + n_test, seed=11)
    for name, rows in (("train", utterances[:n_train]), ("test", utterances[n_train:])):
        with (folder / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "category"])
            writer.writerows([u.text, u.intent] for u in rows)
    return folder


def _write_jsonl(folder, n_train=160, n_test=40):
    folder.mkdir()
    utterances = generate_utterances(n_train + n_test, seed=12)
    for name, rows in (("train", utterances[:n_train]), ("test", utterances[n_train:])):
        with (folder / f"{name}.jsonl").open("w") as handle:
            for u in rows:
                entities = [
                    {"start": e.start, "end": e.end, "label": e.label, "text": u.text[e.start : e.end]}
                    for e in u.entities
                ]  # fmt: skip
                item = {"text": u.text, "intent": u.intent, "entities": entities, "split": name}
                handle.write(json.dumps(item) + "\n")
    return folder


def test_a_csv_folder_gives_intent_metrics_and_no_entity_f1(tmp_path, media_root):
    report = json.loads(_run("--data", str(_write_csv(tmp_path / "csv")), "--json"))
    assert set(report) >= KEYS
    assert (report["train_tasks"], report["test_tasks"]) == (120, 40)
    assert report["entity_f1"] is None
    assert report["intent_accuracy"] >= 0.7 and 0 < report["intent_macro_f1"] <= 1
    assert set(report["train_seconds"]) == {"intent"}
    assert report["predict_per_second"]["intent"] > 0
    # The throwaway project is gone, with its versions.
    assert not Project.objects.exists() and not ModelVersion.objects.exists()


def test_a_jsonl_folder_gives_entity_f1_too(tmp_path, media_root):
    report = json.loads(_run("--data", str(_write_jsonl(tmp_path / "jsonl")), "--json"))
    assert set(report) >= KEYS
    assert report["entity_f1"] >= 0.7
    assert set(report["train_seconds"]) == {"intent", "entities"}
    assert 0 <= report["entity_score_correct"] <= 1


def test_test_tasks_are_imported_without_annotations_and_kept_on_request(tmp_path, media_root):
    folder = _write_csv(tmp_path / "csv", n_train=60, n_test=20)
    text = _run("--data", str(folder), "--keep", "--limit", "50")
    assert "intent accuracy" in text and "entity F1 n/a" in text
    project = Project.objects.get()
    assert project.tasks.count() == 70
    assert Task.objects.filter(project=project, total_annotations=0).count() == 20
    # The version saw only the training rows (train + validation split).
    version = ModelVersion.objects.get(project=project)
    assert version.train_size + version.validation_size == 50


def test_the_encoder_can_be_chosen(tmp_path, media_root):
    folder = _write_csv(tmp_path / "csv", n_train=100, n_test=30)
    report = json.loads(_run("--data", str(folder), "--json", "--encoder", "use-multilingual"))
    assert report["encoder"] == "use-multilingual" and report["intent_accuracy"] >= 0.7
    assert ModelVersion.objects.count() == 0
    with pytest.raises(CommandError, match="invalid choice"):
        _run("--data", str(folder), "--encoder", "word2vec")


def test_a_folder_without_data_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no train"):
        _run("--data", str(tmp_path))


@pytest.mark.parametrize(("name", "entities"), [("snips", True), ("banking77", False)])
def test_shared_data_sets_evaluate_on_a_sample(shared_data, media_root, name, entities):
    random.seed(0)
    report = json.loads(_run("--data", str(shared_data / name), "--json", "--limit", "300"))
    assert (report["train_tasks"], report["test_tasks"]) == (300, 300)
    assert report["intent_accuracy"] > (0.8 if entities else 0.3)
    assert (report["entity_f1"] is not None) == entities
    if entities:
        assert report["entity_f1"] > 0.5
