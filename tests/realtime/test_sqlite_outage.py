"""The embedded default (SQLite under ANNOTATOR_DATA_DIR) loses its database file for a while
(its volume unmounted): the same clean answers as a PostgreSQL outage (503 JSON or page,
1013 on sockets, /health/live up) and service again when the file is back, same process."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import pytest

from tests.realtime.annotators import Annotators, call, setup_script
from tests.realtime.own_postgres import app_env, manage
from tests.realtime.servers import servers
from tests.realtime.test_postgres_outage import ALLOWED, _probe, _socket_close_code, _wait_until

ANNOTATORS = 2


@pytest.fixture
def embedded_app(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    env = app_env("", data)
    del env["DATABASE_URL"]  # the embedded default: SQLite in WAL mode in the data folder
    manage(env, "migrate", "--noinput", "-v0")
    setup = json.loads(
        manage(env, "shell", "-v0", "-c", setup_script(ANNOTATORS, 200)).strip().splitlines()[-1]
    )
    with servers(1, env) as (server,):
        yield server, setup, data


@pytest.mark.fault("the embedded SQLite file taken away and put back under annotators")
def test_embedded_sqlite_answers_503_while_its_file_is_gone_and_recovers(embedded_app):
    server, setup, data = embedded_app
    away = data.with_name("data-away")
    pid = server.proc.pid
    with Annotators(server.port, setup["project"], setup["tokens"]) as crowd:
        _wait_until(lambda: crowd.record.successes_since(0) >= 10, 60, "work before the outage")
        data.rename(away)
        try:
            during = _probe(server, setup)
            ws_code = asyncio.run(
                _socket_close_code(server, f"/ws/projects/{setup['project']}/", setup["tokens"][0])
            )
            _wait_until(lambda: len(crowd.record.unavailable) >= ANNOTATORS, 30, "the outage")
        finally:
            away.rename(data)
        back_at = time.monotonic()
        _wait_until(
            lambda: crowd.record.successes_since(back_at) >= 4 * ANNOTATORS, 60, "work after it"
        )
    after = _probe(server, setup)
    record = crowd.record
    with sqlite3.connect(data / "db.sqlite3") as db:
        stored = {row[0] for row in db.execute("SELECT id FROM tasks_annotation")}

    assert record.failures == []
    assert record.status_codes() <= ALLOWED, record.statuses
    assert all(a.body["code"] == "database_unavailable" for a in record.unavailable)
    assert during["live"].status == 200
    assert during["ready"].status == 503
    assert during["api"].status == 503
    assert during["api"].body["code"] == "database_unavailable"
    assert during["api"].headers["retry-after"]
    assert during["page"].status == 503
    assert "Temporarily unavailable" in during["page"].body
    assert ws_code == 1013
    assert server.proc.poll() is None
    assert server.proc.pid == pid
    assert after["ready"].status == 200
    assert after["api"].status == 200
    assert after["page"].status == 200
    assert all(annotation in stored for annotation, _, _ in record.submits)
    assert len(record.submits) == len({a for a, _, _ in record.submits})
    assert call(server.port, "GET", "/health").status == 200
