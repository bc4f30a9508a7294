"""Redis goes away under a running server: HTTP keeps working without live updates, and
live updates resume (with a reload for what was missed) when Redis is back."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from annotator.services import api_token_create
from tasks.services import tasks_import
from tests.factories import choice, make_project
from tests.realtime.servers import free_port, server_env, servers

pytestmark = pytest.mark.django_db(transaction=True)


class OwnRedis:
    """A redis-server of this test, on a fixed port, that can be stopped and started."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


async def _open(server, path, token, timeout=20, last_seq=0):
    """Connect and say hello, retrying while the server refuses (Redis down)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ws = await connect(
                server.ws_url(path),
                additional_headers={"Authorization": f"Token {token}"},
                origin=f"http://127.0.0.1:{server.port}",
                open_timeout=5,
            )
            await ws.send(json.dumps({"type": "hello", "last_seq": last_seq}))
            await _next(ws, "welcome", timeout=5)
            return ws
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _next(ws, kind, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


def test_http_works_without_redis_and_live_updates_resume_when_it_is_back(own_redis):
    project = make_project()
    tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(8)], user=None)
    tasks = list(project.tasks.order_by("id").values_list("id", flat=True))
    token = api_token_create(user=project.created_by).key
    path = f"/ws/projects/{project.pk}/"

    def post(server, task):
        return server.request(
            "POST", f"/api/tasks/{task}/annotations", token, {"result": [choice()]}
        )

    async def scenario(server):
        ws = await _open(server, path, token)
        status, _ = await asyncio.to_thread(post, server, tasks[0])
        assert status == 201
        seen = await _next(ws, "annotation.created")
        assert seen["task"] == tasks[0]

        own_redis.stop()
        started = time.monotonic()
        status, _ = await asyncio.to_thread(post, server, tasks[1])
        down_request_s = time.monotonic() - started
        listing, _ = await asyncio.to_thread(
            server.request, "GET", f"/api/projects/{project.pk}", token
        )
        await ws.close()

        own_redis.start()
        # As the page does: reconnect while the socket drops (the server's connections to
        # the old Redis fail once each), until a new write is seen live.
        frames: list[dict] = []
        again = None
        deadline = time.monotonic() + 40
        for task in tasks[2:]:
            ws = await _open(server, path, token, last_seq=seen["seq"])
            try:
                again, _ = await asyncio.to_thread(post, server, task)
                while not frames or frames[-1]["type"] != "annotation.created":
                    frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
                await ws.close()
                break
            except (ConnectionClosed, TimeoutError):
                if time.monotonic() > deadline:
                    raise
        return status, down_request_s, listing, again, frames

    with servers(1, server_env(own_redis.url)) as (server,):
        status, down_request_s, listing, again, frames = asyncio.run(scenario(server))
    assert status == 201  # the write went through with Redis down
    assert down_request_s < 5
    assert listing == 200
    assert again == 201
    assert frames[-1]["type"] == "annotation.created"
    # Events were lost while Redis was away: a page that catches up is told to reload.
    assert "reload" in [f["type"] for f in frames]
