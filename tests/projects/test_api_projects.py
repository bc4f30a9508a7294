from __future__ import annotations

import json

import pytest

from projects.models import Project, ProjectMember
from tests.api_helpers import api
from tests.factories import NER_CONFIG, add_member, make_project, make_user

pytestmark = pytest.mark.django_db


def test_create_project_puts_it_in_a_personal_organization():
    user = make_user("ada")
    response = api(user).post(
        "/api/projects", {"title": "Intents", "label_config": NER_CONFIG}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Intents"
    assert body["task_number"] == 0
    assert body["parsed_label_config"]["data_fields"] == ["text"]
    project = Project.objects.get(pk=body["id"])
    assert project.organization.title == "ada's organization"
    assert ProjectMember.objects.get(project=project).role == "manager"


def test_create_with_bad_config_names_the_line_and_stores_nothing():
    bad = '<View>\n<Text name="t" value="$text"/>\n<Banana name="b" toName="t"/>\n</View>'
    response = api(make_user()).post(
        "/api/projects/", {"title": "x", "label_config": bad}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400
    [message] = body["validation_errors"]["label_config"]
    assert "Banana" in message and "line 3" in message
    assert not Project.objects.exists()


def test_wrong_types_name_the_field():
    response = api(make_user()).post(
        "/api/projects", {"title": "x", "maximum_annotations": 0}, format="json"
    )
    assert response.status_code == 400
    assert "maximum_annotations" in response.json()["validation_errors"]


def test_list_only_shows_own_projects_with_counts():
    mine = make_project(title="mine")
    make_project(title="theirs")
    response = api(mine.created_by).get("/api/projects")
    assert response.status_code == 200
    body = response.json()
    assert [p["title"] for p in body["results"]] == ["mine"]
    assert body["count"] == 1


def test_annotator_cannot_change_settings_but_manager_can():
    project = make_project()
    annotator = make_user()
    add_member(project, annotator, "annotator")
    denied = api(annotator).patch(f"/api/projects/{project.pk}", {"title": "new"}, format="json")
    assert denied.status_code == 403
    allowed = api(project.created_by).patch(
        f"/api/projects/{project.pk}/", {"title": "new"}, format="json"
    )
    assert allowed.status_code == 200
    assert allowed.json()["title"] == "new"


def test_validate_endpoint_returns_schema_or_issues():
    user = make_user()
    ok = api(user).post("/api/projects/validate", {"label_config": NER_CONFIG}, format="json")
    assert ok.status_code == 200
    assert {c["name"] for c in ok.json()["controls"]} == {"label", "intent"}
    assert ok.json()["label_config"] == NER_CONFIG
    bad = api(user).post(
        "/api/projects/validate/", {"label_config": "<View><Text/>"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["validation_errors"]["label_config"]


def test_manager_adds_and_removes_members():
    project = make_project()
    newcomer = make_user()
    client = api(project.created_by)
    added = client.post(
        f"/api/projects/{project.pk}/members",
        {"user": newcomer.pk, "role": "reviewer"},
        format="json",
    )
    assert added.status_code == 201
    assert added.json()["role"] == "reviewer"
    assert api(newcomer).get(f"/api/projects/{project.pk}").status_code == 200
    assert client.delete(f"/api/projects/{project.pk}/members/{newcomer.pk}").status_code == 204
    assert api(newcomer).get(f"/api/projects/{project.pk}").status_code == 404


def test_unknown_member_user_is_a_field_error():
    project = make_project()
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/members", {"user": 99999}, format="json"
    )
    assert response.status_code == 400
    assert "user" in response.json()["validation_errors"]


def test_delete_project():
    project = make_project()
    assert api(project.created_by).delete(f"/api/projects/{project.pk}").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()


def test_current_user_token_matches_the_one_used():
    user = make_user()
    client = api(user)
    token = client.get("/api/current-user/token").json()["token"]
    assert client.get("/api/current-user").json()["id"] == user.pk
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/current-user/whoami").status_code == 200


def test_schema_and_docs_are_served():
    client = api(make_user())
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/projects/{id}/next/" in paths
    assert "/api/projects/{id}/next" not in paths
    assert "/api/projects/{id}/productivity/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content


def test_schema_and_docs_answer_without_the_slash():
    client = api(make_user())
    assert client.get("/api/schema?format=json").status_code == 200
    assert client.get("/api/docs").status_code == 200


def test_version_says_community_so_label_studio_clients_export_synchronously():
    body = api(make_user()).get("/api/version").json()
    assert body["edition"] == "Community"
    assert body["release"]


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete", "options"])
def test_unknown_api_path_is_a_json_404_for_every_method(method):
    response = getattr(api(make_user()), method)("/api/workspaces/")
    assert response.status_code == 404
    assert response.json() == {"status_code": 404, "detail": "No API endpoint at /api/workspaces/."}


def test_unknown_api_path_asks_anonymous_callers_to_authenticate():
    response = api().get("/api/projects/counts")
    assert response.status_code == 401
    assert response.json()["status_code"] == 401


def test_openapi_schema_validates_without_warnings():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )
    schema = json.loads(out.getvalue())
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/projects/{id}/import/",
        "/api/projects/{id}/export/",
        "/api/tasks/{id}/annotations/",
    ):
        assert path in schema["paths"]
