"""Webhook delivery against a real HTTP receiver on loopback: signature, retries with
backoff, the delivery log, which events reach which webhooks, and the private-address rule."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from projects.models import Webhook, WebhookDelivery
from projects.webhooks import (
    SIGNATURE_HEADER,
    project_has_webhooks,
    webhook_backoff,
    webhook_delivery_attempt,
    webhook_signature,
    webhook_signature_valid,
    webhooks_flag_reset,
)
from tasks.models import Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project


class Receiver:
    """Answers ``statuses`` in turn (then 200) and records every request."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.seen: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.seen.append((dict(self.headers.items()), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.seen]

    def wait_for(self, count: int, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses: list[int] | None = None) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.httpd.shutdown()
        r.httpd.server_close()


@pytest.fixture
def loopback(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    webhooks_flag_reset()


def _hook(project, url, **fields) -> dict:
    response = api(project.created_by).post(
        "/api/webhooks", {"project": project.pk, "url": url, **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _submit(project) -> Task:
    task = Task.objects.filter(project=project).order_by("id").first()
    response = api(project.created_by).post(
        f"/api/tasks/{task.pk}/label/submit", {"result": [choice()], "next": False}, format="json"
    )
    assert response.status_code == 201, response.content
    return task


def test_signature_is_checked_against_body_secret_and_time():
    body = b'{"action":"X"}'
    header = webhook_signature(secret="s3cret", timestamp=1_000, body=body)
    assert webhook_signature_valid(secret="s3cret", header=header, body=body, now=1_010)
    assert not webhook_signature_valid(secret="other", header=header, body=body, now=1_010)
    assert not webhook_signature_valid(secret="s3cret", header=header, body=body + b" ", now=1_010)
    assert not webhook_signature_valid(secret="s3cret", header=header, body=body, now=2_000)
    assert not webhook_signature_valid(secret="s3cret", header="v1=abc", body=body)


def test_backoff_doubles_from_the_base_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    assert [webhook_backoff(n) for n in (1, 2, 3)] == [10, 20, 40]
    assert webhook_backoff(30) == 3600


@pytest.mark.django_db(transaction=True)
def test_a_submit_reaches_the_receiver_signed_with_the_webhooks_secret(receiver, loopback):
    target = receiver()
    project = make_project()
    tasks_import(project=project, items=[{"text": "hello"}], user=project.created_by)
    hook = _hook(project, target.url, headers={"Authorization": "Bearer abc"})
    task = _submit(project)
    target.wait_for(1)
    headers, body = target.seen[0]
    assert webhook_signature_valid(
        secret=hook["secret"], header=headers[SIGNATURE_HEADER], body=body
    )
    assert headers["Authorization"] == "Bearer abc"
    assert headers["X-Annotator-Event"] == "ANNOTATION_CREATED"
    event = json.loads(body)
    assert event["action"] == "ANNOTATION_CREATED"
    assert event["task"]["id"] == task.pk
    assert event["annotation"]["result"] == [choice()]
    assert event["project"]["id"] == project.pk
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.get(webhook_id=hook["id"])
        if delivery.status == "delivered":
            break
        time.sleep(0.02)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)


@pytest.mark.django_db(transaction=True)
def test_a_failed_delivery_is_retried_and_logged(receiver, loopback):
    target = receiver(statuses=[500, 503])
    project = make_project()
    hook = _hook(project, target.url)
    api(project.created_by).patch(
        f"/api/projects/{project.pk}", {"title": "renamed"}, format="json"
    )
    target.wait_for(3)
    assert [b["action"] for b in target.bodies()] == ["PROJECT_UPDATED"] * 3
    # The same bytes each time (the signature covers them), one delivery row.
    assert len({body for _, body in target.seen}) == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.get(webhook_id=hook["id"])
        if delivery.status != "pending":
            break
        time.sleep(0.02)
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    log = api(project.created_by).get(f"/api/webhooks/{hook['id']}/deliveries").json()
    assert log["count"] == 1
    assert log["results"][0]["attempts"] == 3
    assert log["results"][0]["payload"]["project"]["title"] == "renamed"


@pytest.mark.django_db
def test_attempts_stop_after_the_maximum_with_the_reason(receiver, loopback, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    target = receiver(statuses=[500, 500, 500])
    project = make_project()
    hook = Webhook.objects.create(
        organization=project.organization, project=project, url=target.url
    )
    delivery = WebhookDelivery.objects.create(webhook=hook, action="PROJECT_UPDATED", payload={})
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == 0
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 2, 500)
    assert delivery.error.startswith("HTTP 500")
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # nothing left to do
    assert len(target.seen) == 2


@pytest.mark.django_db
def test_a_receiver_that_moved_to_a_private_address_is_refused_at_delivery(receiver, settings):
    target = receiver()
    project = make_project()
    hook = Webhook.objects.create(
        organization=project.organization, project=project, url=target.url
    )
    delivery = WebhookDelivery.objects.create(webhook=hook, action="PROJECT_UPDATED", payload={})
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = False
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.response_status is None
    assert "loopback" in delivery.error
    assert target.seen == []


@pytest.mark.django_db
def test_events_reach_only_the_webhooks_that_take_them(
    loopback, django_capture_on_commit_callbacks
):
    project = make_project()
    only_tasks = _hook(
        project, "http://127.0.0.1:9/a", send_for_all_actions=False, actions=["TASKS_CREATED"]
    )
    bare = _hook(project, "http://127.0.0.1:9/b", send_payload=False)
    other = make_project(title="other")
    _hook(other, "http://127.0.0.1:9/c")
    tasks_import(project=project, items=[{"text": "a"}, {"text": "b"}], user=project.created_by)
    mine = WebhookDelivery.objects.filter(webhook__project=project).order_by("webhook_id")
    assert [(d.webhook_id, d.action) for d in mine] == [
        (only_tasks["id"], "TASKS_CREATED"),
        (bare["id"], "TASKS_CREATED"),
    ]
    full, minimal = mine[0].payload, mine[1].payload
    assert full["count"] == 2 and len(full["tasks"]) == 2
    assert minimal == {"action": "TASKS_CREATED", "project": {"id": project.pk}}
    assert not WebhookDelivery.objects.filter(webhook__project=other).exists()


@pytest.mark.django_db
def test_an_organization_wide_webhook_hears_every_project(loopback):
    project = make_project()
    Webhook.objects.create(organization=project.organization, url="http://127.0.0.1:9/org")
    webhooks_flag_reset()
    second = make_project(organization=project.organization, title="second")
    assert project_has_webhooks(project_id=second.pk)
    assert WebhookDelivery.objects.filter(action="PROJECT_CREATED").count() == 1


@pytest.mark.django_db
def test_the_submit_paths_webhook_check_is_cached(django_assert_num_queries, loopback):
    project = make_project()
    webhooks_flag_reset()  # creating the project asked already
    with django_assert_num_queries(1):
        assert not project_has_webhooks(project_id=project.pk)
    with django_assert_num_queries(0):
        assert not project_has_webhooks(project_id=project.pk)
    _hook(project, "http://127.0.0.1:9/")
    assert project_has_webhooks(project_id=project.pk)


@pytest.mark.django_db
def test_redeliver_sends_a_logged_event_again(
    receiver, loopback, django_capture_on_commit_callbacks
):
    target = receiver()
    project = make_project()
    hook = Webhook.objects.create(
        organization=project.organization, project=project, url=target.url
    )
    first = WebhookDelivery.objects.create(
        webhook=hook, action="PROJECT_UPDATED", payload={"action": "PROJECT_UPDATED", "n": 1}
    )
    response = api(project.created_by).post(
        f"/api/webhooks/{hook.pk}/deliveries/{first.pk}/redeliver"
    )
    assert response.status_code == 202, response.content
    again = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert again.pk != first.pk and again.payload == first.payload
    missing = api(project.created_by).post(f"/api/webhooks/{hook.pk}/deliveries/999999/redeliver")
    assert missing.status_code == 404
    bad = api(project.created_by).get(f"/api/webhooks/{hook.pk}/deliveries?status=lost")
    assert bad.status_code == 400 and "status" in bad.json()["validation_errors"]


@pytest.mark.django_db
def test_a_webhook_inserted_without_a_secret_gets_one_before_its_first_delivery(receiver, loopback):
    target = receiver()
    project = make_project()
    hook = Webhook.objects.create(
        organization=project.organization, project=project, url=target.url
    )
    Webhook.objects.filter(pk=hook.pk).update(secret="")  # what an older release inserts
    delivery = WebhookDelivery.objects.create(webhook=hook, action="PROJECT_UPDATED", payload={})
    webhook_delivery_attempt(delivery_id=delivery.pk)
    hook.refresh_from_db()
    assert len(hook.secret) == 64
    headers, body = target.seen[0]
    assert webhook_signature_valid(secret=hook.secret, header=headers[SIGNATURE_HEADER], body=body)
