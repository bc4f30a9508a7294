#!/usr/bin/env python
"""Websocket fan-out benchmark: how long a progress event takes to reach every open page.

Starts real servers (uvicorn, one worker each) on a fresh SQLite file, opens ``--clients``
websockets on the project (``/ws/projects/<id>/``, API-token sign-in), then submits
annotations through the REST API, one at a time. Each submit broadcasts
``annotation.created`` (the progress counters' event) after commit; the latency of a client
is the time from the start of the submit request to the event's arrival at that client, so
it includes the request itself. Three set-ups:
- ``memory``: one process, the in-memory channel layer (the embedded default);
- ``redis-1``: one process with channels_redis;
- ``redis-2``: two processes with channels_redis, the clients split between them and the
  submits sent to the first: the event crosses Redis to reach the second's clients.

    python bench/ws_bench.py                    # 200 clients, 30 events, all three set-ups
    python bench/ws_bench.py --clients 20 --events 5 --setups memory     # the smoke run

Prints one JSON document (p50/p95/max in ms per set-up). Needs Redis (REDIS_URL or
redis://127.0.0.1:6379/1) for the Redis set-ups; without it they are reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="intent" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>'
)
RESULT = [
    {"from_name": "intent", "to_name": "text", "type": "choices", "value": {"choices": ["a"]}}
]
SEED = """
import json
from annotator.models import User
from annotator.services import api_token_rotate
from projects.services import organization_create, project_create
from tasks.services import tasks_import
user = User.objects.create_user(username="bench-owner", password=None)
org = organization_create(title="bench", owner=user)
project = project_create(organization=org, title="ws bench", created_by=user,
                         label_config=CONFIG)
tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(TASKS)], user=None)
print(json.dumps({"project": project.pk, "token": api_token_rotate(user=user),
                  "tasks": list(project.tasks.order_by("id").values_list("id", flat=True))}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_url() -> str | None:
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


class Site:
    """A data directory (SQLite file) and the environment its server processes share."""

    def __init__(self, redis: str | None, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "ANNOTATOR_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "REDIS_PREFIX": f"wsbench{secrets.token_hex(4)}",
        }
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REDIS_URL", None)
        if redis:
            self.env["REDIS_URL"] = redis
            # No Celery worker here: the jobs of a submit run in the web process.
            self.env["CELERY_TASK_ALWAYS_EAGER"] = "1"

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise RuntimeError(f"manage.py {args[0]}: {out.stderr[-2000:]}")
        return out.stdout

    def seed(self, tasks: int) -> dict[str, Any]:
        self.manage("migrate", "--noinput", "-v0")
        code = SEED.replace("CONFIG", repr(CONFIG)).replace("TASKS", str(tasks))
        return dict(json.loads(self.manage("shell", "-v0", "-c", code).strip().splitlines()[-1]))

    def server(self) -> Server:
        return Server(self.env)


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        cmd = [
            sys.executable, "-m", "uvicorn", "annotator.asgi:application", "--host", "127.0.0.1",
            "--port", str(self.port), "--no-access-log", "--log-level", "warning",
            # As scripts/entrypoint.sh serves: httptools and uvloop.
            "--http", "annotator.serve:NoDelayHttpToolsProtocol", "--loop", "uvloop",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def submit(port: int, token: str, task: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"result": RESULT})
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn.request("POST", f"/api/tasks/{task}/annotations", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


async def fan_out(
    ports: list[int], seed: dict[str, Any], clients: int, events: int
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    project, token = seed["project"], seed["token"]
    arrivals: dict[int, list[float]] = {}
    published: dict[int, list[float]] = {}  # arrival minus the server's publish time
    sockets = []
    for i in range(clients):
        port = ports[i % len(ports)]
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/projects/{project}/",
            additional_headers={"Authorization": f"Token {token}"},
            origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
            max_queue=None,
        )
        sockets.append(ws)

    async def listen(ws: Any) -> None:
        async for raw in ws:
            event = json.loads(raw)
            if event["type"] == "annotation.created":
                arrivals.setdefault(event["task"], []).append(time.perf_counter())
                published.setdefault(event["task"], []).append(time.time() - event["at"])

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    await asyncio.sleep(2.0)  # let the presence frames of the connections settle
    await asyncio.to_thread(submit, ports[0], token, seed["tasks"][-1])  # warm-up, not counted
    await asyncio.sleep(0.5)
    latencies: list[float] = []
    fanout: list[float] = []
    requests: list[float] = []
    spreads: list[float] = []
    missing = 0
    for task in seed["tasks"][:events]:  # the last one was the warm-up
        start = time.perf_counter()
        status = await asyncio.to_thread(submit, ports[0], token, task)
        requests.append((time.perf_counter() - start) * 1000)
        if status != 201:
            raise RuntimeError(f"submit answered {status}")
        deadline = time.perf_counter() + 5
        while len(arrivals.get(task, [])) < clients and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        got = arrivals.get(task, [])
        missing += clients - len(got)
        latencies.extend((t - start) * 1000 for t in got)
        fanout.extend(d * 1000 for d in published.get(task, []))
        if os.environ.get("WS_BENCH_TRACE"):
            first = min(published.get(task, [0])) * 1000
            print(
                f"task {task}: request {requests[-1]:.0f} ms, first arrival {first:.0f} ms after publish",
                file=sys.stderr,
            )
        if got:
            spreads.append((max(got) - min(got)) * 1000)
        await asyncio.sleep(0.05)
    for listener in listeners:
        listener.cancel()
    for ws in sockets:
        await ws.close()
    latencies.sort()

    def pick(q: float, values: list[float] | None = None) -> float:
        ordered = sorted(latencies if values is None else values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "processes": len(ports),
        "clients": clients,
        "events": events,
        "deliveries": len(latencies),
        "missing": missing,
        # From the server's publish (after commit) to the client: the fan-out.
        "p50_ms": pick(0.50, fanout),
        "p95_ms": pick(0.95, fanout),
        "max_ms": pick(1.0, fanout),
        # From the start of the submit request to the client: what a user sees.
        "end_to_end_p50_ms": pick(0.50),
        "end_to_end_p95_ms": pick(0.95),
        # The submit request alone, and first-to-last arrival of one event (the fan-out).
        "request_p50_ms": pick(0.5, requests),
        "spread_p50_ms": pick(0.5, spreads),
        "spread_p95_ms": pick(0.95, spreads),
    }


def run_setup(name: str, clients: int, events: int) -> dict[str, Any]:
    redis = None
    if name != "memory":
        redis = redis_url()
        if redis is None:
            return {"skipped": "no Redis at REDIS_URL or redis://127.0.0.1:6379/1"}
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-wsbench-"))
    (data_dir / "static").mkdir()
    try:
        site = Site(redis, data_dir)
        seed = site.seed(events + 1)
        with ExitStack() as stack:
            servers = []
            for _ in range(2 if name == "redis-2" else 1):
                server = site.server()
                stack.callback(server.stop)
                servers.append(server)
            return asyncio.run(fan_out([s.port for s in servers], seed, clients, events))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--setups", default="memory,redis-1,redis-2")
    args = parser.parse_args(argv)
    report = {name: run_setup(name, args.clients, args.events) for name in args.setups.split(",")}
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
