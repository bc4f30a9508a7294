from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from annotator.asgi import application
from projects.services import project_broadcast
from tests.factories import make_project, make_user

# The consumer reads the database from another thread: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def _cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(project_id, cookie=None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    comm = WebsocketCommunicator(application, f"/ws/projects/{project_id}/", headers=headers)
    connected, code = await comm.connect()
    return comm, connected, code


def test_member_receives_project_events():
    project = make_project()
    cookie = _cookie_for(project.created_by)

    async def scenario():
        comm, connected, _ = await _connect(project.pk, cookie)
        assert connected
        from channels.db import database_sync_to_async

        await database_sync_to_async(project_broadcast)(
            project_id=project.pk, event={"type": "tasks.imported", "count": 3}
        )
        event = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return event

    assert async_to_sync(scenario)() == {"type": "tasks.imported", "count": 3}


def test_outsider_is_refused():
    project = make_project()
    cookie = _cookie_for(make_user())

    async def scenario():
        _comm, connected, code = await _connect(project.pk, cookie)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4404)


def test_anonymous_is_refused():
    project = make_project()

    async def scenario():
        _comm, connected, code = await _connect(project.pk)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_foreign_origin_is_refused():
    project = make_project()
    cookie = _cookie_for(project.created_by)

    async def scenario():
        comm = WebsocketCommunicator(
            application,
            f"/ws/projects/{project.pk}/",
            headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)],
        )
        connected, _ = await comm.connect()
        return connected

    assert async_to_sync(scenario)() is False
