from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from annotator.models import User
from projects.models import Project
from tasks.models import Annotation, Prediction, Task

pytestmark = pytest.mark.django_db


def _seed(*args):
    out = io.StringIO()
    call_command(
        "seed_demo", "--utterances", "60", "--images", "4", "--clips", "2", "--french", "12",
        *args, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def _token_user(key):
    """The user a key authenticates over the API, or None (401)."""
    response = APIClient().get("/api/current-user", HTTP_AUTHORIZATION=f"Token {key}")
    if response.status_code == 401:
        return None
    return User.objects.get(pk=response.json()["id"])


def _printed(output, key):
    return next(
        line.split(": ", 1)[1] for line in output.splitlines() if line.strip().startswith(key)
    )


def test_seed_creates_four_projects_with_valid_content(media_root):
    _seed()
    titles = set(Project.objects.values_list("title", flat=True))
    assert len(titles) == 4
    text = Project.objects.get(title__startswith="Customer service")
    assert text.tasks.count() == 60
    assert Annotation.objects.filter(project=text).exists()
    assert Prediction.objects.filter(project=text).exists()
    langs = {t.data["lang"] for t in text.tasks.all()}
    assert langs == {"en", "fr"}
    # Counters agree with the rows.
    for task in Task.objects.all():
        assert task.total_annotations == task.annotations.filter(was_cancelled=False).count()
        assert task.total_predictions == task.predictions.count()
    # Several annotators authored the demo annotations.
    assert Annotation.objects.values("completed_by").distinct().count() >= 2


def test_seed_prints_a_random_admin_password_and_token_that_work(media_root):
    output = _seed()
    password, token = _printed(output, "password"), _printed(output, "API token")
    assert len(password) >= 12
    assert Client().login(username="admin", password=password)
    assert _token_user(token) == User.objects.get(username="admin")
    # Annotators have no usable password: no default credentials anywhere.
    assert not User.objects.get(username="annotator1").has_usable_password()


def test_two_seeds_give_different_admin_passwords(media_root):
    first = _printed(_seed(), "password")
    User.objects.all().delete()
    Project.objects.all().delete()
    assert _printed(_seed(), "password") != first


def test_if_empty_does_nothing_when_projects_exist(media_root):
    _seed()
    output = _seed("--if-empty")
    assert "demo not seeded" in output
    assert Project.objects.count() == 4


def test_seeded_media_files_are_served_to_members(media_root):
    _seed()
    image_task = Task.objects.filter(data__has_key="image").first()
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    response = client.get(image_task.data["image"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


def test_api_token_command_prints_a_new_token():
    User.objects.create_user(username="bot")
    out = io.StringIO()
    call_command("api_token", "bot", stdout=out)
    token = out.getvalue().strip()
    assert len(token) == 40
    assert _token_user(token) == User.objects.get(username="bot")
    # A second run replaces it: the first key stops working.
    call_command("api_token", "bot", stdout=io.StringIO())
    assert _token_user(token) is None


def test_the_french_project_is_pre_annotated_before_any_training(media_root):
    _seed()
    french = Project.objects.get(title__startswith="Service client (FR)")
    assert french.tasks.count() == 12
    assert not Annotation.objects.filter(project=french).exists()
    predictions = Prediction.objects.filter(project=french)
    assert predictions.count() == 12
    assert {p.model_version for p in predictions} == {"fr_core_news_sm-3.8.0"}
    labels = {i["value"]["labels"][0] for p in predictions for i in p.result}
    assert labels == {"LOCATION"}
