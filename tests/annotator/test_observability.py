"""/metrics, the request id, JSON logs and the health checks, against real parts: a real
Redis server that the test stops and starts again."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from annotator.observability import JsonFormatter, RequestIdFilter, request_id
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project


def _samples(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.django_db
def test_metrics_move_after_traffic(client, django_capture_on_commit_callbacks):
    project = make_project()
    tasks_import(project=project, items=[{"text": "a"}, {"text": "b"}], user=project.created_by)
    before = _samples(client)
    annotator = api(project.created_by)
    task = annotator.get(f"/api/projects/{project.pk}/next").json()
    assert "id" in task, task
    response = annotator.post(
        f"/api/tasks/{task['id']}/annotations", {"result": [choice()]}, format="json"
    )
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks(execute=True):
        annotator.post(f"/api/projects/{project.pk}/exports", {"exportType": "JSON"}, format="json")
    after = _samples(client)
    count = "annotator_http_request_duration_seconds_count"
    assert _value(after, count, view="project-next", method="GET", status="2xx") == (
        _value(before, count, view="project-next", method="GET", status="2xx") + 1
    )
    assert _value(after, "annotator_annotations_total", cancelled="false") == (
        _value(before, "annotator_annotations_total", cancelled="false") + 1
    )
    assert _value(after, "annotator_next_task_duration_seconds_count") == (
        _value(before, "annotator_next_task_duration_seconds_count") + 1
    )
    jobs = {
        dict(labels)["job"]
        for (name, labels), value in after.items()
        if name == "annotator_job_duration_seconds_count" and value
    }
    assert "tasks.jobs.export_run" in jobs


@pytest.mark.django_db
def test_a_failing_job_is_counted(client):
    from tasks.jobs import export_run

    before = _value(_samples(client), "annotator_job_failures_total", job="tasks.jobs.export_run")
    with pytest.raises(Exception):  # noqa: B017 - any failure of the job counts
        export_run.delay(10**12)
    after = _value(_samples(client), "annotator_job_failures_total", job="tasks.jobs.export_run")
    assert after == before + 1


def test_metrics_want_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "t0ken"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").status_code == 200


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one(client):
    generated = client.get("/health/live")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health/live", HTTP_X_REQUEST_ID="abc-12345678")["X-Request-ID"] == (
        "abc-12345678"
    )
    forged = client.get("/health/live", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")
    assert forged["X-Request-ID"] != "x\r\nSet-Cookie: a=b"


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord(
        "annotator.test", logging.INFO, __file__, 1, "hello %s", ("you",), None
    )
    token = request_id.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello you"
    assert line["request_id"] == "req-42"
    assert line["level"] == "INFO"
    assert line["logger"] == "annotator.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis(redis_server_binary):
    server = RedisProcess(redis_server_binary, _free_port())
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_ready_turns_unhealthy_while_redis_is_down_and_recovers(client, settings, own_redis):
    settings.REDIS_URL = f"redis://127.0.0.1:{own_redis.port}/0"
    body = client.get("/health/ready").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "redis": "ok"}}
    own_redis.stop()
    down = client.get("/health/ready")
    assert down.status_code == 503
    assert down.json()["checks"]["redis"].startswith("error: ConnectionError")
    assert down.json()["checks"]["database"] == "ok"
    assert client.get("/health/live").status_code == 200  # alive, just not ready
    own_redis.start()
    assert client.get("/health/ready").status_code == 200


@pytest.mark.django_db
def test_ready_reports_a_database_it_cannot_reach(client, monkeypatch):
    from annotator import observability

    def broken() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(observability, "_check_database", broken)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OSError: connection refused"
