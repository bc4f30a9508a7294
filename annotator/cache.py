"""The Redis cache, tolerant of Redis being away.

Everything we keep in the cache can be recomputed (flags, counters of progress, per-user
remainders), so with Redis down a read is a miss and a write is dropped, logged once per
``RETRY_S``: HTTP keeps working, a little slower (README, real time: Redis down). Django's
own backend raises instead, and a submit answered 500 because a webhook flag could not be
read (tests/realtime/test_redis_outage.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
RETRY_S = 5.0


class _TolerantClient(RedisCacheClient):
    _down_until = 0.0

    def _guard(self, name: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return getattr(super(), name)(*args, **kwargs)
        except RedisError as exc:
            logger.warning("cache unavailable, %s skipped: %r", name, exc)
            self._down_until = time.monotonic() + RETRY_S
            return fallback

    def get(self, key: Any, default: Any) -> Any:
        return self._guard("get", default, key, default)

    def get_many(self, keys: Any) -> Any:
        return self._guard("get_many", {}, keys)

    def add(self, key: Any, value: Any, timeout: Any) -> Any:
        return self._guard("add", False, key, value, timeout)

    def set(self, key: Any, value: Any, timeout: Any) -> Any:
        return self._guard("set", None, key, value, timeout)

    def set_many(self, data: Any, timeout: Any) -> Any:
        return self._guard("set_many", None, data, timeout)

    def touch(self, key: Any, timeout: Any) -> Any:
        return self._guard("touch", False, key, timeout)

    def delete(self, key: Any) -> Any:
        return self._guard("delete", False, key)

    def delete_many(self, keys: Any) -> Any:
        return self._guard("delete_many", None, keys)

    def has_key(self, key: Any) -> Any:
        return self._guard("has_key", False, key)

    def incr(self, key: Any, delta: Any) -> Any:
        missing = object()
        value = self._guard("incr", missing, key, delta)
        if value is missing:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        return value


class TolerantRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _TolerantClient
