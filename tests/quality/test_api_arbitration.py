"""Escalation: tasks whose agreement falls below the project's threshold go to an arbitration
queue; an expert's (or a manager's) decision becomes the task's ground truth."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.models import AuditEvent
from projects.services import project_member_set
from quality.models import ArbitrationItem, ArbitrationStatus
from quality.services import project_agreement_refresh, quality_settings_update
from tasks.models import Annotation, Task
from tasks.services import annotation_create, annotation_delete, annotation_update, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(django_capture_on_commit_callbacks):
    """A project with overlap 2 everywhere; task 0 disputed, task 1 agreed."""
    project = make_project()
    quality_settings_update(project=project, user=project.created_by, overlap_percentage=100)
    ids = tasks_import(
        project=project, items=[{"text": "<b>Bob</b>"}, {"text": "hi"}], user=None
    ).task_ids
    ann1, ann2, expert, junior = make_user("ann1"), make_user("ann2"), make_user(), make_user()
    for u in (ann1, ann2, junior):
        add_member(project, u)
    project_member_set(project=project, user=expert, role="annotator", level="expert")
    answers = {ids[0]: ("greet", "ask"), ids[1]: ("ask", "ask")}
    with django_capture_on_commit_callbacks(execute=True):
        for task_id, (a, b) in answers.items():
            task = Task.objects.get(pk=task_id)
            annotation_create(task=task, user=ann1, result=[choice(a)])
            annotation_create(task=Task.objects.get(pk=task_id), user=ann2, result=[choice(b)])
    return project, ids, expert, junior


def test_a_task_below_the_threshold_enters_the_queue_once_all_its_annotations_are_in(disputed):
    project, ids, *_ = disputed
    items = ArbitrationItem.objects.filter(project=project)
    assert [(i.task_id, i.agreement, i.status) for i in items] == [(ids[0], 0.0, "open")]


def test_a_task_waiting_for_annotations_is_not_escalated_yet(django_capture_on_commit_callbacks):
    project = make_project()
    quality_settings_update(
        project=project, user=project.created_by, overlap_percentage=100, overlap_annotators=3
    )
    (task_id,) = tasks_import(project=project, items=[{"text": "x"}], user=None).task_ids
    users = [make_user() for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        for user, value in zip(users, ("greet", "ask"), strict=True):
            add_member(project, user)
            annotation_create(task=Task.objects.get(pk=task_id), user=user, result=[choice(value)])
    assert Task.objects.get(pk=task_id).agreement == 0.0
    assert not ArbitrationItem.objects.exists()


def test_no_threshold_means_no_escalation(disputed):
    project, *_ = disputed
    ArbitrationItem.objects.all().delete()
    quality_settings_update(project=project, user=project.created_by, agreement_threshold=None)
    project_agreement_refresh(project=project)
    assert not ArbitrationItem.objects.exists()


def test_an_expert_lists_the_queue_with_every_annotators_result(disputed):
    project, ids, expert, _ = disputed
    body = api(expert).get(f"/api/projects/{project.pk}/arbitration").json()
    (item,) = body["items"]
    assert item["task_id"] == ids[0] and item["agreement"] == 0.0
    assert [a["username"] for a in item["annotations"]] == ["ann1", "ann2"]
    assert item["task_data"] == {"text": "<b>Bob</b>"}


def test_the_experts_decision_becomes_ground_truth_and_leaves_the_queue(disputed):
    project, ids, expert, _ = disputed
    chosen = Annotation.objects.get(task_id=ids[0], completed_by__username="ann2")
    url = f"/api/projects/{project.pk}/arbitration/{ids[0]}"
    response = api(expert).post(url, {"annotation": chosen.pk}, format="json")
    assert response.status_code == 200
    decision = Annotation.objects.get(pk=response.json()["annotation"])
    assert decision.ground_truth and decision.completed_by == expert
    assert decision.result == chosen.result
    item = ArbitrationItem.objects.get(task_id=ids[0])
    assert (item.status, item.decision, item.resolved_by) == (
        ArbitrationStatus.RESOLVED,
        decision,
        expert,
    )
    assert api(expert).get(f"/api/projects/{project.pk}/arbitration").json()["items"] == []
    event = AuditEvent.objects.get(action="quality.arbitrate")
    assert (event.object_id, event.after["annotation"]) == (ids[0], decision.pk)
    # Decided once: a second decision is a conflict, not a second ground truth.
    assert api(expert).post(url, {"annotation": chosen.pk}, format="json").status_code == 409


def test_a_manager_may_decide_with_their_own_result(disputed):
    project, ids, *_ = disputed
    url = f"/api/projects/{project.pk}/arbitration/{ids[0]}"
    response = api(project.created_by).post(url, {"result": [choice("ask")]}, format="json")
    assert response.status_code == 200
    assert Annotation.objects.get(pk=response.json()["annotation"]).ground_truth


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "result"), ({"annotation": 0}, "annotation"), ({"result": [{"bad": 1}]}, "result")],
)
def test_a_bad_decision_is_400_naming_the_field(disputed, body, field):
    project, ids, expert, _ = disputed
    url = f"/api/projects/{project.pk}/arbitration/{ids[0]}"
    response = api(expert).post(url, body, format="json")
    assert response.status_code == 400 and field in response.json()["validation_errors"]
    assert ArbitrationItem.objects.get(task_id=ids[0]).status == "open"


def test_a_task_of_another_project_is_404(disputed):
    project, _, expert, _ = disputed
    other = make_project()
    (other_task,) = tasks_import(project=other, items=[{"text": "x"}], user=None).task_ids
    url = f"/api/projects/{project.pk}/arbitration/{other_task}"
    assert api(expert).post(url, {"result": []}, format="json").status_code == 404


def test_junior_annotators_may_not_arbitrate(disputed):
    project, ids, _, junior = disputed
    assert api(junior).get(f"/api/projects/{project.pk}/arbitration").status_code == 403
    url = f"/api/projects/{project.pk}/arbitration/{ids[0]}"
    assert api(junior).post(url, {"result": []}, format="json").status_code == 403
    client = Client()
    client.force_login(junior)
    assert client.get(f"/projects/{project.pk}/arbitration/").status_code == 403


def test_the_arbitration_page_lists_tasks_with_results_escaped(disputed):
    project, ids, expert, _ = disputed
    client = Client()
    client.force_login(expert)
    page = client.get(f"/projects/{project.pk}/arbitration/").content.decode()
    assert f'data-task="{ids[0]}"' in page and "Adopt as ground truth" in page
    assert "<b>Bob</b>" not in page and "&lt;b&gt;Bob&lt;/b&gt;" in page


def test_an_edit_that_settles_the_dispute_takes_the_task_out_of_the_queue(
    disputed, django_capture_on_commit_callbacks
):
    _, ids, *_ = disputed
    mine = Annotation.objects.get(task_id=ids[0], completed_by__username="ann2")
    with django_capture_on_commit_callbacks(execute=True):
        annotation_update(annotation=mine, version=mine.version, result=[choice("greet")])
    assert Task.objects.get(pk=ids[0]).agreement == 1.0
    assert not ArbitrationItem.objects.filter(task_id=ids[0]).exists()


def test_deleting_an_annotation_recomputes_the_tasks_agreement(
    disputed, django_capture_on_commit_callbacks
):
    _, ids, *_ = disputed
    with django_capture_on_commit_callbacks(execute=True):
        annotation_delete(annotation=Annotation.objects.filter(task_id=ids[0]).first())
    assert Task.objects.get(pk=ids[0]).agreement is None
    assert not ArbitrationItem.objects.filter(task_id=ids[0]).exists()
