"""Real server processes for the realtime tests: ``uvicorn annotator.asgi:application`` on free
ports, against the test database (rows must be committed: ``transaction=True`` tests) and the
given Redis, so that what one process publishes crosses Redis to the other."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_url_or_skip() -> str:
    """The running Redis (REDIS_URL or the local default); skip without one, fail in CI (as
    the ``redis_url`` fixture of tests/conftest.py, usable by module-scoped fixtures)."""
    import pytest
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Redis answers at {url} (CI must provide it)")
        pytest.skip(f"no Redis answers at {url}")
    finally:
        client.close()
    return url


def database_url() -> str:
    """The database this test runs on, as a URL for another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def server_env(redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        # Their own keys in Redis, shared by the processes of one test.
        "REDIS_PREFIX": f"wstest{secrets.token_hex(4)}",
        "PYTEST_XDIST_WORKER": "",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    return env


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]

    def request(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def _wait_healthy(server: Server, deadline: float) -> None:
    while time.time() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server on {server.port} exited with {server.proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {server.port} did not start")


@contextmanager
def servers(count: int, env: dict[str, str]) -> Iterator[list[Server]]:
    """``count`` server processes sharing ``env``, stopped on exit."""
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            port = free_port()
            cmd = [sys.executable, "-m", "uvicorn", "annotator.asgi:application"]
            cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
            stack.callback(_stop, proc)
            started.append(Server(port=port, proc=proc))
        deadline = time.time() + 120
        for server in started:
            _wait_healthy(server, deadline)
        yield started


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
