"""PostgreSQL restarts under a running server while annotators work: during the outage every
request answers quickly with a clean 503 (JSON for the API, a plain page for pages, 1013 for
websockets), /health/live stays up and /health/ready says why; afterwards the same process
serves again by itself, and no submit the server accepted is lost or made twice.

The database is a private cluster of this module (tests/realtime/own_postgres.py), whatever
the suite runs on; the server process never sees the test database."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable

import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import choice
from tests.realtime.annotators import Annotators, call, setup_script
from tests.realtime.own_postgres import (
    OwnPostgres,
    app_env,
    manage,
    postgres_bin_or_skip,
)
from tests.realtime.servers import servers

ANNOTATORS = 4
# The answers an annotator may get, outage or not: never a 500.
ALLOWED = {200, 201, 409, 503}
# The pool's wait (DB_POOL_TIMEOUT, 5 s) plus slack for a loaded machine: beyond, it hangs.
NO_HANG_S = 15


@pytest.fixture(scope="module")
def own_postgres():
    pg = OwnPostgres(postgres_bin_or_skip())
    try:
        pg.start()
        pg.create_database()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture(scope="module")
def app(own_postgres, tmp_path_factory):
    env = app_env(own_postgres.url, tmp_path_factory.mktemp("pg-outage"))
    manage(env, "migrate", "--noinput", "-v0")
    out = manage(env, "shell", "-v0", "-c", setup_script(ANNOTATORS, 600))
    setup = json.loads(out.strip().splitlines()[-1])
    with servers(1, env) as (server,):
        yield server, setup


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _probe(server, setup) -> dict[str, object]:
    """What a load balancer, a script and a browser get right now."""
    token, session = setup["owner_token"], setup["session"]
    project = setup["project"]
    return {
        "live": call(server.port, "GET", "/health/live"),
        "ready": call(server.port, "GET", "/health/ready"),
        "api": call(server.port, "GET", f"/api/projects/{project}", token=token),
        "page": call(
            server.port,
            "GET",
            f"/projects/{project}/data/",
            headers={"Cookie": f"sessionid={session}", "Accept": "text/html"},
        ),
    }


async def _socket_close_code(server, path: str, token: str) -> int | None:
    """Open a socket, say hello; the close code if the server closes it, None if it works."""
    async with connect(
        server.ws_url(path),
        additional_headers={"Authorization": f"Token {token}"},
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=NO_HANG_S,
    ) as ws:
        try:
            await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
            async with asyncio.timeout(NO_HANG_S):
                while True:
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "welcome":
                        return None
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006


async def _heartbeat_across(server, setup, stop_database: Callable[[], None]) -> int | None:
    """A labelling page's task socket, open when the database stops, renews its lease: the
    close code it gets, None if the lease came back."""
    async with connect(
        server.ws_url(f"/ws/tasks/{setup['last_task']}/"),
        additional_headers={"Authorization": f"Token {setup['owner_token']}"},
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=NO_HANG_S,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        async with asyncio.timeout(NO_HANG_S):
            while json.loads(await ws.recv())["type"] != "welcome":
                pass
        await asyncio.to_thread(stop_database)
        try:
            await ws.send(json.dumps({"type": "heartbeat"}))
            async with asyncio.timeout(NO_HANG_S):
                while json.loads(await ws.recv())["type"] != "lease":
                    pass
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006
        return None


async def _live_update_seen(server, setup) -> bool:
    """A socket of the project sees the annotation a submit makes."""
    project, token = setup["project"], setup["tokens"][0]
    async with connect(
        server.ws_url(f"/ws/projects/{project}/"),
        additional_headers={"Authorization": f"Token {token}"},
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=NO_HANG_S,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        got = await asyncio.to_thread(
            call, server.port, "GET", f"/api/projects/{project}/next", token=token
        )
        task = got.body["id"]
        body = {"result": [choice()], "lead_time": 1.0, "next": False}
        await asyncio.to_thread(
            call, server.port, "POST", f"/api/tasks/{task}/label/submit", token=token, body=body
        )
        async with asyncio.timeout(NO_HANG_S):
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "annotation.created" and frame["task"] == task:
                    return True


def _audit(pg: OwnPostgres, setup, crowd: Annotators) -> dict[str, int]:
    with psycopg.connect(pg.admin_url(pg.database)) as conn:
        rows = conn.execute(
            "SELECT id, task_id, completed_by_id, notes FROM tasks_annotation WHERE project_id = %s",
            [setup["project"]],
        ).fetchall()
        drafts = conn.execute(
            "SELECT d.task_id, d.user_id, d.notes FROM tasks_draft d JOIN tasks_task t"
            " ON t.id = d.task_id WHERE t.project_id = %s",
            [setup["project"]],
        ).fetchall()
    ids = {row[0] for row in rows}
    per_task_user = Counter((row[1], row[2]) for row in rows)
    kept = {(row[1], row[2], row[3]) for row in rows} | set(drafts)
    user_ids = setup["user_ids"]
    accepted = crowd.record.submits
    return {
        "accepted_submits": len(accepted),
        "accepted_lost": sum(1 for a in accepted if a[0] not in ids),
        "accepted_counted_twice": len(accepted) - len({a[0] for a in accepted}),
        "annotations_twice_per_task_and_user": sum(1 for n in per_task_user.values() if n > 1),
        "accepted_drafts": len(crowd.record.drafts),
        "drafts_lost": sum(
            1 for task, n, notes in crowd.record.drafts if (task, user_ids[n], notes) not in kept
        ),
    }


@pytest.mark.fault(
    "PostgreSQL stopped (fast, then immediate: a crash) and restarted under annotators"
)
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_annotators_ride_out_a_postgresql_restart(own_postgres, app, mode):
    server, setup = app
    pid = server.proc.pid
    with Annotators(server.port, setup["project"], setup["tokens"]) as crowd:
        _wait_until(lambda: crowd.record.successes_since(0) >= 20, 120, "work before the outage")
        heartbeat_code = asyncio.run(
            _heartbeat_across(server, setup, lambda: own_postgres.stop(mode))
        )
        stopped_at = time.monotonic()
        during = _probe(server, setup)
        ws_task = asyncio.run(
            _socket_close_code(server, f"/ws/projects/{setup['project']}/", setup["tokens"][0])
        )
        _wait_until(
            lambda: len(crowd.record.unavailable) >= ANNOTATORS, 60, "every annotator to see it"
        )
        outage_s = time.monotonic() - stopped_at
        own_postgres.start()
        back_at = time.monotonic()
        _wait_until(lambda: crowd.record.successes_since(back_at) >= 1, 60, "a first success")
        with crowd.record.lock:
            first_success_s = min(t for t in crowd.record.successes_at if t >= back_at) - back_at
        _wait_until(
            lambda: crowd.record.successes_since(back_at) >= 6 * ANNOTATORS, 120, "work after it"
        )
    after = _probe(server, setup)
    live_again = asyncio.run(_live_update_seen(server, setup))
    audit = _audit(own_postgres, setup, crowd)
    record = crowd.record
    slowest_503 = max(a.seconds for a in record.unavailable)
    print(
        f"\npostgres {mode} stop: outage {outage_s:.1f} s, {len(record.unavailable)} answers 503"
        f" (slowest {slowest_503:.1f} s), first success {first_success_s:.1f} s after the"
        f" restart; statuses {dict(record.statuses)}; audit {audit}"
    )

    # The outage: clean, quick answers; the process itself stays up.
    assert record.failures == []
    assert record.status_codes() <= ALLOWED, record.statuses
    assert all(a.body["code"] == "database_unavailable" for a in record.unavailable)
    assert all(a.headers.get("retry-after") for a in record.unavailable)
    assert slowest_503 < NO_HANG_S
    assert during["live"].status == 200
    assert during["ready"].status == 503
    assert during["ready"].body["checks"]["database"].startswith("error")
    assert during["api"].status == 503
    assert during["api"].body == {
        "status_code": 503,
        "detail": "the database is unavailable, retry shortly",
        "code": "database_unavailable",
    }
    assert during["page"].status == 503
    assert during["page"].headers["content-type"].startswith("text/html")
    assert "Temporarily unavailable" in during["page"].body
    assert ws_task == 1013  # a socket opened during the outage
    assert heartbeat_code == 1013  # a socket open across it, hitting the database
    # After it: the same process serves again, without a restart.
    assert server.proc.poll() is None
    assert server.proc.pid == pid
    assert after["ready"].status == 200
    assert after["api"].status == 200
    assert after["page"].status == 200
    assert live_again
    # No accepted work lost or doubled.
    assert audit["accepted_lost"] == 0
    assert audit["accepted_counted_twice"] == 0
    assert audit["annotations_twice_per_task_and_user"] == 0
    assert audit["drafts_lost"] == 0
