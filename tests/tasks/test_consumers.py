from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from tasks.models import TaskLock
from tasks.services import task_lock_extend, tasks_import
from tests.factories import add_member, hand_task, make_project, make_user
from tests.realtime.helpers import connect, cookie_for, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


def _project_with_task():
    project = make_project()
    tasks_import(project=project, items=[{"text": "hello"}, {"text": "other"}], user=None)
    task, hidden = project.tasks.order_by("id")
    annotator = make_user()
    add_member(project, annotator)
    hand_task(task.pk, annotator)
    return project, task, hidden, annotator


def test_heartbeat_over_the_socket_renews_the_lease():
    _project, task, _hidden, annotator = _project_with_task()
    cookie = cookie_for(annotator)

    async def scenario():
        comm, connected, _ = await connect(f"/ws/tasks/{task.pk}/", cookie=cookie)
        assert connected
        await comm.send_json_to({"type": "heartbeat"})
        lease = await receive_type(comm, "lease")
        held = await database_sync_to_async(
            TaskLock.objects.filter(task=task, user=annotator).exists
        )()
        await comm.disconnect()
        return lease, held

    lease, held = async_to_sync(scenario)()
    assert lease["task"] == task.pk
    assert held


def test_closing_the_page_releases_the_lease():
    _project, task, _hidden, annotator = _project_with_task()
    task_lock_extend(task=task, user=annotator)
    cookie = cookie_for(annotator)

    async def scenario():
        comm, _, _ = await connect(f"/ws/tasks/{task.pk}/", cookie=cookie)
        await comm.send_json_to({"type": "ping"})
        await receive_type(comm, "pong")
        await comm.disconnect()

    async_to_sync(scenario)()
    assert not TaskLock.objects.filter(task=task, user=annotator).exists()


def test_lease_stays_while_another_tab_has_the_task_open():
    _project, task, _hidden, annotator = _project_with_task()
    task_lock_extend(task=task, user=annotator)
    cookie = cookie_for(annotator)

    async def scenario():
        first, _, _ = await connect(f"/ws/tasks/{task.pk}/", cookie=cookie)
        second, _, _ = await connect(f"/ws/tasks/{task.pk}/", cookie=cookie)
        await second.send_json_to({"type": "ping"})
        await receive_type(second, "pong")
        await first.disconnect()
        await second.send_json_to({"type": "ping"})
        await receive_type(second, "pong")
        held = await database_sync_to_async(
            TaskLock.objects.filter(task=task, user=annotator).exists
        )()
        await second.disconnect()
        return held

    assert async_to_sync(scenario)() is True


def test_presence_shows_the_task_a_user_is_on():
    project, task, _hidden, annotator = _project_with_task()
    cookies = cookie_for(project.created_by), cookie_for(annotator)

    async def scenario():
        watcher, _, _ = await connect(f"/ws/projects/{project.pk}/", cookie=cookies[0])
        labeller, _, _ = await connect(f"/ws/tasks/{task.pk}/", cookie=cookies[1])
        seen = None
        while seen is None or not any(u["task"] for u in seen["users"]):
            seen = await receive_type(watcher, "presence")
        await labeller.disconnect()
        await watcher.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    assert {"user": annotator.pk, "username": annotator.username, "task": task.pk} in seen["users"]


def test_annotator_cannot_open_a_task_not_handed_to_them():
    _project, _task, hidden, annotator = _project_with_task()
    cookie = cookie_for(annotator)

    async def scenario():
        _comm, connected, code = await connect(f"/ws/tasks/{hidden.pk}/", cookie=cookie)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4404)


def test_outsider_cannot_open_a_task():
    _project, task, _hidden, _annotator = _project_with_task()
    cookie = cookie_for(make_user())

    async def scenario():
        _comm, connected, code = await connect(f"/ws/tasks/{task.pk}/", cookie=cookie)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4404)


def test_heartbeat_on_a_task_someone_else_holds_gets_an_error_frame():
    project, task, _hidden, annotator = _project_with_task()
    task_lock_extend(task=task, user=project.created_by)
    cookie = cookie_for(annotator)

    async def scenario():
        comm, connected, _ = await connect(f"/ws/tasks/{task.pk}/", cookie=cookie)
        assert connected
        await comm.send_json_to({"type": "heartbeat"})
        error = await receive_type(comm, "error")
        await comm.send_json_to({"type": "ping"})
        await receive_type(comm, "pong")
        await comm.disconnect()
        return error

    error = async_to_sync(scenario)()
    assert error == {"type": "error", "error": "other annotators hold this task", "field": "task"}
    assert TaskLock.objects.filter(task=task, user=project.created_by).exists()
