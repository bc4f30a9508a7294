"""External ML backends over Label Studio's protocol, against a real HTTP server on loopback:
health and setup on connect, predictions that land on tasks, failures (HTTP 500, bad JSON,
a backend slower than its timeout) that leave the labelling API working with a message,
training events after a submit."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlserve.models import MLBackend
from tasks.models import Prediction, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project


class FakeBackend:
    """A tiny backend made like ``label-studio-ml-backend``'s: every request is logged;
    ``mode`` makes /predict misbehave ("500", "garbage", "slow", "bare", "invalid")."""

    def __init__(self) -> None:
        self.log: list[tuple[str, dict]] = []
        self.mode = "ok"
        self.version = "fake-v1"
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                backend.log.append((self.path, {"auth": self.headers.get("Authorization")}))
                if self.path == "/health":
                    self._answer(200, {"status": "UP", "model_class": "Fake"})
                else:
                    self._answer(404, {"error": "no such route"})

            def do_POST(self):
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                backend.log.append((self.path, body))
                if self.path == "/setup":
                    self._answer(200, {"model_version": backend.version})
                elif self.path == "/predict":
                    self._predict(body)
                elif self.path == "/webhook":
                    self._answer(201, {})
                else:
                    self._answer(404, {"error": "no such route"})

            def _predict(self, body):
                mode = backend.mode
                if mode == "500":
                    self._answer(500, b"Traceback: model exploded")
                    return
                if mode == "garbage":
                    self._answer(200, b"<html>not json")
                    return
                if mode == "slow":
                    time.sleep(3)
                items = []
                for task in body["tasks"]:
                    label = "ask" if "?" in task["data"].get("text", "") else "greet"
                    result = [choice(label)]
                    if mode == "invalid":
                        result = [choice("no-such-choice")]
                    items.append({"result": result, "score": 0.9, "model_version": backend.version})
                self._answer(200, items if mode == "bare" else {"results": items})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.log]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeBackend()
    yield server
    server.close()


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Jobs are queued on commit: run them when the request is done (the test holds a
    transaction that never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True


def _project_with_tasks(texts=("hello there", "where is it?", "hi")):
    project = make_project()
    tasks_import(project=project, items=[{"text": t} for t in texts], user=project.created_by)
    return project


def _connect(project, url, **fields):
    response = api(project.created_by).post(
        "/api/ml", {"project": project.pk, "url": url, **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_connecting_checks_health_and_setup(fake, allow_loopback):
    project = _project_with_tasks()
    body = _connect(project, fake.url, title="fake")
    assert body["state"] == "CO"
    assert body["model_version"] == "fake-v1"
    assert fake.paths() == ["/health", "/setup"]
    setup = fake.log[1][1]
    assert setup["schema"] == project.label_config
    assert setup["project"].startswith(f"{project.pk}.")


@pytest.mark.django_db
def test_basic_auth_is_sent_when_configured(fake, allow_loopback):
    project = _project_with_tasks()
    _connect(project, fake.url, auth_method="BASIC_AUTH", basic_auth_user="u", basic_auth_pass="p")
    assert fake.log[0][1]["auth"] == "Basic dTpw"


@pytest.mark.django_db
def test_a_backend_that_is_down_is_saved_in_error_with_the_reason(allow_loopback):
    project = _project_with_tasks()
    body = _connect(project, "http://127.0.0.1:9/")
    assert body["state"] == "ER"
    assert "/health failed" in body["error_message"]


@pytest.mark.django_db
def test_private_address_is_refused_without_the_admin_setting(fake):
    project = _project_with_tasks()
    response = api(project.created_by).post(
        "/api/ml", {"project": project.pk, "url": fake.url}, format="json"
    )
    assert response.status_code == 400
    assert "loopback" in response.json()["validation_errors"]["url"][0]
    assert fake.log == []


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["ok", "bare"])
def test_predictions_of_the_backend_land_on_tasks(fake, allow_loopback, mode, run_jobs):
    fake.mode = mode
    project = _project_with_tasks()
    backend = _connect(project, fake.url)
    with run_jobs():
        response = api(project.created_by).post(f"/api/ml/{backend['id']}/predict")
    assert response.status_code == 202, response.content
    job = api(project.created_by).get(f"/api/ml/{backend['id']}").json()["predict_job"]
    assert job["status"] == "done"
    assert (job["total"], job["stored"], job["invalid_count"]) == (3, 3, 0)
    predictions = Prediction.objects.filter(project=project).order_by("task_id")
    assert [p.result[0]["value"]["choices"] for p in predictions] == [
        ["greet"],
        ["ask"],
        ["greet"],
    ]
    assert {p.model_version for p in predictions} == {"fake-v1"}
    assert {p.score for p in predictions} == {0.9}
    sent = next(body for path, body in fake.log if path == "/predict")
    assert sent["label_config"] == project.label_config
    assert {"id", "data"} <= set(sent["tasks"][0])
    # A second run has nothing left to predict for this model version.
    with run_jobs():
        api(project.created_by).post(f"/api/ml/{backend['id']}/predict")
    assert Prediction.objects.filter(project=project).count() == 3
    assert fake.paths().count("/predict") == 1


@pytest.mark.django_db
def test_predictions_that_do_not_fit_the_config_are_reported_not_stored(
    fake, allow_loopback, run_jobs
):
    fake.mode = "invalid"
    project = _project_with_tasks()
    backend = _connect(project, fake.url)
    with run_jobs():
        api(project.created_by).post(f"/api/ml/{backend['id']}/predict")
    job = api(project.created_by).get(f"/api/ml/{backend['id']}").json()["predict_job"]
    assert job["stored"] == 0
    assert job["invalid_count"] == 3
    assert "no-such-choice" in job["invalid"][0]
    assert not Prediction.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_the_labelling_api_fetches_a_prediction_for_a_task_opened_without_one(fake, allow_loopback):
    project = _project_with_tasks()
    _connect(project, fake.url)
    task = Task.objects.filter(project=project).order_by("id")[1]
    body = api(project.created_by).get(f"/api/tasks/{task.pk}/label").json()
    assert body["prediction"]["result"][0]["value"]["choices"] == ["ask"]
    assert body["prediction"]["model_version"] == "fake-v1"
    assert body["prediction_notice"] is None
    assert Prediction.objects.filter(task=task).count() == 1
    # Opened again: the stored prediction is shown, the backend is not asked.
    api(project.created_by).get(f"/api/tasks/{task.pk}/label")
    assert fake.paths().count("/predict") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "message"),
    [("500", "HTTP 500"), ("garbage", "invalid JSON"), ("slow", "timed out after 1s")],
)
def test_a_failing_backend_leaves_the_labelling_api_working_with_a_message(
    fake, allow_loopback, mode, message, run_jobs
):
    project = _project_with_tasks()
    backend = _connect(project, fake.url, timeout=1)
    fake.mode = mode
    task = Task.objects.filter(project=project).order_by("id").first()
    client = api(project.created_by)
    started = time.monotonic()
    response = client.get(f"/api/tasks/{task.pk}/label")
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    body = response.json()
    assert body["task"]["id"] == task.pk
    assert body["prediction"] is None
    assert message in body["prediction_notice"]
    stored = MLBackend.objects.get(pk=backend["id"])
    assert stored.state == "ER"
    assert message in stored.error_message
    # Next task: the backend known to be failing is not waited on again.
    asked = fake.paths().count("/predict")
    following = client.get(f"/api/projects/{project.pk}/label/next").json()
    assert "failing" in following["prediction_notice"]
    assert fake.paths().count("/predict") == asked
    # The batch job reports the failure instead of raising.
    with run_jobs():
        client.post(f"/api/ml/{backend['id']}/predict")
    job = client.get(f"/api/ml/{backend['id']}").json()["predict_job"]
    assert job["status"] == "failed"
    assert message in job["error"]


@pytest.mark.django_db
def test_train_sends_start_training_to_the_webhook(fake, allow_loopback, run_jobs):
    project = _project_with_tasks()
    backend = _connect(project, fake.url)
    client = api(project.created_by)
    with run_jobs():
        response = client.post(f"/api/ml/{backend['id']}/train", {}, format="json")
    assert response.status_code == 200
    assert client.get(f"/api/ml/{backend['id']}").json()["state"] == "TR"
    path, body = fake.log[-1]
    assert path == "/webhook"
    assert body["action"] == "START_TRAINING"
    assert body["project"]["id"] == project.pk


@pytest.mark.django_db(transaction=True)
def test_a_submit_sends_the_annotation_event_to_the_backend(fake, allow_loopback):
    project = _project_with_tasks()
    _connect(project, fake.url)
    task = Task.objects.filter(project=project).order_by("id").first()
    fake.log.clear()
    response = api(project.created_by).post(
        f"/api/tasks/{task.pk}/label/submit", {"result": [choice()], "next": False}, format="json"
    )
    assert response.status_code == 201, response.content
    deadline = time.monotonic() + 5
    while "/webhook" not in fake.paths() and time.monotonic() < deadline:
        time.sleep(0.05)
    body = next(b for p, b in fake.log if p == "/webhook")
    assert body["action"] == "ANNOTATION_CREATED"
    assert body["annotation"]["result"] == [choice()]
    assert body["task"]["id"] == task.pk
    assert body["project"]["label_config"] == project.label_config


@pytest.mark.django_db
def test_a_project_without_backend_does_not_call_anyone(fake):
    project = _project_with_tasks()
    task = Task.objects.filter(project=project).first()
    body = api(project.created_by).get(f"/api/tasks/{task.pk}/label").json()
    assert body["prediction"] is None
    assert body["prediction_notice"] is None
    assert fake.log == []


@pytest.mark.django_db
def test_the_submit_paths_backend_check_is_one_cached_read(django_assert_num_queries):
    from mlserve.services import project_backends_flag_reset, project_has_backends

    project = _project_with_tasks()
    project_backends_flag_reset(project_id=project.pk)
    with django_assert_num_queries(1):
        assert not project_has_backends(project_id=project.pk)
    with django_assert_num_queries(0):
        assert not project_has_backends(project_id=project.pk)
    MLBackend.objects.create(project=project, url="http://ml.example.com")
    project_backends_flag_reset(project_id=project.pk)
    assert project_has_backends(project_id=project.pk)
