"""A private PostgreSQL cluster that a test may stop and start: ``initdb`` into a temporary
folder owned by ``postgres``, its own port on 127.0.0.1 and its socket in that folder. The
machine's shared server (5432) is never touched."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from tests.realtime.servers import ROOT, free_port

OS_USER = "postgres"


def _missing(reason: str) -> None:
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must provide it for the database outage tests)")
    pytest.skip(reason)


def postgres_bin_or_skip() -> Path:
    """The newest /usr/lib/postgresql/*/bin with initdb and pg_ctl, and the ``postgres``
    account to run them (root may not run a cluster); skip without, fail in CI."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not found:
        _missing("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        _missing(f"no '{OS_USER}' account to run a private PostgreSQL cluster")
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != OS_USER:
        _missing(f"a private PostgreSQL cluster needs root (runuser) or the '{OS_USER}' user")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _missing("runuser is not installed")
    return Path(found[-1]).parent


class OwnPostgres:
    """``start``/``stop`` keep the port and the data, like a restarted server."""

    def __init__(self, bindir: Path, database: str = "annotator") -> None:
        self.bindir = bindir
        self.database = database
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="annotator-pg-"))
        self.data = self.dir / "data"
        owner = pwd.getpwnam(OS_USER)
        os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", OS_USER, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.dir)

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=60"
        )
        log = str(self.dir / "server.log")
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-t", "60", "-o", options, "-l", log
        )
        deadline = time.time() + 30
        while True:
            try:
                psycopg.connect(self.admin_url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are ended and the server shuts down cleanly; ``immediate``:
        as if it crashed (it recovers from its log on the next start)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def admin_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')  # nosec B608 (a fixed name)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def app_env(database_url: str, data_dir: Path, redis_url: str | None = None) -> dict[str, str]:
    """The environment of a server process on its own database (not the test database)."""
    (data_dir / "static").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL=database_url,
        ANNOTATOR_DATA_DIR=str(data_dir),
        SECRET_KEY=secrets.token_hex(32),
        PYTEST_XDIST_WORKER="",
        DEBUG="0",
        LOG_LEVEL="ERROR",
        CELERY_TASK_ALWAYS_EAGER="1",
        QUALITY_OVERLAP_PERCENTAGE="0",
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, REDIS_PREFIX=f"outage{secrets.token_hex(4)}")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout
