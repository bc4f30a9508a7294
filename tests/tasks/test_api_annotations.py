from __future__ import annotations

import pytest

from projects.services import project_update
from tasks.models import Annotation, Draft, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, hand_task, make_project, make_user, span

pytestmark = pytest.mark.django_db

TEXT = "Hello Alice from Paris"


@pytest.fixture
def setup():
    project = make_project()
    annotator = make_user()
    add_member(project, annotator)
    task_id = tasks_import(project=project, items=[{"text": TEXT}], user=None).task_ids[0]
    hand_task(task_id, annotator)
    return project, annotator, task_id


def test_create_annotation_and_read_it_back(setup):
    _project, annotator, task_id = setup
    client = api(annotator)
    created = client.post(
        f"/api/tasks/{task_id}/annotations/",
        {"result": [span(6, 11, "Alice"), choice()], "lead_time": 4.5},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["completed_by"], body["version"], body["lead_time"]) == (annotator.pk, 1, 4.5)
    task = client.get(f"/api/tasks/{task_id}").json()
    assert task["total_annotations"] == 1 and task["is_labeled"] is True
    assert task["annotations"][0]["id"] == body["id"]


def test_invalid_result_is_400_naming_the_item(setup):
    _, annotator, task_id = setup
    response = api(annotator).post(
        f"/api/tasks/{task_id}/annotations", {"result": [span(0, 99, "Hello")]}, format="json"
    )
    assert response.status_code == 400
    [message] = response.json()["validation_errors"]["result"]
    assert message.startswith("item 0")
    assert not Annotation.objects.exists()


def test_non_list_result_is_a_field_error(setup):
    _, annotator, task_id = setup
    response = api(annotator).post(
        f"/api/tasks/{task_id}/annotations", {"result": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "result" in response.json()["validation_errors"]


def test_stale_update_is_409_with_the_current_version(setup):
    _, annotator, task_id = setup
    client = api(annotator)
    annotation = client.post(
        f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json"
    ).json()
    first = client.patch(
        f"/api/annotations/{annotation['id']}",
        {"result": [choice("ask")], "version": 1},
        format="json",
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(
        f"/api/annotations/{annotation['id']}/",
        {"result": [choice("greet")], "version": 1},
        format="json",
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2
    assert stale.json()["current"]["result"][0]["value"]["choices"] == ["ask"]


def test_if_match_header_carries_the_version(setup):
    _, annotator, task_id = setup
    client = api(annotator)
    annotation = client.post(
        f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json"
    ).json()
    stale = client.patch(
        f"/api/annotations/{annotation['id']}", {"result": []}, format="json", HTTP_IF_MATCH='"7"'
    )
    assert stale.status_code == 409
    ok = client.patch(
        f"/api/annotations/{annotation['id']}", {"result": []}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert ok.status_code == 200


def test_annotator_cannot_edit_someone_elses_annotation(setup):
    project, annotator, task_id = setup
    other = make_user()
    add_member(project, other)
    annotation = (
        api(annotator)
        .post(f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json")
        .json()
    )
    url = f"/api/annotations/{annotation['id']}"
    # Blind annotation (the default): another annotator does not even see it.
    assert api(other).patch(url, {"result": []}, format="json").status_code == 404
    # Seeing it (the task handed to them, blind off) still does not let them change it.
    hand_task(task_id, other)
    project_update(project=project, blind_annotation=False)
    assert api(other).get(url).status_code == 200
    assert api(other).patch(url, {"result": []}, format="json").status_code == 403
    reviewer = make_user()
    add_member(project, reviewer, "reviewer")
    assert (
        api(reviewer)
        .patch(f"/api/annotations/{annotation['id']}", {"result": []}, format="json")
        .status_code
        == 200
    )


def test_delete_annotation_updates_the_task(setup):
    _, annotator, task_id = setup
    client = api(annotator)
    annotation = client.post(
        f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json"
    ).json()
    assert client.delete(f"/api/annotations/{annotation['id']}").status_code == 204
    assert Task.objects.get(pk=task_id).total_annotations == 0


def test_drafts_are_private_and_versioned(setup):
    project, annotator, task_id = setup
    client = api(annotator)
    draft = client.post(
        f"/api/tasks/{task_id}/drafts", {"result": [choice()]}, format="json"
    ).json()
    saved = client.post(f"/api/tasks/{task_id}/drafts", {"result": [], "version": 1}, format="json")
    assert saved.status_code == 201 and saved.json()["version"] == 2
    stale = client.patch(
        f"/api/drafts/{draft['id']}", {"result": [choice()], "version": 1}, format="json"
    )
    assert stale.status_code == 409
    manager = api(project.created_by)
    assert manager.get(f"/api/drafts/{draft['id']}").status_code == 404
    assert manager.get(f"/api/tasks/{task_id}/drafts").json() == []
    assert client.delete(f"/api/drafts/{draft['id']}").status_code == 204
    assert not Draft.objects.exists()


def test_bulk_predictions_are_all_or_nothing(setup):
    project, _, task_id = setup
    client = api(project.created_by)
    bad = client.post(
        "/api/predictions",
        [{"task": task_id, "result": [choice()]}, {"task": task_id, "result": [choice("zzz")]}],
        format="json",
    )
    assert bad.status_code == 400
    assert "item 1" in bad.json()["validation_errors"]["predictions"][0]
    assert Task.objects.get(pk=task_id).total_predictions == 0
    ok = client.post(
        "/api/predictions/",
        [{"task": task_id, "result": [choice()], "score": 0.9, "model_version": "v2"}],
        format="json",
    )
    assert ok.status_code == 201
    single = client.post(
        "/api/predictions",
        {"task": task_id, "result": [choice("ask")], "score": 0.4},
        format="json",
    )
    assert single.status_code == 201 and single.json()["score"] == 0.4
    assert Task.objects.get(pk=task_id).total_predictions == 2
    listed = client.get(f"/api/predictions?task={task_id}").json()
    assert [p["score"] for p in listed] == [0.9, 0.4]


def test_annotator_cannot_write_predictions(setup):
    _, annotator, task_id = setup
    response = api(annotator).post(
        "/api/predictions", {"task": task_id, "result": []}, format="json"
    )
    assert response.status_code == 403
