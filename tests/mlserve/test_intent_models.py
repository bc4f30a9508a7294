"""The intent model's variants on generated utterances: the encoder chosen by the project's
language, multi-label controls (``<Choices choice="multiple">`` and ``<Taxonomy>``), and
warm-started retraining."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotator.demo.text import generate_utterances
from mlserve.builtin.encoders import MULTILINGUAL_ENCODER
from mlserve.builtin.intent import IntentClassifier
from mlserve.models import PredictionProbabilities, ProjectMLSettings, TaskEmbedding
from mlserve.services import (
    model_load,
    model_version_create,
    model_version_train,
    predictions_write,
    served_predict,
    task_embeddings,
    training_examples,
)
from tasks.models import Prediction, Task
from tasks.services import annotation_create, tasks_import
from tests.factories import make_project

pytestmark = pytest.mark.django_db

CHOICES_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="intent" toName="text" choice="single">{options}</Choices></View>"""
MULTI_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="topics" toName="text" choice="multiple">{options}</Choices></View>"""
# Demo intents under two roots: "Orders / track_order", "Money / payment_issue", ...
ROOTS = {
    "track_order": "Orders", "cancel_order": "Orders", "change_address": "Orders",
    "delivery_problem": "Orders", "request_refund": "Money", "payment_issue": "Money",
    "account_access": "Help", "product_question": "Help",
}  # fmt: skip
TAXONOMY_CONFIG = """<View><Text name="text" value="$text"/>
<Taxonomy name="topic" toName="text">{options}</Taxonomy></View>"""


def _options(values):
    return "".join(f'<Choice value="{v}"/>' for v in values)


def _taxonomy_options():
    roots = sorted(set(ROOTS.values()))
    return "".join(
        f'<Choice value="{root}">'
        + _options(sorted(i for i, r in ROOTS.items() if r == root))
        + "</Choice>"
        for root in roots
    )


def _choices_task(text, control, labels, **data):
    item = {"from_name": control, "to_name": "text", "type": "choices"}
    return {
        "data": {"text": text, **data},
        "annotations": [{"result": [{**item, "value": {"choices": labels}}]}],
    }


def _single_project(utterances, *, language="", intents=None):
    intents = intents or sorted({u.intent for u in utterances})
    project = make_project(label_config=CHOICES_CONFIG.format(options=_options(intents)))
    if language:
        ProjectMLSettings.objects.create(project=project, language=language)
    items = [_choices_task(u.text, "intent", [u.intent], lang=u.lang) for u in utterances]
    tasks_import(project=project, items=items, user=project.created_by)
    return project


def _pairs(n, seed):
    """Texts of one or two utterances (two different intents), labelled with both."""
    rng = random.Random(seed)
    utterances = [u for u in generate_utterances(4 * n, seed=seed) if u.lang == "en"]
    rows = []
    for i in range(n):
        first = utterances[i]
        if rng.random() < 0.5:
            rows.append((first.text, (first.intent,)))
            continue
        second = rng.choice([u for u in utterances[n:] if u.intent != first.intent])
        rows.append((f"{first.text} {second.text}", tuple(sorted({first.intent, second.intent}))))
    return rows


def _open_tasks(project, texts):
    summary = tasks_import(project=project, items=[{"text": t} for t in texts], user=None)
    return list(summary.task_ids)


# --- the encoder follows the language ------------------------------------------------------
def test_the_encoder_follows_the_project_language(media_root):
    utterances = generate_utterances(12, seed=2)
    french = _single_project(utterances, language="fr")
    english = _single_project(utterances, language="en")
    assert model_version_create(project=french, control="intent").encoder == MULTILINGUAL_ENCODER
    assert model_version_create(project=english, control="intent").encoder == "minilm"


def test_embeddings_are_cached_per_encoder_so_a_language_switch_never_mixes_them(media_root):
    project = _single_project(generate_utterances(4, seed=4))
    items = [(t.pk, t.data["text"]) for t in Task.objects.filter(project=project)]
    english = task_embeddings(items, encoder="minilm")
    multilingual = task_embeddings(items, encoder=MULTILINGUAL_ENCODER)
    assert english.shape == (4, 384) and multilingual.shape == (4, 512)
    assert np.allclose(np.linalg.norm(multilingual, axis=1), 1.0, atol=1e-4)
    assert TaskEmbedding.objects.filter(encoder="minilm").count() == 4
    assert TaskEmbedding.objects.filter(encoder=MULTILINGUAL_ENCODER).count() == 4
    assert np.allclose(task_embeddings(items, encoder=MULTILINGUAL_ENCODER), multilingual)


def test_a_french_project_trains_and_predicts_with_the_multilingual_encoder(media_root):
    utterances = [u for u in generate_utterances(400, seed=5) if u.lang == "fr"]
    train, held = utterances[:160], utterances[160:190]
    project = _single_project(train)  # no setting: the tasks' data.lang decides
    version = model_version_create(project=project, control="intent")
    assert version.encoder == MULTILINGUAL_ENCODER
    model_version_train(version=version)
    version.refresh_from_db()
    assert version.is_active and version.metrics["accuracy"] >= 0.7, version.metrics
    ids = _open_tasks(project, [u.text for u in held])
    predictions_write(version=version, task_ids=ids)
    right = 0
    for task_id, u in zip(ids, held, strict=True):
        prediction = Prediction.objects.get(task_id=task_id, model_version=version.name)
        project.parsed_config.validate_result(prediction.result)
        right += prediction.result[0]["value"]["choices"] == [u.intent]
    assert right >= 0.7 * len(held)


def test_a_version_on_another_encoder_is_compared_on_its_own_embeddings(media_root):
    project = _single_project([u for u in generate_utterances(200, seed=6) if u.lang == "en"])
    settings = ProjectMLSettings.objects.create(project=project, language="en")
    first = model_version_create(project=project, control="intent")
    model_version_train(version=first)
    settings.language = "fr"
    settings.save()
    second = model_version_create(project=project, control="intent")
    model_version_train(version=second)
    second.refresh_from_db()
    assert (first.encoder, second.encoder) == ("minilm", MULTILINGUAL_ENCODER)
    assert "warm_start" not in second.metrics  # another encoder: nothing to start from
    compared = second.metrics["compared_with"]
    assert compared["version"] == first.name and compared["accuracy"] >= 0.7


# --- multi-label ---------------------------------------------------------------------------
def test_multiple_choices_train_one_vs_rest_with_valid_multi_label_predictions(media_root):
    rows = _pairs(260, seed=7)
    intents = sorted({label for _, labels in rows for label in labels})
    project = make_project(label_config=MULTI_CONFIG.format(options=_options(intents)))
    items = [_choices_task(text, "topics", list(labels)) for text, labels in rows[:220]]
    tasks_import(project=project, items=items, user=project.created_by)
    examples = training_examples(project=project, control_name="topics")
    assert any(len(e.labels) == 2 for e in examples)
    version = model_version_create(project=project, control="topics")
    model_version_train(version=version)
    version.refresh_from_db()
    metrics = version.metrics
    assert version.is_active and metrics["multi_label"] is True
    assert metrics["micro_f1"] >= 0.7 and 0 < metrics["macro_f1"] <= 1, metrics
    assert 0.1 <= metrics["threshold"] <= 0.9 and metrics["temperature"] > 0
    assert {"precision", "recall", "f1-score", "support"} <= set(metrics["report"][intents[0]])
    held = rows[220:]
    ids = _open_tasks(project, [text for text, _ in held])
    assert predictions_write(version=version, task_ids=ids) == len(held)
    hits = 0
    for task_id, (_, labels) in zip(ids, held, strict=True):
        prediction = Prediction.objects.get(task_id=task_id, model_version=version.name)
        project.parsed_config.validate_result(prediction.result)
        predicted = prediction.result[0]["value"]["choices"]
        vector = np.frombuffer(bytes(prediction.probabilities.probabilities), dtype=np.float32)
        assert vector.shape == (len(metrics["classes"]),)
        chosen = {metrics["classes"][j] for j in np.flatnonzero(vector >= metrics["threshold"])}
        assert set(predicted) == (chosen or {metrics["classes"][int(vector.argmax())]})
        assert prediction.score == pytest.approx(
            min(float(vector[metrics["classes"].index(p)]) for p in predicted), abs=1e-4
        )
        hits += set(predicted) == set(labels)
    assert hits >= 0.5 * len(held)
    served = served_predict(project=project, tasks=[{"data": {"text": held[0][0]}}])
    project.parsed_config.validate_result(served[0]["result"])


def test_a_taxonomy_learns_flattened_paths_and_predicts_taxonomy_results(media_root):
    utterances = [u for u in generate_utterances(300, seed=8) if u.lang == "en"][:140]
    project = make_project(label_config=TAXONOMY_CONFIG.format(options=_taxonomy_options()))
    item = {"from_name": "topic", "to_name": "text", "type": "taxonomy"}
    items = [
        {
            "data": {"text": u.text},
            "annotations": [
                {"result": [{**item, "value": {"taxonomy": [[ROOTS[u.intent], u.intent]]}}]}
            ],
        }
        for u in utterances[:120]
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    [example, *_] = training_examples(project=project, control_name="topic")
    assert example.labels[0].count(" / ") == 1
    version = model_version_create(project=project, control="topic")
    model_version_train(version=version)
    version.refresh_from_db()
    assert version.metrics["multi_label"] and "Orders / track_order" in version.metrics["classes"]
    held = utterances[120:]
    ids = _open_tasks(project, [u.text for u in held])
    predictions_write(version=version, task_ids=ids)
    right = 0
    for task_id, u in zip(ids, held, strict=True):
        prediction = Prediction.objects.get(task_id=task_id, model_version=version.name)
        project.parsed_config.validate_result(prediction.result)
        [result] = prediction.result
        assert result["type"] == "taxonomy" and result["from_name"] == "topic"
        assert all(len(path) == 2 for path in result["value"]["taxonomy"])
        right += [ROOTS[u.intent], u.intent] in result["value"]["taxonomy"]
    assert right >= 0.6 * len(held)


# --- warm start ----------------------------------------------------------------------------
def test_a_retrain_starts_from_the_previous_head_and_learns_a_new_class(media_root):
    utterances = [u for u in generate_utterances(1200, seed=9) if u.lang == "en"]
    newcomer = "product_question"
    first = [u for u in utterances[:150] if u.intent != newcomer]
    project = _single_project(first, language="en", intents=sorted(ROOTS))
    v1 = model_version_create(project=project, control="intent")
    model_version_train(version=v1)
    v1.refresh_from_db()
    assert newcomer not in v1.metrics["classes"] and "warm_start" not in v1.metrics
    later = [u for u in utterances[150:] if u.intent == newcomer][:40]
    items = [_choices_task(u.text, "intent", [u.intent]) for u in later[:30]]
    tasks_import(project=project, items=items, user=project.created_by)
    v2 = model_version_create(project=project, control="intent")
    model_version_train(version=v2)
    v2.refresh_from_db()
    warm = v2.metrics["warm_start"]
    assert warm["from"] == v1.name and warm["new_classes"] == [newcomer]
    assert warm["known_classes"] == len(v1.metrics["classes"])
    assert newcomer in v2.metrics["classes"]
    ids = _open_tasks(project, [u.text for u in later[30:]])
    predictions_write(version=v2, task_ids=ids)
    guesses = [
        p.result[0]["value"]["choices"][0]
        for p in Prediction.objects.filter(task_id__in=ids, model_version=v2.name)
    ]
    assert guesses.count(newcomer) >= 6, guesses


def test_a_warm_start_converges_in_fewer_iterations_to_the_same_accuracy():
    rng = np.random.default_rng(0)
    utterances = [u for u in generate_utterances(500, seed=10) if u.lang == "en"]
    texts, labels = [u.text for u in utterances], [u.intent for u in utterances]
    # Stand-in embeddings: a class signal plus noise (the head is what is measured).
    centres = {label: rng.normal(size=32) for label in set(labels)}
    vectors = np.stack([centres[y] + rng.normal(scale=2.0, size=32) for y in labels])
    cut = int(0.8 * len(texts))
    v1 = IntentClassifier.fit(texts[:cut], vectors[:cut], labels[:cut], encoder="minilm")
    cold = IntentClassifier.fit(texts, vectors, labels, encoder="minilm")
    warm = IntentClassifier.fit(texts, vectors, labels, encoder="minilm", warm_from=v1)
    assert warm.info["head_iterations"] < cold.info["head_iterations"]
    agree = (
        warm.predict_proba(texts, vectors).argmax(1) == cold.predict_proba(texts, vectors).argmax(1)
    ).mean()
    assert agree >= 0.98
    other = IntentClassifier.fit(texts, vectors, labels, encoder="other", warm_from=v1)
    assert "warm_start" not in other.info  # another encoder's coefficients mean nothing here


def test_a_multi_label_retrain_is_warm_started_too(media_root):
    rows = _pairs(160, seed=11)
    intents = sorted({label for _, labels in rows for label in labels})
    project = make_project(label_config=MULTI_CONFIG.format(options=_options(intents)))
    items = [_choices_task(text, "topics", list(labels)) for text, labels in rows[:120]]
    tasks_import(project=project, items=items, user=project.created_by)
    v1 = model_version_create(project=project, control="topics")
    model_version_train(version=v1)
    more = [_choices_task(text, "topics", list(labels)) for text, labels in rows[120:]]
    tasks_import(project=project, items=more, user=project.created_by)
    v2 = model_version_create(project=project, control="topics")
    model_version_train(version=v2)
    v2.refresh_from_db()
    assert v2.metrics["warm_start"]["from"] == v1.name
    assert v2.metrics["micro_f1"] >= 0.7
    assert model_load(v2).multi_label


def test_a_single_answer_on_a_multi_label_control_still_trains(media_root):
    project = make_project(label_config=MULTI_CONFIG.format(options=_options(["a", "b"])))
    task = tasks_import(project=project, items=[{"text": "only one"}], user=None).task_ids[0]
    item = {"from_name": "topics", "to_name": "text", "type": "choices"}
    annotation_create(
        task=Task.objects.get(pk=task), user=project.created_by,
        result=[{**item, "value": {"choices": ["b", "a", "b"]}}],
    )  # fmt: skip
    [example] = training_examples(project=project, control_name="topics")
    assert example.labels == ("a", "b") and example.label == "a + b"
    assert not PredictionProbabilities.objects.exists()
