from __future__ import annotations

import pytest

from tests.realtime.test_redis_outage import OwnRedis


@pytest.fixture
def own_redis(redis_server_binary):
    """A redis-server of the test's own, started; stopped at the end."""
    server = OwnRedis(redis_server_binary)
    server.start()
    yield server
    server.stop()
