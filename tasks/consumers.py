"""``/ws/tasks/<id>/``: the socket of the labelling page, one per task on screen.

It is the project socket (projects.consumers: presence, catch-up, the project's events) with
the user's presence on the task, the group ``task-<id>`` for events of that task only, and
the lease (DESIGN §4): ``{"type": "heartbeat"}`` renews it like ``POST /api/tasks/{id}/lock``
and answers ``{"type": "lease", "task", "expires_at"}``; closing the page (the socket) releases
it, unless the same user still has the task open in another tab.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from rest_framework.exceptions import APIException

from annotator.models import User
from annotator.realtime import presence_list
from projects.api.access import require_role
from projects.consumers import Handler, LiveConsumer
from projects.models import Project
from projects.permissions import Action, task_visible
from tasks.api.access import task_with_role
from tasks.models import Task
from tasks.services import task_lock_extend, task_lock_release


def task_group(task_id: int) -> str:
    return f"task-{task_id}"


def _task_for(user: User, task_id: int, action: Action) -> Task | None:
    try:
        return require_role(task_with_role(user, task_id), action, "Task", visible=task_visible)
    except APIException:
        return None


class TaskConsumer(LiveConsumer):
    async def admit(self, user: Any) -> Project | None:
        self.task_id = int(self.scope["url_route"]["kwargs"]["task_id"])
        task = await database_sync_to_async(_task_for)(user, self.task_id, Action.VIEW)
        if task is None:
            return None
        self.project_id = task.project_id
        return task.project

    def groups_to_join(self) -> list[str]:
        assert self.task_id is not None
        return [*super().groups_to_join(), task_group(self.task_id)]

    def handlers(self) -> dict[str, Handler]:
        return {**super().handlers(), "heartbeat": self.on_heartbeat}

    async def on_heartbeat(self, content: dict[str, Any]) -> None:
        answer = await database_sync_to_async(self._extend)()
        await self.send_json(answer)

    def _extend(self) -> dict[str, Any]:
        assert self.task_id is not None
        task = _task_for(self.user, self.task_id, Action.ANNOTATE)
        if task is None:
            return {"type": "error", "error": "you may not annotate this task", "field": "task"}
        try:
            lock = task_lock_extend(task=task, user=self.user)
        except ValidationError:
            return {"type": "error", "error": "other annotators hold this task", "field": "task"}
        return {"type": "lease", "task": task.pk, "expires_at": lock.expires_at.isoformat()}

    async def left(self) -> None:
        users = await sync_to_async(presence_list)(project_id=self.project_id)
        if any(u["user"] == self.user.pk and u["task"] == self.task_id for u in users):
            return  # still open in another tab of the same user
        await database_sync_to_async(self._release)()

    def _release(self) -> None:
        assert self.task_id is not None
        task = Task.objects.filter(pk=self.task_id).first()
        if task is not None:
            task_lock_release(task=task, user=self.user)

    async def task_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
