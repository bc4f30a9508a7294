"""What can be checked of the deployment without a Docker engine: hadolint on the Dockerfile,
`docker-compose config` on the compose file, and the image's entrypoint run outside Docker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "entrypoint.sh"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        message = f"{name} is not installed (make venv-dev / .ci/run install it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_hadolint_passes_on_the_dockerfile():
    result = subprocess.run(
        [_tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_file_is_valid_and_needs_the_secrets(tmp_path):
    compose = _tool("docker-compose")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY=k\nPOSTGRES_PASSWORD=p\nMINIO_ROOT_USER=u\nMINIO_ROOT_PASSWORD=pw\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET", "POSTGRES"))}
    ok = subprocess.run(
        [compose, "config"], cwd=tmp_path, capture_output=True, text=True, env=clean, check=False
    )
    assert ok.returncode == 0, ok.stderr
    for service in ("web:", "worker:", "beat:", "db:", "redis:", "minio:"):
        assert f"  {service}" in ok.stdout
    env.write_text("POSTGRES_PASSWORD=p\nMINIO_ROOT_USER=u\nMINIO_ROOT_PASSWORD=pw\n")
    missing = subprocess.run(
        [compose, "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean,
        check=False,
    )
    assert missing.returncode != 0
    assert "set SECRET_KEY" in missing.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _embedded_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    return env | {
        "PYTHON": sys.executable,
        "ANNOTATOR_DATA_DIR": str(data_dir),
        "HOST": "127.0.0.1",
        **extra,
    }


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One data folder migrated by the migrate role, shared by the tests below (each
    migration run costs tens of seconds on a busy 2-core machine)."""
    data = tmp_path_factory.mktemp("data")
    result = subprocess.run(
        [str(ENTRYPOINT), "migrate"],
        cwd=ROOT,
        env=_embedded_env(data),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return data, result


def test_the_migrate_role_migrates_and_exits(migrated):
    data, result = migrated
    env = _embedded_env(data)
    assert result.returncode == 0, result.stderr
    assert "Applying tasks.0001_initial" in result.stdout
    again = subprocess.run(
        [str(ENTRYPOINT), "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert "No migrations to apply" in again.stdout


def test_any_other_role_runs_as_a_command(tmp_path):
    result = subprocess.run(
        [str(ENTRYPOINT), "echo", "hello", "there"],
        cwd=ROOT,
        env=_embedded_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "hello there"


def _wait_for(url: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_the_web_role_migrates_collects_static_files_and_serves(tmp_path, migrated):
    data = tmp_path / "data"
    shutil.copytree(migrated[0], data)
    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_stale.db").write_bytes(b"left from the previous run")
    env = _embedded_env(
        data, PORT=str(port), WEB_WORKERS="1", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    process = subprocess.Popen(
        [str(ENTRYPOINT), "web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/health/ready", 120) == 200
        assert (data / "static" / "common" / "base.css").exists()
        assert not (metrics_dir / "counter_stale.db").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert b"annotator_http_request_duration_seconds" in response.read()
    finally:
        process.terminate()
        process.wait(30)


def test_the_worker_role_starts_a_worker_that_serves_its_metrics(tmp_path, migrated, redis_url):
    port = _free_port()
    data = tmp_path / "data"
    shutil.copytree(migrated[0], data)
    env = _embedded_env(
        data, REDIS_URL=redis_url, WORKER_METRICS_PORT=str(port), WORKER_CONCURRENCY="1"
    )
    process = subprocess.Popen(
        [str(ENTRYPOINT), "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/metrics", 120) == 200
    finally:
        process.terminate()
        process.wait(30)
