from __future__ import annotations

import pytest

from projects.models import Project
from tasks.services import tasks_import
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def test_project_list_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_member_sees_project_and_counts(client):
    project = make_project(title="Intents")
    tasks_import(project=project, items=[{"text": "a"}, {"text": "b"}], user=None)
    client.force_login(project.created_by)
    page = client.get("/").content.decode()
    assert "Intents" in page
    detail = client.get(f"/projects/{project.pk}/").content.decode()
    assert "<strong>2</strong> tasks" in detail


def test_outsider_gets_404_on_a_project(client):
    project = make_project()
    client.force_login(make_user())
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert "Project" not in client.get("/").content.decode().split("<h1>Projects</h1>")[1]


def test_user_content_is_escaped(client):
    project = make_project(title="<script>alert(1)</script>")
    Project.objects.filter(pk=project.pk).update(
        expert_instruction="# Rules\n<img src=x onerror=alert(2)>\n[x](javascript:alert(3))"
    )
    tasks_import(project=project, items=[{"text": "<b onmouseover=alert(4)>hi</b>"}], user=None)
    client.force_login(project.created_by)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page
    assert 'href="javascript' not in page
    assert "<b onmouseover" not in page
    assert "<h1>Rules</h1>" in page


def test_health_reports_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_media_requires_sign_in_and_a_membership_of_the_files_project(client, media_root):
    project = make_project()
    folder = media_root / "projects" / str(project.pk) / "media"
    folder.mkdir(parents=True)
    (folder / "x.txt").write_text("secret")
    (media_root / "loose.txt").write_text("secret")
    url = f"/media/projects/{project.pk}/media/x.txt"
    assert client.get(url).status_code == 302
    client.force_login(make_user())
    assert client.get(url).status_code == 404
    client.force_login(project.created_by)
    assert b"".join(client.get(url).streaming_content) == b"secret"
    # A file outside every project's folder is nobody's.
    assert client.get("/media/loose.txt").status_code == 404
    # Dot segments cannot walk from a project of yours to another one's files.
    other = make_project()
    (media_root / "projects" / str(other.pk) / "media").mkdir(parents=True)
    (media_root / "projects" / str(other.pk) / "media" / "y.txt").write_text("theirs")
    for sneaky in (
        f"/media/projects/{project.pk}/../{other.pk}/media/y.txt",
        f"/media/projects/{project.pk}/%2e%2e/{other.pk}/media/y.txt",
        f"/media/projects/{project.pk}/./../{other.pk}/media/y.txt",
    ):
        assert client.get(sneaky).status_code == 404, sneaky
