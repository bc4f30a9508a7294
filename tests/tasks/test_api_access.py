"""Walk every API route as an outsider: nothing of another project is reachable."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from mlserve.models import MLBackend
from projects.models import Webhook
from tasks.models import Draft, ExportJob, ImportJob, Prediction, TaskLock
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project, make_user

pytestmark = pytest.mark.django_db

MARKER = "SECRET-MARKER-42"
METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.callback

    return [(r, cb) for r, cb in walk(get_resolver().url_patterns) if r.startswith("api/")]


@pytest.fixture
def victim():
    project = make_project(title=MARKER)
    owner = project.created_by
    task_id = tasks_import(
        project=project, items=[{"text": f"hello {MARKER}"}], user=None
    ).task_ids[0]
    task = project.tasks.get(pk=task_id)
    annotation = annotation_create(task=task, user=owner, result=[choice()])
    prediction = Prediction.objects.create(task=task, project=project, result=[choice()])
    draft = Draft.objects.create(task=task, user=owner, result=[])
    TaskLock.objects.create(task=task, user=owner, expires_at=timezone.now())
    import_job = ImportJob.objects.create(project=project, created_by=owner, sources=[MARKER])
    export_job = ExportJob.objects.create(
        project=project, export_type="JSON", status="completed", file="x.json"
    )
    backend = MLBackend.objects.create(project=project, url="http://ml.example.com", title=MARKER)
    webhook = Webhook.objects.create(
        organization=project.organization, project=project, url="http://hook.example.com"
    )
    return {
        "project": project,
        "ids": {
            "projects": project.pk,
            "tasks": task.pk,
            "annotations": annotation.pk,
            "predictions": prediction.pk,
            "drafts": draft.pk,
            "organizations": project.organization_id,
            "user_id": owner.pk,
            "import_id": import_job.pk,
            "export_id": export_job.pk,
            "ml": backend.pk,
            "webhooks": webhook.pk,
        },
    }


def _fill(route, ids):
    resource = route.split("/")[1]
    for name in ("user_id", "import_id", "export_id"):
        route = route.replace(f"<int:{name}>", str(ids[name]))
    return "/" + re.sub(r"<int:pk>", str(ids.get(resource, 0)), route)


def test_outsider_reaches_nothing_on_any_route(victim):
    outsider = api()
    # Session-style auth: the walk includes reset-token, which would void a token client.
    outsider.force_authenticate(user=make_user())
    checked = 0
    for route, callback in _api_routes():
        if "schema" in route or "docs" in route:
            continue
        view = getattr(callback, "view_class", None)
        url = _fill(route, victim["ids"])
        for method in METHODS:
            if view is None or not hasattr(view, method):
                continue
            payload = {
                "project": victim["ids"]["projects"],
                "task": victim["ids"]["tasks"],
                "data": {"text": "x"},
                "result": [],
            }
            response = getattr(outsider, method)(url, payload, format="json")
            checked += 1
            assert response.status_code < 500, (method, url, response.content)
            assert MARKER not in response.content.decode(), (method, url)
            if "<int:" in route:
                assert response.status_code == 404, (method, url, response.status_code)
            else:
                assert response.status_code in (200, 201, 400, 404), (
                    method,
                    url,
                    response.status_code,
                )
    assert checked > 30
    # Nothing changed for the victim.
    assert victim["project"].tasks.count() == 1
    assert victim["project"].annotations.count() == 1
    assert MLBackend.objects.filter(title=MARKER).exists()
    assert Webhook.objects.count() == 1


def test_anonymous_gets_401_everywhere(victim):
    anonymous = api()
    for route, callback in _api_routes():
        if "schema" in route or "docs" in route:
            continue
        view = getattr(callback, "view_class", None)
        url = _fill(route, victim["ids"])
        for method in METHODS:
            if view is not None and hasattr(view, method):
                response = getattr(anonymous, method)(url, {}, format="json")
                assert response.status_code == 401, (method, url, response.status_code)
                assert response.json()["status_code"] == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/tasks/99999999999999999999999",
        "/api/projects/123456789012345678901/next",
        "/api/annotations/9223372036854775808/",
    ],
)
def test_ids_too_big_for_the_database_are_404_not_500(url):
    response = api(make_user()).get(url)
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


def test_numbers_too_big_in_a_body_are_a_field_error():
    project = make_project()
    response = api(project.created_by).post(
        "/api/predictions", {"task": -(2**80), "result": []}, format="json"
    )
    assert response.status_code == 400
    response = api(project.created_by).post(
        "/api/predictions", {"task": 2**80, "result": []}, format="json"
    )
    assert response.status_code == 400
    assert "task" in response.json()["validation_errors"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/tasks?project=99999999999999999999",
        "/api/predictions?task=-1",
        "/api/ml?project=1e9",
        "/api/webhooks?project=x",
    ],
)
def test_bad_ids_in_the_query_string_are_a_400_naming_the_parameter(url):
    response = api(make_user()).get(url)
    assert response.status_code == 400
    assert set(response.json()["validation_errors"]) <= {"project", "task"}
