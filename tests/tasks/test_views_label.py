"""The labelling page: members only, the next task or the asked one, data as JSON."""

from __future__ import annotations

import json

import pytest

from tasks.models import TaskLock
from tasks.services import tasks_import
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.django_db


def _page_data(response):
    html = response.content.decode()
    start = html.index('<script id="label-page" type="application/json">') + len(
        '<script id="label-page" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def project():
    project = make_project(expert_instruction="Read <script>alert(1)</script> **carefully**")
    tasks_import(
        project=project,
        items=[{"text": "one"}, {"text": "two </script><script>alert(2)</script>"}],
        user=None,
    )
    return project


def test_member_gets_the_next_task_leased(client, project):
    annotator = make_user()
    add_member(project, annotator)
    client.force_login(annotator)
    response = client.get(f"/projects/{project.pk}/label/")
    assert response.status_code == 200
    data = _page_data(response)
    first = project.tasks.order_by("id").first()
    assert data["first"]["task"]["id"] == first.pk
    assert TaskLock.objects.filter(task=first, user=annotator).exists()
    assert {c["name"] for c in data["schema"]["controls"]} == {"label", "intent"}
    assert data["layout"]["tag"] == "View"
    assert data["project"]["confidence_high"] == 0.9


def test_task_data_and_guidelines_cannot_break_out_of_the_page(client, project):
    client.force_login(project.created_by)
    task = project.tasks.order_by("id").last()
    html = client.get(f"/projects/{project.pk}/label/{task.pk}/").content.decode()
    assert "<script>alert(2)</script>" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # guidelines: shown as text
    assert _page_data(client.get(f"/projects/{project.pk}/label/{task.pk}/"))["first"]["task"][
        "data"
    ]["text"].endswith("alert(2)</script>")


def test_outsider_gets_404_and_anonymous_is_sent_to_login(client, project):
    client.force_login(make_user())
    assert client.get(f"/projects/{project.pk}/label/").status_code == 404
    task = project.tasks.first()
    assert client.get(f"/projects/{project.pk}/label/{task.pk}/").status_code == 404
    client.logout()
    assert "/accounts/login/" in client.get(f"/projects/{project.pk}/label/")["Location"]


def test_a_task_of_another_project_is_404(client, project):
    other = make_project(owner=project.created_by)
    tasks_import(project=other, items=[{"text": "x"}], user=None)
    client.force_login(project.created_by)
    assert client.get(f"/projects/{project.pk}/label/{other.tasks.get().pk}/").status_code == 404


def test_no_task_left_renders_the_done_state(client):
    project = make_project()
    client.force_login(project.created_by)
    response = client.get(f"/projects/{project.pk}/label/")
    assert response.status_code == 200
    assert _page_data(response)["first"] is None


def test_the_page_carries_the_phrases_the_project_knows(client, project):
    from tasks.services.annotations import annotation_create

    first, second = project.tasks.order_by("id")
    span = {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 3, "text": "one", "labels": ["PER"]},
    }
    annotation_create(task=first, user=project.created_by, result=[span])
    client.force_login(project.created_by)
    data = _page_data(client.get(f"/projects/{project.pk}/label/{second.pk}/"))
    assert data["phrases"] == [
        {"text": "one", "label": "PER", "from_name": "label", "type": "labels"}
    ]


def test_an_annotator_gets_phrases_of_their_own_work_only(client, project):
    from tasks.services.annotations import annotation_create

    first = project.tasks.order_by("id").first()
    span = {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 3, "text": "one", "labels": ["PER"]},
    }
    annotation_create(task=first, user=project.created_by, result=[span])  # the manager's
    annotator = make_user()
    add_member(project, annotator)
    client.force_login(annotator)
    data = _page_data(client.get(f"/projects/{project.pk}/label/"))
    assert data["phrases"] == []
    annotation_create(task=first, user=annotator, result=[span])
    data = _page_data(client.get(f"/projects/{project.pk}/label/"))
    assert [p["text"] for p in data["phrases"]] == ["one"]
