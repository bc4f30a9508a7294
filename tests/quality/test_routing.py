"""Confidence routing: thresholds as project settings route tasks to seniors, juniors or
consensus; next-task follows the annotator's level; the data manager shows why."""

from __future__ import annotations

import numpy as np
import pytest

from mlserve.models import ModelVersion, PredictionProbabilities
from projects.services import project_member_set
from quality.services_workflow import task_routes_refresh
from tasks.models import Prediction, Task
from tasks.services import annotation_create, task_next_take, tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project, make_user

pytestmark = pytest.mark.django_db

SCORES = {"doubtful": 0.3, "sure": 0.95, "middle": 0.7, "tie": 0.48}


@pytest.fixture
def routed():
    manager = make_user()
    project = make_project(
        owner=manager, routing_low=0.5, routing_high=0.9, routing_margin=0.1, routing_consensus_k=3
    )
    ids = tasks_import(project=project, items=[{"text": t} for t in SCORES], user=None).task_ids
    tasks = dict(zip(SCORES, ids, strict=True))
    for name, pk in tasks.items():
        Task.objects.filter(pk=pk).update(prediction_score=SCORES[name])
    version = ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=1, name="intent-v1"
    )
    for name, vector in (("tie", [0.48, 0.46, 0.06]), ("middle", [0.7, 0.2, 0.1])):
        prediction = Prediction.objects.create(
            task_id=tasks[name], project=project, result=[choice()], score=SCORES[name]
        )
        PredictionProbabilities.objects.create(
            prediction=prediction,
            version=version,
            probabilities=np.array(vector, dtype=np.float32).tobytes(),
        )
    return project, manager, tasks


def test_tasks_are_routed_by_the_thresholds_with_a_reason(routed):
    project, manager, tasks = routed
    answer = api(manager).post(f"/api/projects/{project.pk}/routing")
    assert answer.status_code == 200
    assert answer.json() == {"senior": 1, "junior": 1, "consensus": 1, "anyone": 1, "changed": 4}
    got = {name: Task.objects.get(pk=pk) for name, pk in tasks.items()}
    assert got["doubtful"].route == "senior"
    assert got["doubtful"].route_reason == "score 0.30 < low 0.50: seniors"
    assert got["sure"].route == "junior"
    assert got["middle"].route == "" and "between thresholds" in got["middle"].route_reason
    assert got["tie"].route == "consensus"
    assert got["tie"].route_reason == "top-2 margin 0.02 < 0.10: 3 annotators"
    assert got["tie"].overlap == 3


def test_juniors_never_get_tasks_routed_to_seniors(routed):
    project, _, tasks = routed
    task_routes_refresh(project=project)
    junior, senior = make_user("junior"), make_user("senior")
    project_member_set(project=project, user=junior, role="annotator", level="junior")
    project_member_set(project=project, user=senior, role="annotator", level="senior")
    handed = []
    while (task := task_next_take(project=project, user=junior)) is not None:
        handed.append(task.pk)
        annotation_create(task=task, user=junior, result=[choice()])
    assert set(handed) == {tasks["sure"], tasks["middle"], tasks["tie"]}
    assert task_next_take(project=project, user=senior).pk == tasks["doubtful"]


def test_the_data_manager_shows_where_a_task_went_and_why(routed):
    project, manager, tasks = routed
    task_routes_refresh(project=project)
    rows = api(manager).get(f"/api/projects/{project.pk}/data").json()["tasks"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[tasks["doubtful"]]["route"] == "senior"
    assert by_id[tasks["doubtful"]]["route_reason"].startswith("score 0.30 < low 0.50")


def test_thresholds_are_project_settings_validated_by_the_api(routed):
    project, manager, _ = routed
    bad = api(manager).patch(
        f"/api/projects/{project.pk}", {"routing_low": 0.95, "routing_high": 0.9}, format="json"
    )
    assert bad.status_code == 400
    out_of_range = api(manager).patch(
        f"/api/projects/{project.pk}", {"routing_margin": 2}, format="json"
    )
    assert out_of_range.status_code == 400
    assert "routing_margin" in out_of_range.json()["validation_errors"]
    off = api(manager).patch(
        f"/api/projects/{project.pk}",
        {"routing_low": None, "routing_high": None, "routing_margin": None},
        format="json",
    )
    assert off.status_code == 200 and off.json()["routing_low"] is None
    project.refresh_from_db()
    counts = task_routes_refresh(project=project)
    assert counts.senior == counts.junior == counts.consensus == 0


def test_new_predictions_reroute_the_open_tasks_by_themselves(routed):
    from mlserve.signals import predictions_written

    project, _, tasks = routed
    version = ModelVersion.objects.get(project=project)
    predictions_written.send(sender=ModelVersion, version=version)
    assert Task.objects.get(pk=tasks["doubtful"]).route == "senior"
    assert Task.objects.get(pk=tasks["tie"]).route == "consensus"
    # A project without thresholds is left alone.
    other = make_project()
    other_ids = tasks_import(project=other, items=[{"text": "x"}], user=None).task_ids
    other_version = ModelVersion.objects.create(
        project=other, control="intent", kind="intent", number=1, name="intent-v1"
    )
    predictions_written.send(sender=ModelVersion, version=other_version)
    assert Task.objects.get(pk=other_ids[0]).route_reason == ""
