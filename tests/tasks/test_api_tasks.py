from __future__ import annotations

import pytest

from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project, span

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project()
    tasks_import(
        project=project,
        user=project.created_by,
        items=[
            {"data": {"text": "Hello Alice"}, "annotations": [{"result": [span(6, 11, "Alice")]}]},
            {"data": {"text": "Bob"}, "predictions": [{"result": [choice()]}, {"result": []}]},
            {"text": "bare"},
        ],
    )
    return project


def test_task_page_carries_label_studio_totals(project, django_assert_num_queries):
    client = api(project.created_by)
    # token, project, totals, page, annotations, predictions
    with django_assert_num_queries(6):
        body = client.get(f"/api/tasks?project={project.pk}&fields=all&page_size=2").json()
    assert (body["total"], body["total_annotations"], body["total_predictions"]) == (3, 1, 2)
    assert [t["data"]["text"] for t in body["tasks"]] == ["Hello Alice", "Bob"]


def test_task_list_only_annotated(project):
    body = api(project.created_by).get(f"/api/tasks?project={project.pk}&only_annotated=true")
    assert [t["data"]["text"] for t in body.json()["tasks"]] == ["Hello Alice"]
    assert body.json()["total"] == 1


def test_task_page_past_the_end_is_empty(project):
    body = api(project.created_by).get(f"/api/tasks?project={project.pk}&page=5").json()
    assert (body["tasks"], body["total"]) == ([], 3)
