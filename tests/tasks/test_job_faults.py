"""Long jobs against real Celery workers that die: worker processes (``celery -A annotator
worker --pool=solo``) on the real Redis broker and the test database, SIGKILLed in the middle
of an import, an export and a training (annotator/jobs_runtime.py: heartbeat, claim, reaper).

Each test runs its workers under its own broker key prefix and Redis prefix, with short
periods: a heartbeat every second, stale after 3 s, the reaper (beat, inside the second
worker) every second. Each test is marked with the faults it injects; a fault counts as
survived when the test passed, and the run ends with the figure the README quotes ("faults: N
injected, M survived", tests/conftest.py)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.core.files.storage import default_storage
from django.urls import reverse

from annotator.jobs_runtime import NO_WORKER
from annotator.services import api_token_create
from mlserve.models import ModelStatus, ModelVersion
from tasks.models import ExportJob, ImportJob, JobStatus, Task
from tasks.selectors import ExportFilter
from tasks.services import tasks_import
from tasks.services.transfers import Upload, import_job_create
from tests.factories import make_project
from tests.realtime.servers import ROOT, redis_url_or_skip, server_env, servers

pytestmark = pytest.mark.django_db(transaction=True)

ENDED = (JobStatus.COMPLETED, JobStatus.FAILED)
ROWS = 20_000  # about 1.5 s of import on PostgreSQL here: 10 batches, progress after each


@dataclass
class Cluster:
    """Worker processes of one test, sharing its broker prefix and Redis prefix."""

    env: dict[str, str]
    redis_url: str
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.env["REDIS_PREFIX"]

    def worker(self, name: str, *, beat: bool = False) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "celery", "-A", "annotator", "worker", "--pool=solo"]
        cmd += ["-n", f"{name}@faults", "--without-gossip", "--without-mingle"]
        cmd += ["--loglevel=INFO"]
        if beat:  # the reaper runs from beat; one beat for the cluster
            cmd += ["-B", "-s", str(self.tmp / f"beat-{name}")]
        log = self.tmp / f"worker-{name}.log"
        self.logs[name] = log
        with log.open("wb") as out:
            # A session of its own: ``-B`` forks beat as a child, which a kill of the worker
            # alone left running after the test (orphans of every run).
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        self.procs.append(proc)
        # Ready once it announced itself (worker_ready): the workers count of the API.
        wait_for(lambda: self._announced(proc), 90, f"worker {name} to start", proc=proc)
        return proc

    def _announced(self, proc: subprocess.Popen[bytes]) -> bool:
        members = self.client.zrange(f"{self.prefix}:celery-workers", 0, -1)
        return any(m.decode().endswith(f":{proc.pid}") for m in members)

    @functools.cached_property
    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the worker and whatever it forked (its process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def send(self, task: str, pk: int) -> None:
        app = Celery("faults-test", broker=self.redis_url, set_as_current=False)
        app.conf.broker_transport_options = {
            "global_keyprefix": self.env["CELERY_BROKER_KEYPREFIX"]
        }
        try:
            app.send_task(task, args=[pk])
        finally:
            app.close()

    def import_progress(self, job_id: int) -> int:
        # Django's Redis cache key for ``import-progress-<id>``, version 1 (an int is stored
        # as its digits).
        value = self.client.get(f"{self.prefix}:1:import-progress-{job_id}")
        return int(value) if value else 0

    def received(self, name: str, task: str) -> int:
        return self.logs[name].read_text(errors="replace").count(f"Task {task}[")


@pytest.fixture
def cluster(media_root, tmp_path) -> Iterator[Callable[..., Cluster]]:
    redis_url = redis_url_or_skip()
    made: list[Cluster] = []

    def make(**extra: str) -> Cluster:
        env = server_env(redis_url)
        env.update(
            CELERY_TASK_ALWAYS_EAGER="0",
            CELERY_BROKER_KEYPREFIX=f"faults-{secrets.token_hex(4)}:",
            MEDIA_ROOT=str(media_root),
            JOB_HEARTBEAT_SECONDS="1",
            JOB_STALE_SECONDS="3",
            JOBS_STALE_CHECK_SECONDS="1",
            WORKER_ANNOUNCE_SECONDS="1",
            CELERY_UNACKED_RESTORE_SECONDS="1",
            LOG_LEVEL="INFO",
            **extra,
        )
        made.append(Cluster(env=env, redis_url=redis_url, tmp=tmp_path))
        return made[-1]

    yield make
    for c in made:
        for proc in c.procs:
            c.kill(proc)  # also a dead worker's beat child


def wait_for(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process exited ({proc.returncode}) waiting for {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _rows(n: int) -> bytes:
    return b"".join(
        json.dumps({"text": f"row {i} of a large import"}).encode() + b"\n" for i in range(n)
    )


def _import_job(project, n: int = ROWS) -> ImportJob:
    upload = Upload("tasks.jsonl", "application/x-ndjson", io.BytesIO(_rows(n)))
    return import_job_create(project=project, user=project.created_by, uploads=[upload], urls=[])


def _job(model, pk):
    return model.objects.get(pk=pk)


# --- imports --------------------------------------------------------------------------------
@pytest.mark.fault("worker SIGKILLed mid-import")
def test_an_import_whose_worker_is_killed_leaves_nothing_and_resumes_on_another(cluster):
    c = cluster()
    project = make_project()
    job = _import_job(project)
    first = c.worker("first")
    c.send("tasks.jobs.import_run", job.pk)
    wait_for(lambda: c.import_progress(job.pk) >= 2000, 60, "the import to be under way")
    c.kill(first)

    assert Task.objects.filter(project=project).count() == 0  # rolled back with the worker
    assert _job(ImportJob, job.pk).status == JobStatus.RUNNING
    c.worker("second", beat=True)  # its reaper requeues the job once its heartbeat is stale
    done = wait_for(lambda: (j := _job(ImportJob, job.pk)).status in ENDED and j, 90, "resume")
    assert (done.status, done.task_count, done.attempts) == (JobStatus.COMPLETED, ROWS, 2)
    assert Task.objects.filter(project=project).count() == ROWS


@pytest.mark.fault("no worker running", "worker SIGKILLed mid-import, no attempt left")
def test_an_import_that_kept_losing_its_worker_fails_saying_so_and_a_retry_imports_it(
    cluster, client, settings
):
    c = cluster(JOB_MAX_ATTEMPTS="1")
    project = make_project()
    token = api_token_create(user=project.created_by).key
    with servers(1, c.env) as [server]:
        # No worker yet: the job says so at once, in the API and on the project page.
        status, body = server.request(
            "POST", f"/api/projects/{project.pk}/import?async=true", token,
            [{"text": f"row {i} of a large import"} for i in range(ROWS)],
        )  # fmt: skip
        assert status == 202, body
        assert (body["status"], body["waiting"]) == ("queued", NO_WORKER)
        job_url = f"/api/projects/{project.pk}/imports/{body['id']}"
        assert server.request("GET", job_url, token)[1]["waiting"] == NO_WORKER
        settings.REDIS_URL, settings.REDIS_PREFIX = c.redis_url, c.prefix
        settings.CELERY_TASK_ALWAYS_EAGER = False
        client.force_login(project.created_by)
        page = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
        assert NO_WORKER in page

        first = c.worker("first")  # the queued job starts
        wait_for(lambda: c.import_progress(body["id"]) >= 2000, 60, "the import to be under way")
        c.kill(first)
        c.worker("second", beat=True)
        failed = wait_for(
            lambda: (j := server.request("GET", job_url, token)[1])["status"] == "failed" and j,
            60,
            "the reaper to fail the import",
        )
        assert failed["errors"] == [
            {
                "row": None,
                "field": "worker",
                "message": "the worker running this import stopped 1 time; nothing was "
                "imported; retry",
            }
        ]
        assert Task.objects.filter(project=project).count() == 0
        files = _job(ImportJob, body["id"]).files
        assert all(default_storage.exists(f["path"]) for f in files)  # kept for the retry

        status, retried = server.request("POST", f"{job_url}/retry", token)
        assert status == 202, retried
        done = wait_for(
            lambda: (j := server.request("GET", job_url, token)[1])["status"] == "completed" and j,
            60,
            "the retried import",
        )
        assert (done["task_count"], done["errors"], done["waiting"]) == (ROWS, [], "")
    assert Task.objects.filter(project=project).count() == ROWS


@pytest.mark.fault("message redelivered past the visibility timeout mid-import")
def test_a_message_redelivered_while_its_import_runs_does_not_run_it_twice(cluster):
    # Redis hands the unacknowledged message to the idle worker after 1 s (it looks every
    # second); the import takes several times that, also on a loaded machine (3 x ROWS
    # finished before any redelivery once in CI).
    c = cluster(CELERY_VISIBILITY_TIMEOUT="1")
    project = make_project()
    rows = 5 * ROWS
    job = _import_job(project, rows)
    c.worker("one")
    c.worker("two", beat=True)
    c.send("tasks.jobs.import_run", job.pk)
    done = wait_for(
        lambda: (j := _job(ImportJob, job.pk)).status == JobStatus.COMPLETED and j, 120, "import"
    )
    received = c.received("one", "tasks.jobs.import_run") + c.received(
        "two", "tasks.jobs.import_run"
    )
    assert received >= 2, "the broker did not redeliver the message: the test proves nothing"
    assert (done.task_count, done.attempts) == (rows, 1)
    assert Task.objects.filter(project=project).count() == rows


# --- exports --------------------------------------------------------------------------------
@pytest.mark.fault("worker SIGKILLed mid-export")
def test_an_export_whose_worker_is_killed_is_redone_by_another(cluster):
    c = cluster()
    project = make_project()
    tasks_import(project=project, items=({"text": f"task {i}"} for i in range(ROWS)), user=None)
    flt = ExportFilter(only_annotated=False)
    job = ExportJob.objects.create(project=project, export_type="JSON", options=flt.__dict__)
    first = c.worker("first")
    c.send("tasks.jobs.export_run", job.pk)
    wait_for(lambda: _job(ExportJob, job.pk).status == JobStatus.RUNNING, 60, "export start")
    time.sleep(0.1)  # in the body: it writes the file at the end
    c.kill(first)

    killed = _job(ExportJob, job.pk)
    assert (killed.status, killed.file) == (JobStatus.RUNNING, "")
    c.worker("second", beat=True)
    done = wait_for(lambda: (j := _job(ExportJob, job.pk)).status in ENDED and j, 90, "resume")
    assert (done.status, done.task_count, done.attempts) == (JobStatus.COMPLETED, ROWS, 2)
    with default_storage.open(done.file, "rb") as handle:
        assert len(json.load(handle)) == ROWS


# --- training -------------------------------------------------------------------------------
@pytest.mark.fault("worker SIGKILLed mid-training")
def test_a_training_whose_worker_is_killed_is_never_left_training(cluster):
    import random

    from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task

    c = cluster()
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(5)
    utterances = generate_utterances(600, seed=5)  # 3 chunks of embeddings
    items = [
        utterance_task(u, with_annotation=True, with_prediction=False, rng=rng) for u in utterances
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    from mlserve.services import model_version_create

    version = model_version_create(project=project, control="intent")
    first = c.worker("first")
    c.send("mlserve.jobs.train_run", version.pk)
    wait_for(lambda: _job(ModelVersion, version.pk).progress > 0, 120, "training under way")
    c.kill(first)

    assert _job(ModelVersion, version.pk).status == ModelStatus.TRAINING
    c.worker("second", beat=True)
    done = wait_for(
        lambda: (
            (v := _job(ModelVersion, version.pk)).status
            not in (ModelStatus.TRAINING, ModelStatus.QUEUED)
            and v
        ),
        120,
        "the training to end",
    )
    assert (done.status, done.attempts) == (ModelStatus.READY, 2), done.error
    assert ModelVersion.objects.filter(project=project).count() == 1
