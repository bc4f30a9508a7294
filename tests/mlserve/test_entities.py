"""The built-in entity recogniser's loop on generated demo spans: examples, a version with
validation F1 and span scores, promotion only when better, span predictions, the scorer,
and French pre-annotation by fr_core_news_sm before any training."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError

from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task
from mlserve.builtin.entities import EntityRecognizer, Span, entity_scores
from mlserve.jobs import preannotate_run
from mlserve.models import ModelKind, ModelStatus, ProjectMLSettings
from mlserve.services import (
    entity_examples,
    french_preannotate,
    model_version_create,
    model_version_train,
    predictions_write,
    project_language,
    retrain_due,
    validation_split,
)
from tasks.models import Prediction, Task
from tasks.services import tasks_import
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def _project(n_annotated=240, n_open=20, seed=5, lang=None):
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(seed)
    utterances = generate_utterances(2 * (n_annotated + n_open) if lang else n_annotated + n_open,
                                     seed=seed)  # fmt: skip
    if lang:
        utterances = [u for u in utterances if u.lang == lang][: n_annotated + n_open]
    items = [
        utterance_task(u, with_annotation=i < n_annotated, with_prediction=False, rng=rng)
        for i, u in enumerate(utterances)
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    return project, utterances


def test_the_scorer_matches_a_hand_count():
    truth = [[Span(0, 5, "DATE"), Span(10, 15, "LOCATION")], [Span(3, 8, "AMOUNT")], []]
    guess = [
        [Span(0, 5, "DATE"), Span(10, 14, "LOCATION")],  # one right, one wrong boundary
        [Span(3, 8, "AMOUNT"), Span(20, 25, "DATE")],  # one right, one spurious
        [Span(1, 2, "AMOUNT")],  # spurious
    ]
    scores = entity_scores(truth, guess)
    # tp 2, fp 3, fn 1: precision 2/5, recall 2/3, F1 = 2PR/(P+R) = 0.5
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.4, 0.6667, 0.5)
    assert scores["per_label"]["DATE"] == {
        "precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1,
    }  # fmt: skip
    assert scores["per_label"]["LOCATION"]["f1"] == 0.0
    assert scores["per_label"]["AMOUNT"] == {
        "precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1,
    }  # fmt: skip


def test_misaligned_spans_are_expanded_and_overlaps_dropped():
    train = [
        ("pay 40 euros tomorrow", [Span(4, 12, "AMOUNT"), Span(13, 21, "DATE")]),
        ("deliver to Lyon today", [Span(12, 15, "LOCATION"), Span(11, 13, "DATE")]),
    ] * 5
    model = EntityRecognizer.fit(train, max_epochs=2)
    # "yon" expands to "Lyon"; the second span overlaps it once expanded and is dropped.
    assert model.info["alignment"] == {"kept": 15, "expanded": 5, "dropped": 5}
    restored = EntityRecognizer.from_bytes(model.to_bytes())
    assert restored.labels == model.labels and restored.base == "blank:en"


def test_examples_take_the_control_spans_of_the_newest_finished_annotation():
    project, utterances = _project(n_annotated=12, n_open=3)
    examples = entity_examples(project=project, control_name="entities")
    assert len(examples) == 12
    by_text = {u.text: u for u in utterances}
    for example in examples:
        assert list(example.spans) == sorted(by_text[example.text].entities)


def test_training_reaches_a_good_f1_with_scores_that_favour_right_spans():
    project, utterances = _project()
    version = model_version_create(project=project, control="entities")
    assert version.kind == ModelKind.ENTITIES and version.name == "entities-v1"
    model_version_train(version=version)
    version.refresh_from_db()
    assert version.status == ModelStatus.READY and version.is_active
    metrics = version.metrics
    assert version.train_size + version.validation_size == 240
    assert metrics["entity_f1"] >= 0.85, metrics
    assert {"precision", "recall", "per_label", "history", "alignment"} <= set(metrics)
    assert set(metrics["per_label"]) <= {"DATE", "LOCATION", "PRODUCT", "AMOUNT", "ORDER_ID"}
    assert metrics["epochs"] <= 30
    if metrics["score_wrong"] is not None:
        assert metrics["score_correct"] > metrics["score_wrong"]
    # The 20 open tasks get one span prediction each, scores in [0, 1].
    open_ids = list(
        Task.objects.filter(project=project, is_labeled=False).values_list("pk", flat=True)
    )
    assert predictions_write(version=version, task_ids=open_ids) == 20
    assert predictions_write(version=version, task_ids=open_ids) == 20
    predictions = Prediction.objects.filter(model_version="entities-v1").select_related("task")
    assert predictions.count() == 20
    truth = {u.text: {(e.start, e.end, e.label) for e in u.entities} for u in utterances}
    right = total = 0
    for prediction in predictions:
        text = prediction.task.data["text"]
        for item in prediction.result:
            value = item["value"]
            assert item["type"] == "labels" and item["from_name"] == "entities"
            assert 0.0 <= item["score"] <= 1.0
            assert value["text"] == text[value["start"] : value["end"]]
            right += (value["start"], value["end"], value["labels"][0]) in truth[text]
            total += 1
        if prediction.result:
            assert prediction.score == min(i["score"] for i in prediction.result)
    assert total and right / total >= 0.8


def test_a_worse_version_is_kept_back():
    project, _ = _project(n_annotated=160, n_open=0)
    good = model_version_create(project=project, control="entities")
    model_version_train(version=good)
    # Wipe the spans of the training split (validation keeps the truth): the next version
    # learns to find almost nothing and must not replace the good one.
    for annotation in project.annotations.all():
        if not validation_split(project_id=project.pk, task_id=annotation.task_id):
            kept = [i for i in annotation.result if i["from_name"] != "entities"]
            first = next((i for i in annotation.result if i["from_name"] == "entities"), None)
            annotation.result = kept + ([first] if first else [])[:1]
            annotation.save(update_fields=["result"])
    worse = model_version_create(project=project, control="entities")
    model_version_train(version=worse)
    good.refresh_from_db()
    worse.refresh_from_db()
    assert good.is_active and not worse.is_active
    assert worse.promotion.startswith("kept back: F1")
    assert worse.metrics["compared_with"]["version"] == good.name


def test_training_without_spans_fails_with_a_reason():
    project, _ = _project(n_annotated=0, n_open=3)
    version = model_version_create(project=project, control="entities")
    with pytest.raises(ValidationError):
        model_version_train(version=version)
    version.refresh_from_db()
    assert version.status == ModelStatus.FAILED and "no span" in version.error


def test_retraining_covers_both_kinds_of_control():
    project, _ = _project(n_annotated=30, n_open=0)
    ProjectMLSettings.objects.create(project=project, retrain_every=10)
    assert retrain_due(project=project) == ["intent", "entities"]


def test_the_language_comes_from_the_setting_else_the_tasks():
    project, _ = _project(n_annotated=0, n_open=10, lang="fr")
    assert project_language(project=project) == "fr"
    ProjectMLSettings.objects.create(project=project, language="de")
    project.refresh_from_db()
    assert project_language(project=project) == "de"


def test_a_french_project_trains_from_fr_core_news_sm():
    project, _ = _project(n_annotated=80, n_open=0, lang="fr")
    version = model_version_create(project=project, control="entities")
    model_version_train(version=version)
    version.refresh_from_db()
    assert version.encoder.startswith("fr_core_news_sm-") and version.metrics["lang"] == "fr"
    assert version.metrics["entity_f1"] > 0.5


def test_french_preannotation_maps_loc_to_location_and_leaves_the_rest_out():
    project, _ = _project(n_annotated=0, n_open=40, lang="fr")
    assert 'predicted_values="LOC"' in project.label_config
    written = french_preannotate(project=project)
    assert written == 40
    predictions = Prediction.objects.filter(project=project, model_version__startswith="fr_core")
    assert predictions.count() == 40
    labels = [i["value"]["labels"][0] for p in predictions for i in p.result]
    assert labels and set(labels) == {"LOCATION"}
    assert all(0.0 <= i["score"] <= 1.0 for p in predictions for i in p.result)
    # Run again: tasks that have its prediction are left alone.
    assert french_preannotate(project=project) == 0


def test_preannotation_skips_projects_that_are_not_french():
    project, _ = _project(n_annotated=0, n_open=10, lang="en")
    assert french_preannotate(project=project) == 0


def test_the_preannotation_job_is_idempotent():
    project, _ = _project(n_annotated=0, n_open=6, lang="fr")
    assert preannotate_run.delay(project.pk).get() == 6
    assert preannotate_run.delay(project.pk).get() == 0
