"""The queue: a round after each promoted model version writes priorities next-task follows;
batch reasons (uncertain, diverse, rare class, exploration); cold start; settings."""

from __future__ import annotations

import random

import pytest
from django.test import Client

from activelearn.models import QueueRound, QueueSettings
from activelearn.services import BATCH_PRIORITY, queue_refresh
from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task
from mlserve.jobs import train_run
from mlserve.services import model_version_create
from tasks.models import Task
from tasks.services import annotation_create, task_next_take, tasks_import
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.django_db


def _project(n_annotated=150, n_open=200, **settings):
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(5)
    utterances = generate_utterances(n_annotated + n_open, seed=5)
    items = [
        utterance_task(u, with_annotation=i < n_annotated, with_prediction=False, rng=rng)
        for i, u in enumerate(utterances)
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    QueueSettings.objects.create(project=project, **{"batch_size": 20, **settings})
    truth = {u.text: u.intent for u in utterances}
    return project, truth


def _train(project):
    version = model_version_create(project=project, control="intent")
    assert train_run.delay(version.pk).get() == "ready"
    return version


def test_a_promoted_version_reorders_the_queue_and_next_task_follows():
    project, truth = _project()
    _train(project)
    first_round = QueueRound.objects.get(project=project)
    assert first_round.model_version == "intent-v1" and first_round.scored == 200
    batch = [task_id for task_id, _ in first_round.batch]
    assert len(batch) == 20 and len(set(batch)) == 20
    priorities = dict(Task.objects.filter(pk__in=batch).values_list("pk", "priority"))
    assert [priorities[t] for t in batch] == sorted(priorities.values(), reverse=True)
    assert min(priorities.values()) > BATCH_PRIORITY
    annotator = make_user()
    add_member(project, annotator)
    assert task_next_take(project=project, user=annotator).pk == batch[0]
    # Label the batch (the oracle's labels), train again: a new round, a new head of queue.
    for _ in range(20):
        task = task_next_take(project=project, user=annotator)
        value = {"choices": [truth[task.data["text"]]]}
        choice = {"from_name": "intent", "to_name": "text", "type": "choices", "value": value}
        annotation_create(task=task, user=annotator, result=[choice])
    _train(project)
    second = QueueRound.objects.filter(project=project).order_by("-id").first()
    assert second.model_version == "intent-v2" and second.scored == 180
    new_batch = [task_id for task_id, _ in second.batch]
    assert not set(new_batch) & set(batch)  # those are labelled now
    assert task_next_take(project=project, user=make_member(project)).pk == new_batch[0]


def test_a_kept_back_version_rescores_the_queue_with_the_active_one(monkeypatch):
    from mlserve.services import training

    project, truth = _project()
    first = _train(project)
    batch = [task_id for task_id, _ in QueueRound.objects.get(project=project).batch]
    annotator = make_member(project)
    for _ in range(20):
        task = task_next_take(project=project, user=annotator)
        value = {"choices": [truth[task.data["text"]]]}
        choice = {"from_name": "intent", "to_name": "text", "type": "choices", "value": value}
        annotation_create(task=task, user=annotator, result=[choice])

    def keep_back(version, *args):
        version.promotion = "kept back: test"
        version.save(update_fields=["promotion"])

    monkeypatch.setattr(training, "_promote_if_better", keep_back)
    second = _train(project)
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.is_active and not second.is_active
    latest = QueueRound.objects.filter(project=project).order_by("-id").first()
    assert latest.model_version == first.name and latest.scored == 180
    new_batch = [task_id for task_id, _ in latest.batch]
    assert len(new_batch) == 20 and not set(new_batch) & set(batch)
    assert task_next_take(project=project, user=make_member(project)).pk == new_batch[0]


def make_member(project):
    user = make_user()
    add_member(project, user)
    return user


def test_batch_reasons_include_the_exploration_share():
    project, _ = _project(exploration=0.15, exploration_adaptive=False)
    _train(project)
    reasons = [reason for _, reason in QueueRound.objects.get(project=project).batch]
    assert sum(r == "exploration (random, 15% of the batch)" for r in reasons) == 3
    assert sum("margin" in r for r in reasons) >= 15
    uncertain = Task.objects.filter(project=project, is_labeled=False, uncertainty__isnull=False)
    assert uncertain.count() == 200


def test_rare_class_cover_is_off_by_default_and_on_when_asked():
    assert QueueSettings().rare_cover is False
    project, _ = _project(exploration=0.0)
    _train(project)
    reasons = [reason for _, reason in QueueRound.objects.get(project=project).batch]
    assert not any(r.startswith("rare predicted class") for r in reasons)
    covered, _ = _project(exploration=0.0, rare_cover=True)
    _train(covered)
    batch = QueueRound.objects.get(project=covered).batch
    assert len({task_id for task_id, _ in batch}) == 20  # the cover swaps, never grows


def test_random_strategy_and_cold_start():
    project, _ = _project(strategy="random", exploration=0.0)
    _train(project)
    reasons = {reason for _, reason in QueueRound.objects.get(project=project).batch}
    assert reasons == {"random order"}
    fresh, _ = _project(n_annotated=0, n_open=60)
    round_ = queue_refresh(project=fresh)
    assert round_.strategy == "cold_start" and len(round_.batch) == 20
    assert all(reason.startswith("cold start") for _, reason in round_.batch)
    seed = [task_id for task_id, _ in round_.batch]
    assert task_next_take(project=fresh, user=make_member(fresh)).pk in seed


def test_the_queue_api_settings_refresh_and_rounds():
    from tests.api_helpers import api

    project, _ = _project(n_annotated=0, n_open=30)
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/queue"
    bad = client.patch(url, {"exploration": 1.5}, format="json")
    assert bad.status_code == 400 and "exploration" in bad.json()["validation_errors"]
    saved = client.patch(url, {"batch_size": 5, "strategy": "entropy"}, format="json")
    assert saved.status_code == 200 and saved.json()["batch_size"] == 5
    refreshed = client.post(f"{url}/refresh")
    assert refreshed.status_code == 200 and refreshed.json()["strategy"] == "cold_start"
    body = client.get(url).json()
    assert body["settings"]["strategy"] == "entropy"
    assert [r["id"] for r in body["rounds"]] == [refreshed.json()["id"]]
    assert len(body["rounds"][0]["batch"]) == 5
    annotator = make_member(project)
    assert api(annotator).post(f"{url}/refresh").status_code == 403


def test_a_round_writes_its_head_and_resets_the_previous_one(monkeypatch):
    from activelearn import services

    monkeypatch.setattr(services, "QUEUE_DEPTH", 30)
    project, _ = _project(strategy="margin", exploration=0.0)
    _train(project)  # round 1 (margin)
    raised = set(
        Task.objects.filter(project=project).exclude(priority=0).values_list("pk", flat=True)
    )
    assert len(raised) == 30
    QueueSettings.objects.filter(project=project).update(strategy="random")
    queue_refresh(project=project)  # round 2 (random order): another head
    now = set(Task.objects.filter(project=project).exclude(priority=0).values_list("pk", flat=True))
    assert len(now) == 30 and now != raised
    assert Task.objects.filter(project=project, priority=0, uncertainty__isnull=False).count() == 0
    # The reasons went with the previous head: only the new head (30 tasks) has one.
    reasoned = Task.objects.filter(project=project, queue_reason__isnull=False)
    assert set(reasoned.values_list("pk", flat=True)) == now


def test_adaptive_exploration_takes_a_smaller_share_from_a_better_model():
    project, _ = _project(exploration=0.5, exploration_adaptive=True)
    version = _train(project)
    version.refresh_from_db()
    accuracy = version.metrics["accuracy"]
    reasons = [reason for _, reason in QueueRound.objects.get(project=project).batch]
    explored = sum(r.startswith("exploration (random") for r in reasons)
    assert explored == round(20 * 0.5 * min(1.0, 2 * (1 - accuracy)))
    assert explored < 10  # the generated intents are easy: accuracy well above 50 %


def test_head_tasks_say_why_they_were_chosen_in_the_data_manager():
    from tests.api_helpers import api

    project, _ = _project(strategy="margin", exploration=0.1, exploration_adaptive=False)
    _train(project)
    batch = dict(QueueRound.objects.get(project=project).batch)
    stored = dict(Task.objects.filter(pk__in=batch).values_list("pk", "queue_reason"))
    assert stored == {int(k): v for k, v in batch.items()}
    assert any(r.startswith("exploration (random") for r in stored.values())
    assert any("margin" in r and "diverse pick" in r for r in stored.values())
    # The rest of the head: "next after the batch"; the labelled tasks: none.
    after = Task.objects.filter(project=project, is_labeled=False).exclude(pk__in=batch)
    assert set(after.values_list("queue_reason", flat=True)) == {"margin: next after the batch"}
    assert not Task.objects.filter(project=project, is_labeled=True, queue_reason__isnull=False)
    rows = (
        api(project.created_by)
        .get(f"/api/projects/{project.pk}/data", {"sort": "-priority", "page_size": 5})
        .json()["tasks"]
    )
    assert [r["queue_reason"] for r in rows] == [stored[r["id"]] for r in rows]
    browser = Client()
    browser.force_login(project.created_by)
    html = browser.get(f"/projects/{project.pk}/data/").content.decode()
    assert "Chosen because" in html


def test_mc_dropout_scores_the_active_model_with_bald_over_dropout_passes():
    project, _ = _project(strategy="mc_dropout", exploration=0.0)
    _train(project)
    round_ = QueueRound.objects.get(project=project)
    assert round_.strategy == "mc_dropout"
    assert round_.note == ""  # sampled, not the margin fallback
    assert len(round_.batch) == 20
    chosen = Task.objects.filter(pk__in=[t for t, _ in round_.batch])
    assert all(t.uncertainty is not None and t.uncertainty > 0 for t in chosen)
