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
import json
import logging
import threading
import time
import weakref
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

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
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # a live update is best effort: Redis down must not fail a write
        logger.warning("websocket event not delivered: %r", exc)


# --- event log: a sequence number per project and a bounded buffer of recent events ----------
# A reconnecting page sends the last ``seq`` it saw and gets what it missed, or ``reload``
# when the buffer no longer reaches back that far. With REDIS_URL the counter and the buffer
# live in Redis, shared by every server process; without it, in this process (embedded mode
# has one). Presence lives beside them, with a TTL, never in the database.
EVENT_BUFFER = 500
EVENT_TTL_S = 24 * 3600
PRESENCE_TTL_S = 60
# After a Redis error, skip Redis for this long: a request must not wait on a dead server.
REDIS_RETRY_S = 5.0

# INCR the project's counter and push "seq|event" on its buffer, in one round trip.
_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
redis.call('LPUSH', KEYS[2], seq .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return seq
"""


class _Redis:
    """The process's sync Redis client, with a breaker: after an error it is skipped for
    ``REDIS_RETRY_S`` so a request that publishes an event never waits on a dead Redis."""

    def __init__(self) -> None:
        self._client: Any = None
        self._down_until = 0.0
        self.failed_since_ok = False

    def get(self) -> Any:
        if not settings.REDIS_URL or time.monotonic() < self._down_until:
            return None
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        return self._client

    def failed(self, exc: Exception) -> None:
        logger.warning("redis unavailable for live updates: %r", exc)
        self._down_until = time.monotonic() + REDIS_RETRY_S
        self.failed_since_ok = True

    @property
    def configured(self) -> bool:
        return bool(settings.REDIS_URL)


_redis = _Redis()


def _key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "live", *map(str, parts)])


@dataclass
class _MemoryLog:
    seq: int = 0
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=EVENT_BUFFER))


_memory_logs: dict[int, _MemoryLog] = {}
_memory_presence: dict[int, dict[str, dict[str, Any]]] = {}
_memory_lock = threading.Lock()


def _publish_redis(client: Any, project_id: int, event: dict[str, Any]) -> int:
    body = json.dumps(event, separators=(",", ":"), default=str)
    keys = [_key("seq", project_id), _key("events", project_id)]
    return int(client.eval(_PUBLISH_LUA, 2, *keys, body, EVENT_BUFFER, EVENT_TTL_S))


def event_publish(*, project_id: int, event: dict[str, Any]) -> dict[str, Any] | None:
    """Number ``event`` in the project's sequence and keep it for catch-up; the numbered event,
    or None when Redis is configured but unreachable (nothing live is sent then). ``at`` is
    when it was published (epoch seconds): pages may show its age, the benchmark measures."""
    event = {**event, "at": round(time.time(), 4)}
    if not _redis.configured:
        with _memory_lock:
            log = _memory_logs.setdefault(project_id, _MemoryLog())
            log.seq += 1
            numbered = {**event, "seq": log.seq}
            log.events.append(numbered)
        return numbered
    client = _redis.get()
    if client is None:
        return None
    try:
        if _redis.failed_since_ok:
            # Events were dropped while Redis was away: pages that catch up across this point
            # must reload what they show.
            _publish_redis(client, project_id, {"type": "reload"})
            _redis.failed_since_ok = False
        seq = _publish_redis(client, project_id, event)
    except Exception as exc:
        _redis.failed(exc)
        return None
    return {**event, "seq": seq}


@dataclass
class CatchUp:
    """What a reconnecting page missed: ``events`` in order, or ``reload`` when the buffer no
    longer reaches back to ``since`` (or the counter was reset)."""

    seq: int
    events: list[dict[str, Any]]
    reload: bool


def events_since(*, project_id: int, since: int) -> CatchUp:
    if not _redis.configured:
        with _memory_lock:
            log = _memory_logs.get(project_id) or _MemoryLog()
            current, buffered = log.seq, list(log.events)
    else:
        client = _redis.get()
        if client is None:
            return CatchUp(seq=0, events=[], reload=True)
        try:
            pipe = client.pipeline(transaction=True)
            pipe.get(_key("seq", project_id))
            pipe.lrange(_key("events", project_id), 0, -1)
            raw_seq, raw_events = pipe.execute()
        except Exception as exc:
            _redis.failed(exc)
            return CatchUp(seq=0, events=[], reload=True)
        current = int(raw_seq or 0)
        buffered = []
        for raw in reversed(raw_events):
            number, _, body = raw.decode().partition("|")
            buffered.append({**json.loads(body), "seq": int(number)})
    missed = [e for e in buffered if e["seq"] > since]
    complete = since == current or (bool(missed) and missed[0]["seq"] == since + 1)
    if since > current or not complete or any(e["type"] == "reload" for e in missed):
        return CatchUp(seq=current, events=[], reload=True)
    return CatchUp(seq=current, events=missed, reload=False)


# --- presence -------------------------------------------------------------------------------
def presence_set(*, project_id: int, channel: str, entry: dict[str, Any]) -> None:
    """Say that the socket ``channel`` (a user, maybe on a task) is in the project now."""
    stamped = {**entry, "at": time.time()}
    if not _redis.configured:
        with _memory_lock:
            _memory_presence.setdefault(project_id, {})[channel] = stamped
        return
    client = _redis.get()
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        pipe.hset(_key("presence", project_id), channel, json.dumps(stamped))
        pipe.expire(_key("presence", project_id), PRESENCE_TTL_S * 2)
        pipe.execute()
    except Exception as exc:
        _redis.failed(exc)


def presence_remove(*, project_id: int, channel: str) -> None:
    if not _redis.configured:
        with _memory_lock:
            _memory_presence.get(project_id, {}).pop(channel, None)
        return
    client = _redis.get()
    if client is None:
        return
    try:
        client.hdel(_key("presence", project_id), channel)
    except Exception as exc:
        _redis.failed(exc)


def presence_list(*, project_id: int) -> list[dict[str, Any]]:
    """Who is in the project and on which task: one entry per (user, task), entries of sockets
    not refreshed within ``PRESENCE_TTL_S`` left out (a server process that died)."""
    if not _redis.configured:
        with _memory_lock:
            raw = list(_memory_presence.get(project_id, {}).values())
    else:
        client = _redis.get()
        if client is None:
            return []
        try:
            raw = [json.loads(v) for v in client.hvals(_key("presence", project_id))]
        except Exception as exc:
            _redis.failed(exc)
            return []
    fresh = time.time() - PRESENCE_TTL_S
    seen: dict[tuple[int, int | None], dict[str, Any]] = {}
    for entry in raw:
        if entry["at"] >= fresh:
            seen[(entry["user"], entry.get("task"))] = {
                "user": entry["user"],
                "username": entry["username"],
                "task": entry.get("task"),
            }
    return sorted(seen.values(), key=lambda e: (e["username"], e["task"] or 0))


# --- sockets follow Redis -----------------------------------------------------------------
# Redis gone (or restarted): the channel layer reconnects by itself, but the events published
# meanwhile are lost and an open socket would never know. Each server process watches Redis
# while it holds sockets and closes them with 1013 (try again later) when a check fails or
# Redis' run_id changed (a restart); the pages reconnect, which works again once Redis
# answers, and catch up with ``hello`` (the missed events, or ``reload``).
LIVE_CHECK_S = 1.0
WS_TRY_AGAIN_LATER = 1013
_live_sockets: weakref.WeakSet[Any] = weakref.WeakSet()
_watch: asyncio.Task[None] | None = None


def live_socket_add(consumer: Any) -> None:
    """On the server's loop, once ``consumer`` (a Channels consumer) accepted its socket."""
    global _watch
    if not settings.REDIS_URL:
        return
    _live_sockets.add(consumer)
    loop = asyncio.get_running_loop()
    if _watch is None or _watch.done() or _watch.get_loop() is not loop:
        _watch = loop.create_task(_redis_watch())


def live_socket_remove(consumer: Any) -> None:
    _live_sockets.discard(consumer)
    if not _live_sockets and _watch is not None and not _watch.done():
        _watch.cancel()


async def _redis_watch() -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
    )
    run_id = None
    try:
        while _live_sockets:
            try:
                now = (await client.info("server"))["run_id"]
                problem = (
                    f"Redis restarted ({run_id} -> {now})" if run_id not in {None, now} else ""
                )
                run_id = now
            except Exception as exc:  # any failure: Redis cannot carry live updates now
                problem, run_id = f"Redis unavailable: {exc!r}", None
            if problem:
                await _close_live_sockets(problem)
            await asyncio.sleep(LIVE_CHECK_S)
    finally:
        await client.aclose()


async def _close_live_sockets(why: str) -> None:
    sockets = list(_live_sockets)
    logger.warning("%s: closing %d sockets with %d", why, len(sockets), WS_TRY_AGAIN_LATER)
    for consumer in sockets:
        _live_sockets.discard(consumer)
        try:
            await consumer.close(code=WS_TRY_AGAIN_LATER)
        except Exception as exc:  # already closing: nothing to tell it
            logger.debug("socket already gone: %r", exc)


class RateLimit:
    """A token bucket per connection: ``rate`` messages a second, bursts of ``burst``."""

    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
