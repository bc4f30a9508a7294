"""Websocket of a project: members join the group ``project-<id>`` and receive its events.

Writes never go through the socket (DESIGN §5); services broadcast after commit with
``project_broadcast`` and every member connected to the project receives the event.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from projects.selectors import project_get_for_user


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


class ProjectConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        project = await database_sync_to_async(project_get_for_user)(
            project_id=project_id, user=user
        )
        if project is None:
            await self.close(code=4404)
            return
        self.group = project_group(project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def project_event(self, message: dict[str, Any]) -> None:
        """Relay a ``{"type": "project.event", "event": {...}}`` group message to the client."""
        await self.send_json(message["event"])
