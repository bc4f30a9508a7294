"""Redis stops and restarts while several annotators work and their pages hold sockets: HTTP
keeps working (drafts and submits accepted, none lost), every open socket is closed cleanly
(a close frame with 1013, not silence), the pages reconnect once Redis is back, are told to
reload what they missed, and live updates flow again."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from annotator.services import api_token_create
from tasks.models import Annotation, Draft
from tasks.services import tasks_import
from tests.factories import add_member, make_project, make_user
from tests.realtime.annotators import Annotators
from tests.realtime.servers import server_env, servers

pytestmark = pytest.mark.django_db(transaction=True)

ANNOTATORS = 4
CLOSE_WITHIN_S = 15  # the watch checks every second; beyond this the socket was left hanging


@dataclass
class Page:
    """One annotator's project page: its socket, reconnected whenever it closes."""

    token: str
    last_seq: int = 0
    # (monotonic time, frame type) of every frame; (time, close code) of every close
    frames: list[tuple[float, str]] = field(default_factory=list)
    closes: list[tuple[float, int | None]] = field(default_factory=list)
    opened: list[float] = field(default_factory=list)

    def seen_after(self, kind: str, moment: float) -> bool:
        return any(t >= moment and k == kind for t, k in self.frames)

    def closed_after(self, moment: float) -> list[int | None]:
        return [code for t, code in self.closes if t >= moment]


async def _keep_open(server, path: str, page: Page, stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Token {page.token}"}
    while not stop.is_set():
        try:
            ws = await connect(
                server.ws_url(path),
                additional_headers=headers,
                origin=f"http://127.0.0.1:{server.port}",
                open_timeout=5,
            )
        except Exception:
            await asyncio.sleep(0.3)  # refused while Redis is down: the page retries
            continue
        page.opened.append(time.monotonic())
        try:
            await ws.send(json.dumps({"type": "hello", "last_seq": page.last_seq}))
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                page.frames.append((time.monotonic(), frame["type"]))
                if isinstance(frame.get("seq"), int):
                    page.last_seq = frame["seq"]
            await ws.close()
        except ConnectionClosed as closed:
            page.closes.append((time.monotonic(), closed.rcvd.code if closed.rcvd else None))
            await asyncio.sleep(0.3)


async def _wait_until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.fault("Redis stopped and restarted under annotators and their sockets")
def test_annotators_and_their_sockets_ride_out_a_redis_restart(own_redis):
    project = make_project()
    tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(600)], user=None)
    users = [make_user() for _ in range(ANNOTATORS)]
    for user in users:
        add_member(project, user)
    tokens = [api_token_create(user=user).key for user in users]
    pages = [Page(token) for token in tokens]
    path = f"/ws/projects/{project.pk}/"
    figures: dict[str, float] = {}

    async def scenario(server, crowd: Annotators) -> tuple[float, float]:
        stop = asyncio.Event()
        watchers = [asyncio.create_task(_keep_open(server, path, page, stop)) for page in pages]
        try:
            await _wait_until(
                lambda: all(p.seen_after("annotation.created", 0) for p in pages),
                60,
                "live updates on every page",
            )
            own_redis.stop()
            down_at = time.monotonic()
            figures["sockets_closed_s"] = await _wait_until(
                lambda: all(p.closed_after(down_at) for p in pages),
                CLOSE_WITHIN_S,
                "every socket to be closed",
            )
            await _wait_until(
                lambda: crowd.record.successes_since(down_at) >= 6 * ANNOTATORS,
                60,
                "work while Redis is down",
            )
            own_redis.start()
            up_at = time.monotonic()
            figures["worked_while_down"] = crowd.record.successes_since(down_at)
            figures["live_again_s"] = await _wait_until(
                lambda: all(p.seen_after("annotation.created", up_at) for p in pages),
                60,
                "live updates on every page again",
            )
            return down_at, up_at
        finally:
            stop.set()
            await asyncio.gather(*watchers)

    with servers(1, server_env(own_redis.url)) as (server,):
        pid = server.proc.pid
        with Annotators(server.port, project.pk, tokens) as crowd:
            down_at, up_at = asyncio.run(scenario(server, crowd))
        still_running = server.proc.poll() is None and server.proc.pid == pid

    record = crowd.record
    stored = set(Annotation.objects.filter(project=project).values_list("id", flat=True))
    kept = set(
        Annotation.objects.filter(project=project).values_list(
            "task_id", "completed_by_id", "notes"
        )
    ) | set(Draft.objects.filter(task__project=project).values_list("task_id", "user_id", "notes"))
    print(
        f"\nredis restart: sockets closed {figures['sockets_closed_s']:.1f} s after the stop,"
        f" {figures['worked_while_down']:.0f} requests answered 2xx meanwhile, live updates on"
        f" every page {figures['live_again_s']:.1f} s after the restart; statuses"
        f" {dict(record.statuses)}; {len(record.submits)} submits, {len(record.drafts)} drafts"
    )

    assert still_running
    assert record.failures == []
    assert record.status_codes() <= {200, 201, 409}, record.statuses  # no 5xx, no 503
    assert all(annotation in stored for annotation, _, _ in record.submits)
    assert len(record.submits) == len({a for a, _, _ in record.submits})
    assert all((task, users[n].pk, notes) in kept for task, n, notes in record.drafts)
    for page in pages:
        codes = page.closed_after(down_at)
        assert codes, "an open socket was left hanging"
        assert codes[0] == 1013  # a close frame saying "try again later", not a dropped line
        assert any(t >= up_at for t in page.opened)  # reconnected
        assert page.seen_after("reload", up_at)  # told that it missed events
        assert page.seen_after("annotation.created", up_at)  # live again
