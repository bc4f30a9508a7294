from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from annotator.models import AuditEvent, User
from projects.models import OrganizationRole
from projects.services import organization_member_set
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, hand_task, make_project, make_user, span

pytestmark = pytest.mark.django_db

TEXT = "Hello Alice from Paris"


@pytest.fixture
def project():
    return make_project()


@pytest.fixture
def manager(project):
    return project.created_by


def _events(project, **params):
    response = api(project.created_by).get(f"/api/projects/{project.pk}/audit", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _task(project):
    return tasks_import(project=project, items=[{"text": TEXT}], user=None).task_ids[0]


def test_edited_annotation_shows_result_before_and_after(project):
    annotator = make_user()
    add_member(project, annotator)
    task_id = _task(project)
    hand_task(task_id, annotator)  # annotators reach only the tasks handed to them
    client = api(annotator)
    created = client.post(
        f"/api/tasks/{task_id}/annotations", {"result": [choice("greet")]}, format="json"
    ).json()
    edited = client.patch(
        f"/api/annotations/{created['id']}",
        {"result": [choice("ask"), span(6, 11, "Alice")], "version": created["version"]},
        format="json",
    )
    assert edited.status_code == 200, edited.content
    [update] = _events(project, action="annotation.update")
    assert (update["actor_id"], update["object_id"]) == (annotator.pk, created["id"])
    assert update["before"]["result"] == [choice("greet")]
    assert update["after"]["result"] == [choice("ask"), span(6, 11, "Alice")]
    assert (update["before"]["version"], update["after"]["version"]) == (1, 2)
    assert update["ip"] == "127.0.0.1"
    [create] = _events(project, action="annotation.create")
    assert create["after"]["result"] == [choice("greet")]
    assert create["after"]["task"] == task_id
    assert create["object_id"] == created["id"]


def test_deleted_annotation_keeps_its_result_in_the_trail(project, manager):
    task_id = _task(project)
    created = (
        api(manager)
        .post(f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json")
        .json()
    )
    assert api(manager).delete(f"/api/annotations/{created['id']}").status_code == 204
    [deleted] = _events(project, action="annotation.delete")
    assert deleted["before"]["result"] == [choice()]


def test_labelling_page_submit_is_audited_with_one_event(project):
    annotator = make_user()
    add_member(project, annotator)
    task_id = _task(project)
    hand_task(task_id, annotator)
    response = api(annotator).post(
        f"/api/tasks/{task_id}/label/submit", {"result": [choice()]}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    events = _events(project, action="annotation.")
    assert [e["action"] for e in events] == ["annotation.create"]
    assert events[0]["actor_username"] == annotator.username


def test_bulk_import_writes_one_summary_event(project, manager):
    items = [{"text": f"row {i}"} for i in range(25)]
    response = api(manager).post(f"/api/projects/{project.pk}/import", items, format="json")
    assert response.status_code == 201, response.content
    [event] = _events(project, action="tasks.import")
    assert event["after"]["task_count"] == 25
    assert event["actor_id"] == manager.pk
    assert AuditEvent.objects.filter(project_id=project.pk, action__startswith="task").count() == 1


def test_member_role_change_is_recorded_before_and_after(project, manager):
    user = make_user()
    client = api(manager)
    client.post(f"/api/projects/{project.pk}/members", {"user": user.pk}, format="json")
    client.post(
        f"/api/projects/{project.pk}/members",
        {"user": user.pk, "role": "reviewer", "level": "senior"},
        format="json",
    )
    client.delete(f"/api/projects/{project.pk}/members/{user.pk}")
    events = _events(project, action="member.", object_id=user.pk)
    assert [(e["action"], e["before"], e["after"]) for e in events] == [
        ("member.remove", {"role": "reviewer", "level": "senior"}, None),
        (
            "member.update",
            {"role": "annotator", "level": "junior"},
            {"role": "reviewer", "level": "senior"},
        ),
        ("member.add", None, {"role": "annotator", "level": "junior"}),
    ]
    assert {e["actor_id"] for e in events} == {manager.pk}


def test_project_update_records_only_the_changed_fields(project, manager):
    api(manager).patch(
        f"/api/projects/{project.pk}", {"title": "Renamed", "maximum_annotations": 1}, format="json"
    )
    [event] = _events(project, action="project.update")
    assert event["before"] == {"title": project.title}
    assert event["after"] == {"title": "Renamed"}


def test_export_is_audited(project, manager):
    _task(project)
    response = api(manager).get(f"/api/projects/{project.pk}/export", {"exportType": "JSON"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = _events(project, action="export.create")
    assert event["detail"]["export_type"] == "JSON"


def test_annotators_cannot_read_the_trail_and_outsiders_get_404(project):
    annotator = make_user()
    add_member(project, annotator)
    assert api(annotator).get(f"/api/projects/{project.pk}/audit").status_code == 403
    assert api(make_user()).get(f"/api/projects/{project.pk}/audit").status_code == 404
    export = f"/api/projects/{project.pk}/audit/export"
    assert api(annotator).get(export).status_code == 403


def test_filters_by_user_date_and_object(project, manager):
    other = make_user()
    add_member(project, other, role="manager")
    api(other).patch(f"/api/projects/{project.pk}", {"description": "x"}, format="json")
    mine = _events(project, user=manager.pk)
    assert mine and {e["actor_id"] for e in mine} == {manager.pk}
    theirs = _events(project, user=other.pk)
    assert [e["action"] for e in theirs] == ["project.update"]
    assert _events(project, since="2999-01-01") == []
    assert len(_events(project, until="2999-01-01")) == len(_events(project))
    assert {e["object_type"] for e in _events(project, object_type="project")} == {"project"}
    bad = api(manager).get(f"/api/projects/{project.pk}/audit", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()["validation_errors"]


def test_keyset_pages_walk_every_event_once(project, manager):
    for i in range(5):
        api(manager).patch(f"/api/projects/{project.pk}", {"description": str(i)}, format="json")
    everything = [e["id"] for e in _events(project)]
    seen = []
    url = f"/api/projects/{project.pk}/audit?page_size=2"
    while url:
        page = api(manager).get(url).json()
        assert len(page["results"]) <= 2
        seen += [e["id"] for e in page["results"]]
        url = page["next"]
    assert seen == everything
    assert seen == sorted(seen, reverse=True)


def test_export_as_csv_and_json(project, manager):
    api(manager).patch(f"/api/projects/{project.pk}", {"title": 'T, "quoted"'}, format="json")
    base = f"/api/projects/{project.pk}/audit/export"
    as_json = api(manager).get(base, {"export_type": "JSON", "action": "project.update"})
    assert as_json["Content-Type"] == "application/json"
    rows = json.loads(b"".join(as_json.streaming_content))
    assert [r["after"] for r in rows] == [{"title": 'T, "quoted"'}]
    as_csv = api(manager).get(base, {"export_type": "CSV"})
    assert as_csv["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))
    updates = [r for r in table if r["action"] == "project.update"]
    assert json.loads(updates[0]["after"]) == {"title": 'T, "quoted"'}
    assert len(table) == AuditEvent.objects.filter(project_id=project.pk).count()


def test_organization_trail_for_admins_only_and_outlives_a_deleted_project(project, manager):
    org = project.organization
    member, admin = make_user(), make_user()
    organization_member_set(organization=org, user=member)
    organization_member_set(organization=org, user=admin, role=OrganizationRole.ADMIN)
    assert api(member).get(f"/api/organizations/{org.pk}/audit").status_code == 403
    assert api(make_user()).get(f"/api/organizations/{org.pk}/audit").status_code == 404
    project_id = project.pk
    assert api(manager).delete(f"/api/projects/{project_id}").status_code == 204
    events = api(admin).get(f"/api/organizations/{org.pk}/audit").json()["results"]
    actions = [(e["action"], e["project_id"]) for e in events]
    assert ("project.delete", project_id) in actions
    assert ("project.create", project_id) in actions
    assert ("organization_member.add", None) in actions


def test_trail_cannot_be_changed_or_deleted_through_the_api(project, manager):
    api(manager).patch(f"/api/projects/{project.pk}", {"title": "A"}, format="json")
    event = AuditEvent.objects.filter(project_id=project.pk).latest("id")
    client = api(manager)
    base = f"/api/projects/{project.pk}/audit"
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(base, {"action": "x"}, format="json").status_code == 405
        response = getattr(client, method)(f"{base}/{event.pk}", {"action": "x"}, format="json")
        assert response.status_code == 404
    event.refresh_from_db()
    assert event.action == "project.update"
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_trail_cannot_be_changed_or_deleted_in_the_admin(client, project):
    event = AuditEvent.objects.filter(project_id=project.pk).latest("id")
    root = User.objects.create_superuser(username="root", email="root@x.org", password="pw")
    client.force_login(root)
    base = f"/admin/annotator/auditevent/{event.pk}"
    assert client.get(f"{base}/change/").status_code == 200  # viewable
    assert client.post(f"{base}/change/", {"action": "forged"}).status_code == 403
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert client.post("/admin/annotator/auditevent/add/", {"action": "forged"}).status_code == 403
    bulk = client.post(
        "/admin/annotator/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    event.refresh_from_db()
    assert event.action == "project.create"
    assert AuditEvent.objects.filter(action="forged").count() == 0


def test_sign_in_and_failed_sign_in_are_recorded_with_the_address():
    user = make_user()
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9")
    assert authenticate(request, username=user.username, password="wrong") is None
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert (failed.ip, failed.detail["login"], failed.actor_id) == (
        "203.0.113.9",
        user.username,
        None,
    )
    assert "wrong" not in json.dumps(failed.detail)


@pytest.mark.parametrize(
    ("remote", "forwarded", "behind_proxy", "expected"),
    [
        ("10.0.0.5", "", False, "10.0.0.5"),
        ("10.0.0.5", "203.0.113.9, 198.51.100.1", False, "10.0.0.5"),
        ("10.0.0.5", "203.0.113.9, 198.51.100.1", True, "198.51.100.1"),
        ("10.0.0.5", "unknown", True, None),
        ("not-an-address", "", False, None),
        ("2001:db8::1", "", False, "2001:db8::1"),
    ],
)
def test_client_address(settings, remote, forwarded, behind_proxy, expected):
    from annotator.audit import client_ip

    if behind_proxy:
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    else:
        settings.SECURE_PROXY_SSL_HEADER = None
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_audit_list_query_count_does_not_grow_with_rows(project, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(manager)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/projects/{project.pk}/audit").status_code == 200
        return len(queries)

    before = count()
    for i in range(5):
        client.patch(f"/api/projects/{project.pk}", {"description": str(i)}, format="json")
    assert count() == before <= 3
