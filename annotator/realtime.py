"""Group sends from request threads to websocket consumers, without a loop per event.

``async_to_sync(layer.group_send)`` from a request thread starts a thread and an event loop
for every event (~1.5 ms, a tenth of a submit), and with the in-memory layer it touches the
consumers' queues from a foreign loop. In the web server the events go to the server's own
loop instead (``serve_loop_remember``, called by ``annotator.asgi``), fire-and-forget: the
request does not wait for delivery, and failures are logged. Elsewhere (Celery workers,
management commands, tests without a server) it falls back to ``async_to_sync``.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
_serve_loop: asyncio.AbstractEventLoop | None = None


def serve_loop_remember() -> None:
    """Called on the server's loop for every connection: the loop events are sent on."""
    global _serve_loop
    _serve_loop = asyncio.get_running_loop()


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("websocket event not delivered: %r", future.exception())


def group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _serve_loop
    if loop is not None and loop.is_running():
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if not on_loop:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
            future.add_done_callback(_log_failure)
            return
    async_to_sync(layer.group_send)(group, message)
