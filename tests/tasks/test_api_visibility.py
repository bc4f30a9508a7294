"""Annotators see only the tasks handed to them and, under blind annotation (the default),
only their own results; reviewers and managers see everything (projects/permissions.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from projects.services import project_update
from tasks.models import Draft, Prediction, TaskAssignment
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, hand_task, make_project, make_user, span

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    project = make_project()
    ids = tasks_import(
        project=project,
        items=[{"text": f"Alice in Paris {n}"} for n in range(5)],
        user=None,
    ).task_ids
    annotator, colleague, reviewer = make_user(), make_user(), make_user()
    add_member(project, annotator)
    add_member(project, colleague)
    add_member(project, reviewer, "reviewer")
    return project, ids, annotator, colleague, reviewer


def _task(project, pk):
    return project.tasks.get(pk=pk)


def test_each_way_of_handing_a_task_makes_it_visible_and_nothing_else_does(team):
    project, ids, annotator, _colleague, _ = team
    client = api(annotator)
    assert [t["id"] for t in client.get(f"/api/projects/{project.pk}/tasks").json()["tasks"]] == []
    # Leased by next-task.
    leased = client.get(f"/api/projects/{project.pk}/next").json()["id"]
    # Assigned by a manager.
    TaskAssignment.objects.create(project=project, task_id=ids[3], user=annotator)
    # Annotated (a skip counts too) and drafted.
    annotation_create(task=_task(project, ids[1]), user=annotator, result=[], was_cancelled=True)
    Draft.objects.create(task_id=ids[2], user=annotator, result=[])
    listed = client.get(f"/api/projects/{project.pk}/tasks").json()
    assert sorted(t["id"] for t in listed["tasks"]) == sorted({leased, ids[1], ids[2], ids[3]})
    assert listed["total"] == 4
    assert client.get(f"/api/tasks/{ids[4]}").status_code == 404
    assert client.get(f"/api/tasks?project={project.pk}").json()["total"] == 4


def test_releasing_a_lease_takes_the_task_out_of_sight(team):
    project, _ids, annotator, _, _ = team
    client = api(annotator)
    task_id = client.get(f"/api/projects/{project.pk}/next").json()["id"]
    assert client.get(f"/api/tasks/{task_id}").status_code == 200
    assert client.delete(f"/api/tasks/{task_id}/lock").status_code == 204
    assert client.get(f"/api/tasks/{task_id}").status_code == 404


def test_blind_annotation_hides_others_results_but_not_predictions(team):
    project, ids, annotator, colleague, reviewer = team
    for user in (annotator, colleague):
        hand_task(ids[0], user)
    mine = annotation_create(task=_task(project, ids[0]), user=annotator, result=[choice()])
    theirs = annotation_create(task=_task(project, ids[0]), user=colleague, result=[choice("ask")])
    Prediction.objects.create(task_id=ids[0], project=project, result=[choice()])
    client = api(annotator)
    detail = client.get(f"/api/tasks/{ids[0]}").json()
    assert [a["id"] for a in detail["annotations"]] == [mine.pk]
    assert len(detail["predictions"]) == 1
    listed = client.get(f"/api/tasks/{ids[0]}/annotations").json()
    assert [a["id"] for a in listed] == [mine.pk]
    full = client.get(f"/api/projects/{project.pk}/tasks?fields=all").json()["tasks"]
    assert [a["id"] for a in full[0]["annotations"]] == [mine.pk]
    assert client.get(f"/api/annotations/{theirs.pk}").status_code == 404
    # Reviewers see both.
    both = api(reviewer).get(f"/api/tasks/{ids[0]}/annotations").json()
    assert {a["id"] for a in both} == {mine.pk, theirs.pk}
    # With blind annotation off, annotators see the others' results on their tasks.
    project_update(project=project, blind_annotation=False)
    assert {a["id"] for a in client.get(f"/api/tasks/{ids[0]}/annotations").json()} == {
        mine.pk,
        theirs.pk,
    }
    assert client.get(f"/api/annotations/{theirs.pk}").status_code == 200


def test_blind_annotation_is_a_project_setting_on_by_default(team):
    project, *_ = team
    client = api(project.created_by)
    assert client.get(f"/api/projects/{project.pk}").json()["blind_annotation"] is True
    response = client.patch(
        f"/api/projects/{project.pk}", {"blind_annotation": False}, format="json"
    )
    assert response.json()["blind_annotation"] is False


def test_prediction_list_of_a_project_holds_only_the_annotators_tasks(team):
    project, ids, annotator, _, reviewer = team
    hand_task(ids[0], annotator)
    for pk in ids[:2]:
        Prediction.objects.create(task_id=pk, project=project, result=[choice()])
    seen = api(annotator).get(f"/api/predictions?project={project.pk}").json()
    assert [p["task"] for p in seen] == [ids[0]]
    assert len(api(reviewer).get(f"/api/predictions?project={project.pk}").json()) == 2


def test_data_manager_shows_annotators_their_tasks_and_their_own_review_state(team):
    project, ids, annotator, colleague, _ = team
    for user in (annotator, colleague):
        hand_task(ids[0], user)
    annotation_create(task=_task(project, ids[0]), user=annotator, result=[choice()])
    theirs = annotation_create(task=_task(project, ids[0]), user=colleague, result=[choice()])
    theirs.review_status = "rejected"
    theirs.save()
    project.tasks.filter(pk=ids[0]).update(agreement=0.3)
    url = f"/api/projects/{project.pk}/data"
    rows = api(annotator).get(url).json()["tasks"]
    assert [r["id"] for r in rows] == [ids[0]]
    assert rows[0]["review_state"] == "not_reviewed" and rows[0]["agreement"] is None
    assert api(annotator).get(url, {"review": "rejected"}).json()["tasks"] == []
    assert api(annotator).get(f"{url}/count").json() == {"count": 1}
    manager_rows = api(project.created_by).get(url).json()["tasks"]
    assert len(manager_rows) == 5 and manager_rows[0]["review_state"] == "rejected"
    assert manager_rows[0]["agreement"] == 0.3


def test_label_navigation_and_suggestions_stay_within_the_annotators_work(team):
    project, ids, annotator, colleague, _ = team
    hand_task(ids[1], annotator)
    hand_task(ids[3], annotator)
    annotation_create(
        task=_task(project, ids[4]), user=colleague, result=[span(9, 14, "Paris", "LOC")]
    )
    client = api(annotator)
    payload = client.get(f"/api/tasks/{ids[3]}/label").json()
    assert payload["neighbours"] == {"previous": ids[1], "next": None}
    assert client.get(f"/api/tasks/{ids[1]}/label").json()["neighbours"] == {
        "previous": None,
        "next": ids[3],
    }
    # The colleague's span on a task not handed to the annotator is not suggested...
    assert client.get(f"/api/tasks/{ids[3]}/label/entities").json()["entities"] == []
    assert client.get(f"/api/tasks/{ids[3]}/label/similar").json()["similar"] == []
    # ... but is to a reviewer, who sees every task.
    reviewer_view = api(project.created_by).get(f"/api/tasks/{ids[3]}/label/entities").json()
    assert reviewer_view["entities"][0]["text"] == "Paris"
    assert api(project.created_by).get(f"/api/tasks/{ids[3]}/label").json()["neighbours"] == {
        "previous": ids[2],
        "next": ids[4],
    }


def test_project_page_lists_only_the_annotators_tasks(team):
    project, ids, annotator, _, _ = team
    project.tasks.filter(pk=ids[2]).update(data={"text": "UNSEEN-TEXT"})
    hand_task(ids[0], annotator)
    client = Client()
    client.force_login(annotator)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Alice in Paris 0" in page and "UNSEEN-TEXT" not in page


def test_members_api_sets_role_and_annotator_level(team):
    project, _ids, annotator, _, reviewer = team
    url = f"/api/projects/{project.pk}/members"
    response = api(project.created_by).post(
        url, {"user": annotator.pk, "role": "annotator", "level": "expert"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["role"], response.json()["level"]) == ("annotator", "expert")
    assert response.json()["certified_at"] is None
    bad = api(project.created_by).post(url, {"user": annotator.pk, "level": "guru"}, format="json")
    assert bad.status_code == 400 and "level" in bad.json()["validation_errors"]
    denied = api(reviewer).post(url, {"user": annotator.pk, "level": "junior"}, format="json")
    assert denied.status_code == 403
