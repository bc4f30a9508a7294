"""Events sent from request threads reach the server loop's consumers."""

import asyncio
import threading

from channels.layers import get_channel_layer

from annotator import realtime


def test_group_send_from_a_request_thread_is_delivered_on_the_server_loop():
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def serve():
        realtime.serve_loop_remember()
        channel = await layer.new_channel()
        await layer.group_add("realtime-test", channel)
        ready.set()
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            await layer.group_discard("realtime-test", channel)

    received = {}
    server = threading.Thread(target=lambda: received.update(loop.run_until_complete(serve())))
    server.start()
    assert ready.wait(10)
    sender = threading.Thread(
        target=realtime.group_send, args=("realtime-test", {"type": "x.y", "n": 7})
    )
    sender.start()
    sender.join(10)
    server.join(10)
    loop.close()
    assert received == {"type": "x.y", "n": 7}


def test_without_a_running_server_loop_it_sends_synchronously(monkeypatch):
    monkeypatch.setattr(realtime, "_serve_loop", None)
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add("realtime-sync", channel)
        await asyncio.to_thread(realtime.group_send, "realtime-sync", {"type": "a.b"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=10)
        await layer.group_discard("realtime-sync", channel)
        return message

    assert asyncio.run(scenario()) == {"type": "a.b"}
