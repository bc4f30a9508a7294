"""Our built-in models over Label Studio's ML-backend protocol: the routes themselves, and
interchangeability (project B of our server connected, as an external backend, to the
built-in model of project A served by a live server)."""

from __future__ import annotations

import base64
import random

import pytest

from annotator.demo.text import INTENTS, generate_utterances, intent_entity_config, utterance_task
from annotator.services import api_token_create
from mlserve.models import ModelStatus, ModelVersion
from mlserve.services import model_version_create, model_version_train
from tasks.models import Prediction, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, make_project, make_user


def _trained_project(n_annotated=120, seed=5):
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(seed)
    items = [
        utterance_task(u, with_annotation=True, with_prediction=False, rng=rng)
        for u in generate_utterances(n_annotated, seed=seed)
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    version = model_version_train(version=model_version_create(project=project, control="intent"))
    assert version.is_active, version.promotion
    return project, version


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.django_db
def test_the_protocol_routes_need_credentials_and_membership():
    project = make_project(label_config=intent_entity_config())
    assert api().get(f"/api/ml-backend/{project.pk}/health").status_code == 401
    assert api(make_user()).get(f"/api/ml-backend/{project.pk}/health").status_code == 404
    annotator = make_user()
    add_member(project, annotator)
    client = api(annotator)
    health = client.get(f"/api/ml-backend/{project.pk}/health")
    assert health.status_code == 200
    assert health.json()["status"] == "UP"
    setup = client.post(f"/api/ml-backend/{project.pk}/setup", {"schema": "<View/>"}, format="json")
    assert setup.json() == {"model_version": ""}
    # The webhook can start training: managers only.
    webhook = client.post(
        f"/api/ml-backend/{project.pk}/webhook", {"action": "START_TRAINING"}, format="json"
    )
    assert webhook.status_code == 403


@pytest.mark.django_db
def test_basic_auth_with_an_api_token_as_password_is_accepted():
    project = make_project(label_config=intent_entity_config())
    key = api_token_create(user=project.created_by).key
    client = api()
    client.credentials(HTTP_AUTHORIZATION=_basic("label-studio", key))
    assert client.get(f"/api/ml-backend/{project.pk}/health").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=_basic("label-studio", "wrong"))
    assert client.get(f"/api/ml-backend/{project.pk}/health").status_code == 401


@pytest.mark.django_db
def test_start_training_queues_a_version_and_annotation_events_are_accepted():
    project = make_project(label_config=intent_entity_config())
    client = api(project.created_by)
    url = f"/api/ml-backend/{project.pk}/webhook"
    started = client.post(url, {"action": "START_TRAINING", "project": {}}, format="json")
    assert started.status_code == 201
    assert started.json()["queued"] == ["intent-v1"]
    assert ModelVersion.objects.get(project=project).status == ModelStatus.QUEUED
    event = client.post(url, {"action": "ANNOTATION_CREATED", "annotation": {}}, format="json")
    assert event.status_code == 201
    assert client.post(url, {"action": "NOPE"}, format="json").status_code == 400


@pytest.mark.django_db
def test_predict_without_an_active_model_or_text_gives_empty_results():
    project = make_project(label_config=intent_entity_config())
    response = api(project.created_by).post(
        f"/api/ml-backend/{project.pk}/predict",
        {"tasks": [{"id": 1, "data": {"text": "hello"}}, {"id": 2, "data": {}}]},
        format="json",
    )
    assert response.status_code == 200
    assert [r["result"] for r in response.json()["results"]] == [[], []]


@pytest.mark.django_db(transaction=True)
def test_another_project_connects_to_our_builtin_backend_and_gets_predictions(
    live_server, settings, media_root
):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    source, version = _trained_project()
    key = api_token_create(user=source.created_by, name="backend").key
    target = make_project(label_config=intent_entity_config())
    texts = ["I want to book a table for two", "what is the weather tomorrow", "hello"]
    items = [{"text": t, "context": []} for t in texts]
    tasks_import(project=target, items=items, user=target.created_by)
    client = api(target.created_by)
    connected = client.post(
        "/api/ml",
        {
            "project": target.pk,
            "url": f"{live_server.url}/api/ml-backend/{source.pk}",
            "auth_method": "BASIC_AUTH",
            "basic_auth_user": "annotator",
            "basic_auth_pass": key,
            "timeout": 60,
        },
        format="json",
    )
    assert connected.status_code == 201, connected.content
    backend = connected.json()
    assert (backend["state"], backend["model_version"]) == ("CO", version.name), backend
    assert client.post(f"/api/ml/{backend['id']}/predict").status_code == 202
    job = client.get(f"/api/ml/{backend['id']}").json()["predict_job"]
    assert (job["status"], job["stored"], job["invalid_count"]) == ("done", 3, 0), job
    predictions = Prediction.objects.filter(project=target)
    assert predictions.count() == 3
    for prediction in predictions:
        assert prediction.model_version == version.name
        assert prediction.result[0]["value"]["choices"][0] in INTENTS
        assert 0 < prediction.score <= 1
    assert set(predictions.values_list("task_id", flat=True)) == set(
        Task.objects.filter(project=target).values_list("pk", flat=True)
    )
