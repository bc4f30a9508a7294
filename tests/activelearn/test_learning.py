"""The loop round by round: labels, accuracy, median seconds, accepted predictions, the
stopping hint; the page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activelearn.selectors import learning_loop
from mlserve.models import ModelVersion
from tasks.models import Prediction, Task
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def _version(project, number, accuracy, size, finished, **extra):
    return ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=number,
        name=f"intent-v{number}", status="ready", metrics={"accuracy": accuracy},
        train_size=size, validation_size=size // 4, finished_at=finished, **extra,
    )  # fmt: skip


def _choice(value):
    return [{"from_name": "intent", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]  # fmt: skip


def test_rounds_count_labels_time_and_accepted_predictions():
    project = make_project()
    now = timezone.now()
    _version(project, 1, 0.70, 80, now - timedelta(hours=2))
    _version(project, 2, 0.80, 160, now + timedelta(hours=1), is_active=True)
    ids = tasks_import(
        project=project, items=[{"text": f"t{i}"} for i in range(3)], user=None
    ).task_ids
    tasks = list(Task.objects.filter(pk__in=ids).order_by("id"))
    shown = [
        Prediction.objects.create(task=t, project=project, result=_choice("greet"),
                                  model_version="intent-v1", score=0.9)
        for t in tasks
    ]  # fmt: skip
    user = project.created_by
    annotation_create(
        task=tasks[0], user=user, result=_choice("greet"), lead_time=4.0, parent_prediction=shown[0]
    )  # accepted as is
    annotation_create(
        task=tasks[1], user=user, result=_choice("ask"), lead_time=10.0, parent_prediction=shown[1]
    )  # changed
    annotation_create(task=tasks[2], user=user, result=_choice("greet"), lead_time=6.0)
    loop = learning_loop(project=project)
    first, second = loop.rounds
    assert (first.labels, first.labels_added, second.labels, second.labels_added) == (
        100,
        100,
        200,
        100,
    )
    assert (first.accuracy, second.accuracy) == (0.70, 0.80) and second.active
    assert first.median_seconds == 6.0
    assert (first.predictions_shown, first.accepted, first.acceptance_rate) == (2, 1, 0.5)
    assert second.median_seconds is None and second.predictions_shown == 0
    assert loop.stopping_hint is None


def test_a_flat_curve_gives_a_stopping_hint():
    project = make_project()
    now = timezone.now()
    for n, accuracy in enumerate([0.80, 0.90, 0.902, 0.903, 0.905], start=1):
        _version(project, n, accuracy, 100 * n, now + timedelta(minutes=n))
    hint = learning_loop(project=project).stopping_hint
    assert hint is not None and hint.startswith("intent: the last 3 versions")
    ModelVersion.objects.filter(number=5).update(metrics={"accuracy": 0.95})
    assert learning_loop(project=project).stopping_hint is None


def test_page_and_api(client):
    project = make_project()
    _version(project, 1, 0.75, 40, timezone.now(), is_active=True)
    client.force_login(project.created_by)
    page = client.get(f"/projects/{project.pk}/learning/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="learning-curve"' in html and "intent-v1" in html
    body = api(project.created_by).get(f"/api/projects/{project.pk}/learning").json()
    assert body["rounds"][0]["version"] == "intent-v1" and body["rounds"][0]["accuracy"] == 0.75
