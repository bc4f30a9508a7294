#!/usr/bin/env python
"""API benchmark: import, next-task + submit, export, over HTTP against a real server.

Starts the app (uvicorn) on SQLite and/or PostgreSQL with a fresh database, drives it over
HTTP only, and prints one JSON document. Each figure comes with a baseline measured in the
same run on the same machine (the machine is shared and noisy: compare ratios, not seconds):
- import: the same rows inserted straight into the database (COPY / executemany), the floor;
- next + submit: GET /health under the same concurrency, the server's own floor;
- export: the same rows read straight from the database.

    python bench/api_bench.py                       # sqlite and postgresql, 10k and 100k
    python bench/api_bench.py --db postgresql --quick
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.demo import generate_utterances, intent_entity_config  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "annotator_bench"


# --- the server -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: str, workers: int) -> None:
        self.db = db
        self.data_dir = Path(tempfile.mkdtemp(prefix="annotator-bench-"))
        (self.data_dir / "static").mkdir()  # whitenoise warns without it; no static is served
        self.port = _free_port()
        self.env = {
            **os.environ,
            "ANNOTATOR_DATA_DIR": str(self.data_dir),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            # One annotation a task (Label Studio's default, the workload compared): with
            # quality's default overlap a task handed to two annotators counts as a double.
            "QUALITY_OVERLAP_PERCENTAGE": "0",
        }
        for key in ("DATABASE_URL", "REDIS_URL"):
            self.env.pop(key, None)
        if db == "postgresql":
            _pg_exec(f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}")
            base = PG_ADMIN_URL.rsplit("/", 1)[0]
            self.env["DATABASE_URL"] = f"{base}/{BENCH_DB}"
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        cmd = [
            sys.executable, "-m", "uvicorn", "annotator.asgi:application", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(self.workers), "--no-access-log", "--log-level", "warning",
            "--http", "annotator.serve:NoDelayHttpToolsProtocol", "--loop", "uvloop",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if Client(self.port).get("/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def rss_mb(self) -> float:
        """Resident memory of the server: the uvicorn process and its workers."""
        assert self.proc is not None
        return sum(_rss_kb(pid) for pid in _tree(self.proc.pid)) / 1024

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.db == "postgresql":
            _pg_exec(f"DROP DATABASE IF EXISTS {BENCH_DB}")


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            pids.extend(_tree(int(child)))
    return pids


def _cpu_seconds(server: Server) -> dict[str, float]:
    """CPU seconds used so far by the server's processes, PostgreSQL's, and this process."""
    tick = os.sysconf("SC_CLK_TCK")

    def used(pids: list[int]) -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / tick

    assert server.proc is not None
    me = os.times()
    out = {"server": used(_tree(server.proc.pid)), "load_generator": me.user + me.system}
    if server.db == "postgresql":
        found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
        out["database"] = used([int(p) for p in found.stdout.split()])
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


class RssSampler:
    """Peak server RSS while a block runs (sampled every 20 ms)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> RssSampler:
        self.before = self.server.rss_mb()
        self.peak = self.before
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.server.rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.server.rss_mb())

    @property
    def growth(self) -> float:
        return round(self.peak - self.before, 1)


def _pg_exec(*statements: str) -> None:
    import psycopg

    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        for sql in statements:
            conn.execute(sql)


# --- HTTP ---------------------------------------------------------------------------------------
class Client:
    """One keep-alive connection; ``token`` authenticates as Label Studio's clients do."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = {"Authorization": f"Token {token}"} if token else {}

    def request(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def stream(self, path: str) -> int:
        """GET and discard the body as it arrives; returns the byte count."""
        self.conn.close()  # a fresh connection: the previous one may have idled out
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {response.read()[:300]!r}")
        total = 0
        while chunk := response.read(1 << 16):
            total += len(chunk)
        return total


# --- workload -----------------------------------------------------------------------------------
def workload(n: int) -> list[dict[str, Any]]:
    base = generate_utterances(500, seed=7)
    return [
        {"text": base[i % 500].text, "context": base[i % 500].context, "lang": base[i % 500].lang}
        for i in range(n)
    ]


def _setup_users(server: Server, annotators: int) -> tuple[str, list[str]]:
    code = (
        "from annotator.models import User; from annotator.services import api_token_rotate;"
        f"names = ['manager'] + [f'annotator{{i}}' for i in range({annotators})];"
        "[User.objects.get_or_create(username=n) for n in names];"
        "print(' '.join(api_token_rotate(user=User.objects.get(username=n)) for n in names))"
    )
    tokens = server.manage("shell", "-v0", "-c", code).strip().splitlines()[-1].split()
    return tokens[0], tokens[1:]


def _create_project(client: Client, title: str) -> int:
    status, body = client.request(
        "POST", "/api/projects", {"title": title, "label_config": intent_entity_config()}
    )
    assert status == 201, body
    return int(json.loads(body)["id"])


def bench_import(server: Server, client: Client, n: int) -> dict[str, Any]:
    project = _create_project(client, f"import {n}")
    payload = json.dumps(workload(n)).encode()
    with RssSampler(server) as rss:
        start = time.perf_counter()
        status, body = client.request("POST", f"/api/projects/{project}/import", raw=payload)
        seconds = time.perf_counter() - start
    assert status == 201, body[:500]
    assert json.loads(body)["task_count"] == n
    floor = import_floor(server, n)
    return {
        "tasks": n,
        "seconds": round(seconds, 2),
        "tasks_per_s": round(n / seconds),
        "request_mb": round(len(payload) / 2**20, 1),
        "server_rss_growth_mb": rss.growth,
        "baseline_db_insert_seconds": round(floor, 2),
        "ratio_to_baseline": round(seconds / floor, 1),
        "project": project,
    }


def import_floor(server: Server, n: int) -> float:
    """The same rows written straight into a scratch table: what the database itself costs."""
    rows = [(json.dumps(item),) for item in workload(n)]
    if server.db == "postgresql":
        import psycopg

        with psycopg.connect(
            server.env["DATABASE_URL"].replace("postgres://", "postgresql://")
        ) as conn:
            conn.execute("CREATE TEMP TABLE floor (id bigserial primary key, data jsonb)")
            start = time.perf_counter()
            with conn.cursor().copy("COPY floor (data) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            return time.perf_counter() - start
    conn = sqlite3.connect(server.data_dir / "floor.sqlite3")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("DROP TABLE IF EXISTS floor")
    conn.execute("CREATE TABLE floor (id integer primary key, data text)")
    start = time.perf_counter()
    conn.executemany("INSERT INTO floor (data) VALUES (?)", rows)
    conn.commit()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}

    def pick(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def bench_annotate(
    server: Server, manager: Client, project: int, tokens: list[str], cycles: int
) -> dict[str, Any]:
    """Each annotator loops next-task -> submit; nobody may receive a task twice or a task
    someone else holds."""
    for token in tokens:
        me = json.loads(Client(server.port, token).get("/api/current-user")[1])
        status, body = manager.request(
            "POST", f"/api/projects/{project}/members", {"user": me["id"], "role": "annotator"}
        )
        assert status == 201, body
    next_lat: list[float] = []
    submit_lat: list[float] = []
    handed: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def annotator(token: str) -> None:
        client = Client(server.port, token)
        for _ in range(cycles):
            t0 = time.perf_counter()
            status, body = client.get(f"/api/projects/{project}/next")
            t1 = time.perf_counter()
            if status != 200:
                errors.append(f"next {status} {body[:200]!r}")
                return
            task = json.loads(body)
            result = [
                {
                    "id": "i1",
                    "from_name": "intent",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["track_order"]},
                }
            ]
            status, body = client.request(
                "POST", f"/api/tasks/{task['id']}/annotations", {"result": result, "lead_time": 3.0}
            )
            t2 = time.perf_counter()
            if status != 201:
                errors.append(f"submit {status} {body[:200]!r}")
            with lock:
                next_lat.append(t1 - t0)
                submit_lat.append(t2 - t1)
                handed.append(task["id"])

    threads = [threading.Thread(target=annotator, args=(t,)) for t in tokens]
    cpu_before = _cpu_seconds(server)
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    cpu_after = _cpu_seconds(server)
    cycles_done = max(len(submit_lat), 1)
    cpu = {
        name: round(1000 * (cpu_after[name] - cpu_before[name]) / cycles_done, 1)
        for name in cpu_before
    }
    doubles = sum(count - 1 for count in Counter(handed).values() if count > 1)
    baseline = health_latency(server, len(tokens), cycles)
    nxt, sub = _percentiles(next_lat), _percentiles(submit_lat)
    return {
        "annotators": len(tokens),
        "annotations": len(submit_lat),
        "annotations_per_s": round(len(submit_lat) / seconds, 1),
        "next": nxt,
        "submit": sub,
        "double_handouts": doubles,
        # CPU time per next + submit cycle: where the 2 cores go (the database's share is
        # inside "server" on SQLite).
        "cpu_ms_per_cycle": cpu,
        "errors": errors[:5],
        "baseline_health": baseline,
        "next_p95_ratio_to_health_p95": round(nxt["p95_ms"] / max(baseline["p95_ms"], 0.1), 1),
    }


def health_latency(server: Server, concurrency: int, cycles: int) -> dict[str, float]:
    samples: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        client = Client(server.port)
        for _ in range(cycles * 2):
            t0 = time.perf_counter()
            client.get("/health")
            with lock:
                samples.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _percentiles(samples)


def bench_export(
    server: Server, client: Client, project: int, export_type: str, tasks: int
) -> dict[str, Any]:
    path = f"/api/projects/{project}/export?exportType={export_type}&download_all_tasks=true"
    with RssSampler(server) as rss:
        start = time.perf_counter()
        size = client.stream(path)
        seconds = time.perf_counter() - start
    floor = export_floor(server)
    return {
        "format": export_type,
        "tasks": tasks,
        "seconds": round(seconds, 2),
        "mb": round(size / 2**20, 1),
        "server_rss_growth_mb": rss.growth,
        "server_rss_peak_mb": round(rss.peak, 1),
        "baseline_db_read_seconds": round(floor, 2),
        "ratio_to_baseline": round(seconds / max(floor, 1e-3), 1),
    }


def export_floor(server: Server) -> float:
    """Reading every task's data straight from the database."""
    start = time.perf_counter()
    if server.db == "postgresql":
        import psycopg

        with (
            psycopg.connect(
                server.env["DATABASE_URL"].replace("postgres://", "postgresql://")
            ) as conn,
            conn.cursor(name="floor") as cur,
        ):
            cur.execute("SELECT id, data::text FROM tasks_task ORDER BY id")
            for _ in cur:
                pass
    else:
        conn = sqlite3.connect(server.data_dir / "db.sqlite3")
        for _ in conn.execute("SELECT id, data FROM tasks_task ORDER BY id"):
            pass
        conn.close()
    return time.perf_counter() - start


def run(
    db: str, sizes: list[int], annotators: list[int], cycles: int, workers: int
) -> dict[str, Any]:
    server = Server(db, workers)
    try:
        server.start()
        manager_token, annotator_tokens = _setup_users(server, max(annotators))
        manager = Client(server.port, manager_token)
        result: dict[str, Any] = {
            "server": {"workers": workers},
            "import": [],
            "annotate": [],
            "export": [],
        }
        project = 0
        for n in sizes:
            figures = bench_import(server, manager, n)
            project = figures.pop("project")
            result["import"].append(figures)
        biggest = max(sizes)
        for k in annotators:
            result["annotate"].append(
                bench_annotate(server, manager, project, annotator_tokens[:k], cycles)
            )
        for export_type in ("JSON", "CONLL2003"):
            result["export"].append(bench_export(server, manager, project, export_type, biggest))
        result["server"]["rss_end_mb"] = round(server.rss_mb(), 1)
        return result
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="import sizes; the last one is annotated and exported",
    )
    parser.add_argument("--annotators", default="1,8")
    parser.add_argument("--cycles", type=int, default=100, help="next+submit cycles per annotator")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small sizes and few cycles"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    cycles = args.cycles
    if args.quick:
        sizes, cycles = [200, 1000], 5
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "params": {"sizes": sizes, "annotators": args.annotators, "cycles": cycles},
    }
    for db in args.db.split(","):
        report[db] = run(
            db, sizes, [int(a) for a in args.annotators.split(",")], cycles, args.workers
        )
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
