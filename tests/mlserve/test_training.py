"""The built-in intent model's loop on generated utterances: examples, a fixed validation
split, cached embeddings, a version with metrics, promotion, predictions with probabilities."""

from __future__ import annotations

import random

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task
from mlserve.jobs import retrain_check, train_run
from mlserve.models import (
    ModelStatus,
    ModelVersion,
    PredictionProbabilities,
    ProjectMLSettings,
    TaskEmbedding,
)
from mlserve.services import (
    model_version_activate,
    model_version_create,
    model_version_train,
    predictions_write,
    retrain_due,
    task_embeddings,
    training_examples,
    validation_split,
)
from tasks.models import Prediction, Task
from tasks.services import annotation_create, tasks_import
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def _project(n_annotated=240, n_open=20, seed=3):
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(seed)
    utterances = generate_utterances(n_annotated + n_open, seed=seed)
    items = [
        utterance_task(u, with_annotation=i < n_annotated, with_prediction=False, rng=rng)
        for i, u in enumerate(utterances)
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    return project, utterances


def test_examples_take_ground_truth_first_and_skip_cancelled():
    project, utterances = _project(n_annotated=10, n_open=0)
    task = Task.objects.filter(project=project).order_by("id").first()
    other = next(i for i in sorted({u.intent for u in utterances}) if i != utterances[0].intent)
    choice = {"from_name": "intent", "to_name": "text", "type": "choices"}
    annotation_create(
        task=task, user=project.created_by, result=[{**choice, "value": {"choices": [other]}}],
        ground_truth=True,
    )  # fmt: skip
    annotation_create(task=task, user=project.created_by, result=[], was_cancelled=True)
    examples = {e.task_id: e for e in training_examples(project=project, control_name="intent")}
    assert len(examples) == 10
    assert examples[task.pk].label == other
    assert examples[task.pk].text == task.data["text"]


def test_the_validation_split_is_fixed_and_about_a_fifth():
    held = [validation_split(project_id=7, task_id=t) for t in range(5000)]
    assert held == [validation_split(project_id=7, task_id=t) for t in range(5000)]
    assert 0.17 < sum(held) / len(held) < 0.23


def test_embeddings_are_computed_once_per_task():
    project, _ = _project(n_annotated=0, n_open=6)
    items = [(t.pk, t.data["text"]) for t in Task.objects.filter(project=project)]
    first = task_embeddings(items)
    assert first.shape == (6, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    assert TaskEmbedding.objects.count() == 6
    again = task_embeddings(list(reversed(items)))
    assert np.allclose(again, first[::-1]) and TaskEmbedding.objects.count() == 6


def test_training_records_metrics_promotes_and_predicts_with_probabilities():
    project, utterances = _project()
    version = model_version_create(project=project, control="intent")
    assert (version.name, version.status) == ("intent-v1", ModelStatus.QUEUED)
    assert train_run.delay(version.pk).get() == ModelStatus.READY
    version.refresh_from_db()
    assert version.is_active and version.promotion.startswith("promoted")
    assert version.train_size + version.validation_size == 240
    assert version.validation_size > 20
    metrics = version.metrics
    assert metrics["accuracy"] >= 0.8, metrics
    assert set(metrics["classes"]) == {u.intent for u in utterances[:240]}
    assert metrics["temperature"] > 0 and metrics["ece"] <= 0.2
    assert {"precision", "recall", "f1-score"} <= set(metrics["report"][metrics["classes"][0]])
    # Every unlabelled task got a prediction of the active version, with its vector.
    open_tasks = Task.objects.filter(project=project, is_labeled=False)
    predictions = Prediction.objects.filter(model_version="intent-v1")
    assert predictions.count() == open_tasks.count() == 20
    truth = {u.text: u.intent for u in utterances}
    right = 0
    for prediction in predictions.select_related("task", "probabilities"):
        [item] = prediction.result
        vector = np.frombuffer(bytes(prediction.probabilities.probabilities), dtype=np.float32)
        assert vector.shape == (len(metrics["classes"]),)
        assert abs(float(vector.sum()) - 1) < 1e-4
        assert item["score"] == pytest.approx(float(vector.max()), abs=1e-4)
        assert item["value"]["choices"] == [metrics["classes"][int(vector.argmax())]]
        right += item["value"]["choices"][0] == truth[prediction.task.data["text"]]
        assert prediction.task.total_predictions == 1
    assert right >= 14


def test_a_worse_version_is_kept_back_and_rollback_works():
    project, _ = _project()
    good = model_version_create(project=project, control="intent")
    model_version_train(version=good)
    good.refresh_from_db()
    assert good.is_active
    # Scramble the training labels (the validation split keeps the truth): the next version
    # learns noise and must not replace the good one.
    annotations = [
        a
        for a in project.annotations.order_by("id")
        if not validation_split(project_id=project.pk, task_id=a.task_id)
    ]
    rng = random.Random(0)
    labels = [a.result[-1]["value"]["choices"][0] for a in annotations]
    rng.shuffle(labels)
    for annotation, label in zip(annotations, labels, strict=True):
        annotation.result[-1]["value"]["choices"] = [label]
        annotation.save(update_fields=["result"])
    worse = model_version_create(project=project, control="intent")
    model_version_train(version=worse)
    worse.refresh_from_db()
    good.refresh_from_db()
    assert not worse.is_active and good.is_active
    assert worse.promotion.startswith("kept back")
    assert worse.metrics["compared_with"]["version"] == good.name
    model_version_activate(version=worse)  # a manager's explicit choice (rollback works alike)
    assert list(ModelVersion.objects.filter(is_active=True)) == [worse]


def test_training_without_two_labels_fails_with_a_reason():
    project, _ = _project(n_annotated=0, n_open=3)
    version = model_version_create(project=project, control="intent")
    with pytest.raises(ValidationError):
        model_version_train(version=version)
    version.refresh_from_db()
    assert version.status == ModelStatus.FAILED and "fewer than 2 labels" in version.error


def test_an_unknown_control_is_refused():
    project, _ = _project(n_annotated=0, n_open=1)
    with pytest.raises(ValidationError, match="trainable"):
        model_version_create(project=project, control="context")


def test_retraining_is_due_after_n_new_annotations():
    project, utterances = _project(n_annotated=60, n_open=30)
    ProjectMLSettings.objects.create(project=project, retrain_every=25, control="intent")
    assert retrain_due(project=project) == ["intent"]
    assert retrain_check.delay().get() == 1
    assert ModelVersion.objects.get(project=project).status == ModelStatus.READY
    assert retrain_due(project=project) == []
    choice = {"from_name": "intent", "to_name": "text", "type": "choices"}
    for task in Task.objects.filter(project=project, is_labeled=False)[:25]:
        value = {"choices": [utterances[0].intent]}
        annotation_create(task=task, user=project.created_by, result=[{**choice, "value": value}])
    assert retrain_due(project=project) == ["intent"]


def test_predictions_replace_the_versions_earlier_ones():
    project, _ = _project(n_annotated=120, n_open=5)
    version = model_version_create(project=project, control="intent")
    model_version_train(version=version, promote=False)
    ids = list(Task.objects.filter(project=project, is_labeled=False).values_list("pk", flat=True))
    assert predictions_write(version=version, task_ids=ids) == 5
    assert predictions_write(version=version, task_ids=ids) == 5
    assert Prediction.objects.filter(model_version=version.name).count() == 5
    assert PredictionProbabilities.objects.count() == 5


def test_a_task_opened_without_prediction_is_predicted_by_the_active_version():
    from tests.api_helpers import api

    project, utterances = _project(n_annotated=150, n_open=0)
    version = model_version_create(project=project, control="intent")
    model_version_train(version=version)
    [task_id] = tasks_import(
        project=project, items=[{"text": utterances[0].text, "context": []}], user=None
    ).task_ids
    assert not Prediction.objects.filter(task_id=task_id).exists()
    body = api(project.created_by).get(f"/api/tasks/{task_id}/label").json()
    prediction = body["prediction"]
    assert prediction["model_version"] == "intent-v1" and 0 < prediction["score"] <= 1
    assert prediction["result"][0]["value"]["choices"][0] in version.metrics["classes"]
    assert body["prediction_notice"] is None
    assert PredictionProbabilities.objects.filter(prediction_id=prediction["id"]).exists()


def test_artifact_names_are_never_reused():
    """Loaded models are cached by artifact path: a path must name one model forever, even
    when a deleted project's id and version name come back (as in ml_evaluate's runs)."""
    from mlserve.services.common import artifact_name

    version = ModelVersion(project_id=1, name="intent-v1")
    first, second = artifact_name(version, "joblib"), artifact_name(version, "joblib")
    assert first != second and first.startswith("models/project-1/intent-v1-")


@pytest.mark.parametrize("seed", range(6))
def test_the_promotion_gate_is_mcnemars_one_sided_test(seed):
    """``clearly_worse`` against statsmodels' McNemar (chi-square, no continuity correction)
    on generated paired outcomes: worse exactly when the new version loses more of the
    disagreements and the one-sided p-value (half the two-sided one) is under 5 %."""
    from statsmodels.stats.contingency_tables import mcnemar

    from mlserve.services.common import clearly_worse

    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(20, 400))
        old_right = rng.random(n) < rng.uniform(0.5, 0.95)
        flip = rng.random(n) < rng.uniform(0.0, 0.2)
        drift = rng.uniform(-0.3, 0.3)  # new version better (>0) or worse (<0) on the flips
        new_right = np.where(flip, rng.random(n) < 0.5 + drift, old_right)
        lost = int((old_right & ~new_right).sum())
        won = int((new_right & ~old_right).sum())
        worse, counts = clearly_worse(new_right, old_right)
        assert counts == f"lost {lost}, won {won} of the examples"
        if lost + won == 0:
            assert not worse
            continue
        table = [[0, lost], [won, 0]]
        p_one_sided = mcnemar(table, exact=False, correction=False).pvalue / 2
        assert worse == (lost > won and p_one_sided < 0.05), (lost, won, p_one_sided)


def test_the_gate_forgives_a_difference_of_chance_and_not_a_clear_loss():
    from mlserve.services.common import clearly_worse

    old = np.ones(200, dtype=bool)
    new = old.copy()
    new[:3] = False  # 3 lost, 0 won: 3 > 1.645 * sqrt(3) = 2.85, worse
    assert clearly_worse(new, old)[0]
    new[3:5] = False
    old[5:7] = False  # 5 lost, 2 won: 3 < 1.645 * sqrt(7) = 4.35, chance
    assert not clearly_worse(new, old)[0]
    assert not clearly_worse(old, old)[0]
