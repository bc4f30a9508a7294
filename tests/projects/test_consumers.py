from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from annotator.realtime import EVENT_BUFFER
from annotator.services import api_token_create
from projects.services import project_broadcast
from tests.factories import add_member, make_project, make_user
from tests.realtime.helpers import connect, cookie_for, receive_event, receive_type

# The consumer reads the database from another thread: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

broadcast = database_sync_to_async(project_broadcast)


def _path(project):
    return f"/ws/projects/{project.pk}/"


def test_member_receives_project_events_numbered():
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        comm, connected, _ = await connect(_path(project), cookie=cookie)
        assert connected
        await broadcast(project_id=project.pk, event={"type": "tasks.imported", "count": 3})
        first = await receive_event(comm)
        await broadcast(project_id=project.pk, event={"type": "tasks.imported", "count": 4})
        second = await receive_event(comm)
        await comm.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert {k: first[k] for k in ("type", "count")} == {"type": "tasks.imported", "count": 3}
    assert second["seq"] == first["seq"] + 1


def test_outsider_is_refused():
    project = make_project()
    cookie = cookie_for(make_user())

    async def scenario():
        _comm, connected, code = await connect(_path(project), cookie=cookie)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4404)


def test_outsider_receives_nothing_of_the_project():
    project = make_project()
    other = make_project()
    cookie = cookie_for(other.created_by)

    async def scenario():
        comm, connected, _ = await connect(_path(other), cookie=cookie)
        assert connected
        await broadcast(project_id=project.pk, event={"type": "tasks.imported", "count": 1})
        await broadcast(project_id=other.pk, event={"type": "tasks.deleted", "count": 1})
        event = await receive_event(comm)
        await comm.disconnect()
        return event

    assert async_to_sync(scenario)()["type"] == "tasks.deleted"


def test_anonymous_is_refused():
    project = make_project()

    async def scenario():
        _comm, connected, code = await connect(_path(project))
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_foreign_origin_is_refused():
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        from channels.testing import WebsocketCommunicator

        from annotator.asgi import application

        comm = WebsocketCommunicator(
            application,
            _path(project),
            headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)],
        )
        connected, _ = await comm.connect()
        return connected

    assert async_to_sync(scenario)() is False


@pytest.mark.parametrize("where", ["header", "query"])
def test_api_token_signs_in(where):
    project = make_project()
    key = api_token_create(user=project.created_by).key

    async def scenario():
        if where == "header":
            headers = [(b"authorization", f"Token {key}".encode())]
            comm, connected, _ = await connect(_path(project), headers=headers)
        else:
            comm, connected, _ = await connect(_path(project), query=f"token={key}")
        if connected:
            await comm.disconnect()
        return connected

    assert async_to_sync(scenario)() is True


def test_wrong_token_is_refused():
    project = make_project()

    async def scenario():
        _comm, connected, code = await connect(_path(project), query="token=nope")
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_token_of_a_non_member_is_refused():
    project = make_project()
    key = api_token_create(user=make_user()).key

    async def scenario():
        _comm, connected, code = await connect(_path(project), query=f"token={key}")
        return connected, code

    assert async_to_sync(scenario)() == (False, 4404)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ("not json", None),
        ("[1, 2]", "type"),
        (json.dumps({"type": "subscribe", "project": 1}), "type"),
        (json.dumps({"type": "hello", "last_seq": "x"}), "last_seq"),
        (json.dumps({"type": "ping", "pad": "x" * 5000}), None),
    ],
)
def test_bad_message_gets_an_error_frame_and_the_connection_survives(frame, field):
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        comm, _, _ = await connect(_path(project), cookie=cookie)
        await comm.send_to(text_data=frame)
        error = await receive_type(comm, "error")
        await comm.send_json_to({"type": "ping"})
        pong = await receive_type(comm, "pong")
        await comm.disconnect()
        return error, pong

    error, pong = async_to_sync(scenario)()
    assert error["error"]
    assert error.get("field") == field
    assert pong == {"type": "pong"}


def test_binary_frame_gets_an_error_frame():
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        comm, _, _ = await connect(_path(project), cookie=cookie)
        await comm.send_to(bytes_data=b"\x00\x01")
        error = await receive_type(comm, "error")
        await comm.disconnect()
        return error

    assert "JSON" in async_to_sync(scenario)()["error"]


def test_flood_is_rate_limited_and_the_connection_survives():
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        comm, _, _ = await connect(_path(project), cookie=cookie)
        for _ in range(60):
            await comm.send_json_to({"type": "ping"})
        frames = []
        for _ in range(60):
            frames.append(await receive_event(comm))
        await comm.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    kinds = [f["type"] for f in frames]
    assert 0 < kinds.count("pong") < 60
    assert kinds.count("error") == 60 - kinds.count("pong")
    assert all("slow down" in f["error"] for f in frames if f["type"] == "error")


def test_reconnecting_client_gets_the_events_it_missed():
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        comm, _, _ = await connect(_path(project), cookie=cookie)
        await broadcast(project_id=project.pk, event={"type": "tasks.imported", "count": 1})
        last = (await receive_event(comm))["seq"]
        await comm.disconnect()
        for count in (2, 3):
            await broadcast(project_id=project.pk, event={"type": "tasks.imported", "count": count})
        comm, _, _ = await connect(_path(project), cookie=cookie)
        await comm.send_json_to({"type": "hello", "last_seq": last})
        welcome = await receive_type(comm, "welcome")
        missed = [await receive_event(comm), await receive_event(comm)]
        await comm.disconnect()
        return last, welcome, missed

    last, welcome, missed = async_to_sync(scenario)()
    assert welcome["seq"] == last + 2
    assert [(e["seq"], e["count"]) for e in missed] == [(last + 1, 2), (last + 2, 3)]


def test_client_too_far_behind_is_told_to_reload():
    project = make_project()
    cookie = cookie_for(project.created_by)

    async def scenario():
        for _ in range(EVENT_BUFFER + 2):
            await broadcast(project_id=project.pk, event={"type": "tasks.imported", "count": 1})
        comm, _, _ = await connect(_path(project), cookie=cookie)
        await comm.send_json_to({"type": "hello", "last_seq": 1})
        await receive_type(comm, "welcome")
        reload = await receive_event(comm)
        await comm.disconnect()
        return reload

    assert async_to_sync(scenario)()["type"] == "reload"


def test_presence_lists_who_is_online_and_drops_who_left():
    project = make_project()
    annotator = make_user(username="ann-presence")
    add_member(project, annotator)
    cookies = cookie_for(project.created_by), cookie_for(annotator)

    async def scenario():
        owner, _, _ = await connect(_path(project), cookie=cookies[0])
        other, _, _ = await connect(_path(project), cookie=cookies[1])
        both = None
        while both is None or len(both["users"]) < 2:
            both = await receive_type(owner, "presence")
        await other.disconnect()
        alone = await receive_type(owner, "presence")
        await owner.disconnect()
        return both, alone

    both, alone = async_to_sync(scenario)()
    assert {u["username"] for u in both["users"]} == {project.created_by.username, "ann-presence"}
    assert [u["username"] for u in alone["users"]] == [project.created_by.username]
