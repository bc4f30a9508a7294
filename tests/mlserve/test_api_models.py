"""The model-version API: train (a job), list side by side with the learning curve, promote or
roll back, retrain settings; errors name the field."""

from __future__ import annotations

import random

import pytest

from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(1)
    items = [
        utterance_task(u, with_annotation=True, with_prediction=False, rng=rng)
        for u in generate_utterances(150, seed=1)
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    return project


def test_train_list_and_roll_back(project):
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/models"
    empty = client.get(url).json()
    assert empty["versions"] == [] and empty["trainable_controls"] == ["intent", "entities"]
    first = client.post(url, {}, format="json")
    assert first.status_code == 202, first.json()
    assert first.json()["status"] == "ready" and first.json()["is_active"]
    second = client.post(url, {"control": "intent"}, format="json").json()
    listed = client.get(url).json()
    assert [v["name"] for v in listed["versions"]] == ["intent-v2", "intent-v1"]
    curve = listed["learning_curves"]["intent"]
    assert [p["version"] for p in curve] == ["intent-v1", "intent-v2"]
    assert all(p["accuracy"] is not None and p["train_size"] > 0 for p in curve)
    back = client.post(f"{url}/{first.json()['id']}/activate")
    assert back.status_code == 200 and back.json()["is_active"]
    detail = client.get(f"{url}/{second['id']}").json()
    assert detail["is_active"] is False
    assert "accuracy" in detail["metrics"]


def test_errors_name_the_field(project):
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/models"
    bad = client.post(url, {"control": "context"}, format="json")
    assert bad.status_code == 400
    assert "trainable" in bad.json()["validation_errors"]["control"][0]
    assert client.get(f"{url}/999999").status_code == 404
    settings = client.put(
        f"/api/projects/{project.pk}/ml-settings", {"retrain_every": -1}, format="json"
    )
    assert settings.status_code == 400 and "retrain_every" in settings.json()["validation_errors"]


def test_annotators_read_but_do_not_train(project):
    annotator = make_user()
    add_member(project, annotator)
    client = api(annotator)
    assert client.get(f"/api/projects/{project.pk}/models").status_code == 200
    assert client.post(f"/api/projects/{project.pk}/models", {}, format="json").status_code == 403
    put = client.put(f"/api/projects/{project.pk}/ml-settings", {"retrain_every": 5}, format="json")
    assert put.status_code == 403


def test_retrain_settings_round_trip(project):
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/ml-settings"
    assert client.get(url).json() == {
        "retrain_every": 0, "control": "", "language": "", "finetune": "off",
    }  # fmt: skip
    saved = client.put(url, {"retrain_every": 50, "control": "intent"}, format="json")
    assert saved.status_code == 200
    assert client.get(url).json() == {
        "retrain_every": 50, "control": "intent", "language": "", "finetune": "off",
    }  # fmt: skip
    auto = client.put(url, {"retrain_every": 0, "finetune": "auto"}, format="json")
    assert auto.status_code == 200 and auto.json()["finetune"] == "auto"
    bad = client.put(url, {"retrain_every": 0, "finetune": "always"}, format="json")
    assert bad.status_code == 400 and "finetune" in bad.json()["validation_errors"]
    client.put(url, {"retrain_every": 0, "language": "fr"}, format="json")
    assert client.get(url).json()["language"] == "fr"


def test_the_entity_model_trains_through_the_api(project):
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/models"
    made = client.post(url, {"control": "entities"}, format="json")
    assert made.status_code == 202, made.json()
    body = made.json()
    assert (body["kind"], body["status"], body["is_active"]) == ("entities", "ready", True)
    assert body["metrics"]["entity_f1"] > 0.5
    curve = client.get(url).json()["learning_curves"]["entities"]
    assert curve[0]["entity_f1"] == body["metrics"]["entity_f1"]


def test_the_data_managers_retrain_action_queues_a_version_per_model(
    django_capture_on_commit_callbacks,
):
    from mlserve.models import ModelVersion

    intent_only = (
        '<View><Text name="text" value="$text"/><Choices name="intent" toName="text">'
        '<Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    project = make_project(label_config=intent_only)
    choice = {"from_name": "intent", "to_name": "text", "type": "choices"}
    items = [
        {"data": {"text": f"{'apple pie' if i % 2 else 'blue sky'} {i}"},
         "annotations": [{"result": [{**choice, "value": {"choices": ["a" if i % 2 else "b"]}}]}]}
        for i in range(60)
    ]  # fmt: skip
    ids = tasks_import(project=project, items=items, user=project.created_by).task_ids
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/data/actions/retrain"
    empty = client.post(url, {"selection": {"ids": []}}, format="json")
    assert empty.status_code == 400 and "selection" in empty.json()["validation_errors"]
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued after commit
        done = client.post(url, {"selection": {"ids": ids[:3]}}, format="json")
    assert done.status_code == 200 and done.json() == {"tasks": 3, "changed": 1, "skipped": 0}
    [version] = ModelVersion.objects.filter(project=project)
    assert version.status == "ready" and version.train_size + version.validation_size == 60


def test_retrain_without_a_trainable_control_is_refused():
    project = make_project(
        label_config='<View><Image name="img" value="$image"/>'
        '<RectangleLabels name="box" toName="img"><Label value="car"/></RectangleLabels></View>'
    )
    ids = tasks_import(project=project, items=[{"image": "http://x/a.png"}], user=None).task_ids
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/data/actions/retrain",
        {"selection": {"ids": ids}},
        format="json",
    )
    assert response.status_code == 400
    assert "no control" in response.json()["validation_errors"]["selection"][0]
