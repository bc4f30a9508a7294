"""Websocket clients for the realtime tests: in-process (Channels' communicator)."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.test import Client

from annotator.asgi import application

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(path: str, *, cookie: bytes | None = None, headers=(), query: str = ""):
    extra = list(ORIGIN) + list(headers)
    if cookie:
        extra.append((b"cookie", cookie))
    comm = WebsocketCommunicator(application, path + (f"?{query}" if query else ""), headers=extra)
    connected, code = await comm.connect()
    return comm, connected, code


async def receive_type(comm, kind: str, timeout: float = 5):
    """The next frame of type ``kind``, skipping others (presence frames come at any time)."""
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def receive_event(comm, timeout: float = 5):
    """The next frame that is not presence."""
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] != "presence":
            return frame
