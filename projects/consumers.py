"""Websockets of a project: members join the group ``project-<id>`` and receive its events.

Writes never go through the socket (DESIGN §5); services broadcast after commit with
``project_broadcast`` and every member connected to the project receives the event, numbered
with the project's ``seq`` (annotator.realtime). The protocol (README, real time):

client -> server  ``{"type": "hello", "last_seq": 41}``  catch up after a reconnect
                  ``{"type": "ping"}``                   keep presence alive (every 20 s)
server -> client  ``{"type": "welcome", "seq": 45, "presence": [...]}``, the missed events
                  or ``{"type": "reload", "seq": 45}``, then every event of the project;
                  ``{"type": "presence", "users": [{"user", "username", "task"}]}``;
                  ``{"type": "error", "error": "...", "field"?: "..."}`` for a bad message,
                  after which the connection goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from annotator.dbguard import DATABASE_ERRORS
from annotator.realtime import (
    RateLimit,
    events_since,
    live_socket_add,
    live_socket_remove,
    presence_list,
    presence_remove,
    presence_set,
)
from projects.models import Project
from projects.selectors import project_get_for_user

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4096
MESSAGES_PER_S = 10.0
MESSAGE_BURST = 20

PRESENCE_DEBOUNCE_S = 0.25
_presence_pending: dict[tuple[int, int], asyncio.Task[None]] = {}

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


async def _presence_broadcast(layer: Any, key: tuple[int, int]) -> None:
    await asyncio.sleep(PRESENCE_DEBOUNCE_S)
    _presence_pending.pop(key, None)
    project_id = key[1]
    users = await sync_to_async(presence_list)(project_id=project_id)
    # Redis down: presence is shown again when it is back.
    with contextlib.suppress(Exception):
        await layer.group_send(
            project_group(project_id),
            {"type": "project.event", "event": {"type": "presence", "users": users}},
        )


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Sign-in check, project group, presence, catch-up and the guarded message loop shared
    by the project and task sockets. Subclasses set ``project_id`` and ``task_id`` in
    ``admit`` (None when the user may not connect)."""

    project_id: int
    task_id: int | None = None
    joined: list[str]

    async def admit(self, user: Any) -> Project | None:
        raise NotImplementedError

    async def connect(self) -> None:
        self.joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        project = await self.admit(user)
        if project is None:
            await self.close(code=4404)
            return
        self.user = user
        self.limit = RateLimit(rate=MESSAGES_PER_S, burst=MESSAGE_BURST)
        for group in self.groups_to_join():
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except Exception:
                # Redis down: no live updates; the page retries later and HTTP keeps working.
                await self.close(code=1013)
                return
            self.joined.append(group)
        await self.accept()
        live_socket_add(self)
        await self.presence_changed(present=True)

    def groups_to_join(self) -> list[str]:
        return [project_group(self.project_id)]

    async def disconnect(self, code: int) -> None:
        live_socket_remove(self)
        if not self.joined:
            return
        for group in self.joined:
            # Redis down: its group entries expire by themselves.
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        await self.presence_changed(present=False)
        try:
            await self.left()
        except DATABASE_ERRORS:
            # The database is away: what the socket held (a task's lease) expires by itself.
            logger.warning("database unavailable closing a socket of project %s", self.project_id)

    async def left(self) -> None:
        """After the socket closed (subclasses release what it held)."""

    # --- presence ---------------------------------------------------------------------------
    async def presence_changed(self, *, present: bool) -> None:
        if present:
            entry = {"user": self.user.pk, "username": self.user.username, "task": self.task_id}
            await sync_to_async(presence_set)(
                project_id=self.project_id, channel=self.channel_name, entry=entry
            )
        else:
            await sync_to_async(presence_remove)(
                project_id=self.project_id, channel=self.channel_name
            )
        # One list per project and process every PRESENCE_DEBOUNCE_S, whatever the number of
        # joins: a list sent for each of 200 sockets opening at once is 40,000 frames, which
        # delayed the next real event by seconds (bench/ws_bench.py).
        key = (id(asyncio.get_running_loop()), self.project_id)
        if key not in _presence_pending:
            _presence_pending[key] = asyncio.create_task(
                _presence_broadcast(self.channel_layer, key)
            )

    # --- messages ---------------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        return {"hello": self.on_hello, "ping": self.on_ping}

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            return await self.error("send JSON text frames")
        if len(text_data.encode()) > MAX_MESSAGE_BYTES:
            return await self.error(f"message over {MAX_MESSAGE_BYTES} bytes")
        if not self.limit.allow():
            return await self.error(f"over {MESSAGE_BURST} messages at once, slow down")
        try:
            content = json.loads(text_data)
        except ValueError:
            return await self.error("message is not JSON")
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return await self.error("message needs a string 'type'", field="type")
        handler = self.handlers().get(content["type"])
        if handler is None:
            return await self.error(f"unknown message type '{content['type'][:40]}'", field="type")
        await handler(content)

    async def error(self, text: str, *, field: str | None = None) -> None:
        frame = {"type": "error", "error": text}
        if field:
            frame["field"] = field
        await self.send_json(frame)

    async def on_hello(self, content: dict[str, Any]) -> None:
        since = content.get("last_seq", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            return await self.error("last_seq must be a non-negative integer", field="last_seq")
        catch_up = await sync_to_async(events_since)(project_id=self.project_id, since=since)
        users = await sync_to_async(presence_list)(project_id=self.project_id)
        await self.send_json({"type": "welcome", "seq": catch_up.seq, "presence": users})
        if catch_up.reload and since:
            await self.send_json({"type": "reload", "seq": catch_up.seq})
        for event in catch_up.events:
            await self.send_json(event)

    async def on_ping(self, content: dict[str, Any]) -> None:
        entry = {"user": self.user.pk, "username": self.user.username, "task": self.task_id}
        await sync_to_async(presence_set)(
            project_id=self.project_id, channel=self.channel_name, entry=entry
        )
        await self.send_json({"type": "pong"})

    async def project_event(self, message: dict[str, Any]) -> None:
        """Relay a ``{"type": "project.event", "event": {...}}`` group message to the client."""
        await self.send_json(message["event"])


class ProjectConsumer(LiveConsumer):
    """``/ws/projects/<id>/``: the project page and the data manager."""

    async def admit(self, user: Any) -> Project | None:
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        return await database_sync_to_async(project_get_for_user)(
            project_id=self.project_id, user=user
        )
