"""No lost work: a retried submit makes one annotation, a late auto-save never comes back
over a submitted annotation, a stale update gets 409."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tasks.models import Annotation, Draft, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project


def _project(n: int = 2):
    project = make_project()
    tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(n)], user=None)
    return project, list(Task.objects.filter(project=project).order_by("pk"))


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["/api/tasks/{}/annotations", "/api/tasks/{}/label/submit"])
def test_the_same_submit_twice_with_one_key_makes_one_annotation(route):
    project, (task, other) = _project()
    client = api(project.created_by)
    body = {"result": [choice()], "next": False}
    first = client.post(route.format(task.pk), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(route.format(task.pk), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Annotation.objects.filter(task=task).count() == 1
    assert Task.objects.get(pk=task.pk).total_annotations == 1
    reused = client.post(route.format(other.pk), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 400
    assert "Idempotency-Key" in reused.json()["validation_errors"]
    assert not Annotation.objects.filter(task=other).exists()
    # Without a key every call creates (Label Studio's behaviour).
    client.post(route.format(other.pk), body, format="json")
    assert Annotation.objects.filter(task=other).count() == 1


@pytest.mark.django_db
def test_a_malformed_key_is_refused_naming_the_header():
    project, (task, _) = _project()
    response = api(project.created_by).post(
        f"/api/tasks/{task.pk}/annotations", {"result": [choice()]}, format="json",
        HTTP_IDEMPOTENCY_KEY="has spaces in it",
    )  # fmt: skip
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["validation_errors"]
    assert not Annotation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_copies_racing_with_one_key_make_one_annotation():
    project, (task, _) = _project()
    barrier = threading.Barrier(2)
    answers = []

    def send():
        try:
            barrier.wait()
            response = api(project.created_by).post(
                f"/api/tasks/{task.pk}/annotations", {"result": [choice()]}, format="json",
                HTTP_IDEMPOTENCY_KEY="race-key",
            )  # fmt: skip
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 2
    assert {status for status, _ in answers} == {201}
    assert len({pk for _, pk in answers}) == 1
    assert Annotation.objects.filter(task=task).count() == 1


@pytest.mark.django_db
def test_a_late_autosave_never_comes_back_over_the_submitted_annotation():
    project, (task, _) = _project()
    client = api(project.created_by)
    submitted = client.post(
        f"/api/tasks/{task.pk}/label/submit", {"result": [choice()], "next": False}, format="json"
    ).json()["annotation"]
    late = client.post(
        f"/api/tasks/{task.pk}/label/draft", {"result": [choice("ask")]}, format="json"
    )
    assert late.status_code == 409
    assert late.json()["reason"] == "submitted"
    assert late.json()["current"]["id"] == submitted["id"]
    assert not Draft.objects.filter(task=task).exists()
    opened = client.get(f"/api/tasks/{task.pk}/label").json()
    assert opened["draft"] is None
    assert opened["annotation"]["result"] == [choice()]


@pytest.mark.django_db
def test_a_stale_update_gets_409_with_the_current_version():
    project, (task, _) = _project()
    client = api(project.created_by)
    created = client.post(
        f"/api/tasks/{task.pk}/annotations", {"result": [choice()]}, format="json"
    )
    pk = created.json()["id"]
    fresh = client.patch(
        f"/api/annotations/{pk}", {"result": [choice("ask")], "version": 1}, format="json"
    )
    assert fresh.status_code == 200, fresh.content
    stale = client.patch(
        f"/api/annotations/{pk}", {"result": [choice()], "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2
    assert Annotation.objects.get(pk=pk).result == [choice("ask")]
