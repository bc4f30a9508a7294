"""Two server processes on the real Redis channel layer: what one process publishes reaches
the websockets of the other, and the event numbers and catch-up buffer are shared."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from annotator.services import api_token_create
from tasks.services import tasks_import
from tests.factories import add_member, choice, make_project, make_user
from tests.realtime.servers import redis_url_or_skip, server_env, servers

pytestmark = pytest.mark.django_db(transaction=True)


async def _open(server, path, token):
    return await connect(
        server.ws_url(path),
        additional_headers={"Authorization": f"Token {token}"},
        origin=f"http://127.0.0.1:{server.port}",
    )


async def _next(ws, kind, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker):
    """Two server processes on the test database and one Redis, for the whole module."""
    with servers(2, server_env(redis_url_or_skip())) as started:
        yield started


@pytest.fixture
def world():
    project = make_project()
    tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(3)], user=None)
    annotator = make_user(username="watcher")
    add_member(project, annotator)
    return {
        "project": project,
        "tasks": list(project.tasks.order_by("id").values_list("id", flat=True)),
        "owner": api_token_create(user=project.created_by).key,
        "watcher": api_token_create(user=annotator).key,
    }


def test_change_through_the_api_on_one_process_reaches_a_socket_on_the_other(world, pair):
    project, tasks = world["project"], world["tasks"]
    path = f"/ws/projects/{project.pk}/"

    async def scenario(a, b):
        ws = await _open(b, path, world["watcher"])
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        await _next(ws, "welcome")
        status, body = await asyncio.to_thread(
            a.request, "POST", f"/api/tasks/{tasks[0]}/annotations", world["owner"],
            {"result": [choice()]},
        )  # fmt: skip
        assert status == 201, body
        event = await _next(ws, "annotation.created")
        await ws.close()
        return body, event

    body, event = asyncio.run(scenario(*pair))
    assert (event["task"], event["annotation"]) == (tasks[0], body["id"])
    assert event["seq"] >= 1


def test_a_client_reconnecting_to_the_other_process_catches_up(world, pair):
    project, tasks = world["project"], world["tasks"]
    path = f"/ws/projects/{project.pk}/"

    async def scenario(a, b):
        ws = await _open(b, path, world["watcher"])
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        last = (await _next(ws, "welcome"))["seq"]
        await ws.close()
        for task in tasks[1:]:
            status, _ = await asyncio.to_thread(
                a.request, "POST", f"/api/tasks/{task}/annotations", world["owner"],
                {"result": [choice()]},
            )  # fmt: skip
            assert status == 201
        ws = await _open(a, path, world["watcher"])
        await ws.send(json.dumps({"type": "hello", "last_seq": last}))
        welcome = await _next(ws, "welcome")
        missed = [await _next(ws, "annotation.created") for _ in tasks[1:]]
        await ws.close()
        return last, welcome, missed

    last, welcome, missed = asyncio.run(scenario(*pair))
    assert [e["task"] for e in missed] == tasks[1:]
    assert [e["seq"] for e in missed] == [last + 1, last + 2]
    assert welcome["seq"] == last + 2


def test_presence_is_shared_between_processes(world, pair):
    project = world["project"]
    path = f"/ws/projects/{project.pk}/"

    async def scenario(a, b):
        owner = await _open(a, path, world["owner"])
        await owner.send(json.dumps({"type": "hello", "last_seq": 0}))
        await _next(owner, "welcome")
        watcher = await _open(b, path, world["watcher"])
        seen = await _next(owner, "presence")
        while len(seen["users"]) < 2:
            seen = await _next(owner, "presence")
        await watcher.close()
        await owner.close()
        return seen

    seen = asyncio.run(scenario(*pair))
    assert {u["username"] for u in seen["users"]} == {project.created_by.username, "watcher"}
