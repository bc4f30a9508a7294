"""The claim, the reaper and the retry of long jobs, in process (eager Celery: the requeued
job runs at once). The same against real workers that die: test_job_faults.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework.test import APIClient

from annotator.jobs_runtime import job_claim, job_kind, jobs_stale_recover
from mlserve.models import ModelStatus, ModelVersion
from tasks.models import ExportJob, ImportJob, JobStatus, Task
from tasks.services.transfers import Upload, import_job_create, import_job_run
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def _import_job(project, rows: int = 3) -> ImportJob:
    body = b"".join(b'{"text": "row %d"}\n' % i for i in range(rows))
    upload = Upload("tasks.jsonl", "application/x-ndjson", io.BytesIO(body))
    return import_job_create(project=project, user=project.created_by, uploads=[upload], urls=[])


def _died(model, pk, *, seconds_ago: int = 120, attempts: int = 1, status=JobStatus.RUNNING):
    """The row as a worker killed ``seconds_ago`` left it."""
    model.objects.filter(pk=pk).update(
        status=status,
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
        attempts=attempts,
    )


def test_a_running_job_with_a_fresh_heartbeat_is_not_claimed_again(media_root):
    job = _import_job(make_project())
    kind = job_kind(ImportJob)
    assert job_claim(kind, job.pk)
    assert not job_claim(kind, job.pk)  # a redelivered message while it runs
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)


def test_a_job_whose_worker_died_is_claimed_by_the_redelivered_message(media_root):
    project = make_project()
    job = _import_job(project)
    _died(ImportJob, job.pk)
    run, _ = import_job_run(job_id=job.pk)
    assert (run.status, run.task_count, run.attempts) == (JobStatus.COMPLETED, 3, 2)
    assert Task.objects.filter(project=project).count() == 3


def test_the_reaper_requeues_a_stale_job_and_it_runs(media_root):
    project = make_project()
    job = _import_job(project)
    _died(ImportJob, job.pk)
    assert jobs_stale_recover() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.task_count) == (JobStatus.COMPLETED, 3)


def test_the_reaper_leaves_fresh_and_unclaimed_running_jobs_alone(media_root, settings):
    project = make_project()
    fresh, synchronous = _import_job(project), _import_job(project)
    _died(ImportJob, fresh.pk, seconds_ago=settings.JOB_STALE_SECONDS // 2)
    # Running without a heartbeat: not started by a claim (nobody to take it from).
    ImportJob.objects.filter(pk=synchronous.pk).update(status=JobStatus.RUNNING)
    assert jobs_stale_recover() == {"requeued": 0, "failed": 0}
    assert set(ImportJob.objects.values_list("status", flat=True)) == {JobStatus.RUNNING}


def test_the_reaper_fails_a_job_out_of_attempts_and_keeps_its_files(media_root, settings):
    project = make_project()
    job = _import_job(project)
    _died(ImportJob, job.pk, attempts=settings.JOB_MAX_ATTEMPTS)
    export = ExportJob.objects.create(project=project, export_type="JSON")
    _died(ExportJob, export.pk, attempts=settings.JOB_MAX_ATTEMPTS)
    version = ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=1, name="intent-v1"
    )
    _died(ModelVersion, version.pk, attempts=3, status=ModelStatus.TRAINING)
    assert jobs_stale_recover() == {"requeued": 0, "failed": 3}

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == [
        {
            "row": None,
            "field": "worker",
            "message": "the worker running this import stopped 3 times; nothing was imported; "
            "retry",
        }
    ]
    assert all(default_storage.exists(f["path"]) for f in job.files)
    export.refresh_from_db()
    assert export.error == "the worker running this export stopped 3 times; nothing was kept; retry"
    version.refresh_from_db()
    assert (version.status, version.error) == (
        ModelStatus.FAILED,
        "the worker running this training stopped 3 times; nothing was kept; retry",
    )


def test_a_failed_import_is_retried_through_the_api(
    media_root, settings, django_capture_on_commit_callbacks
):
    project = make_project()
    job = _import_job(project)
    _died(ImportJob, job.pk, attempts=settings.JOB_MAX_ATTEMPTS)
    jobs_stale_recover()
    api = APIClient()
    api.force_authenticate(project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{project.pk}/imports/{job.pk}/retry")
    assert response.status_code == 202, response.json()
    assert (response.json()["status"], response.json()["errors"]) == ("queued", [])
    done = api.get(f"/api/projects/{project.pk}/imports/{job.pk}").json()
    assert (done["status"], done["task_count"], done["attempts"]) == ("completed", 3, 1)
    again = api.post(f"/api/projects/{project.pk}/imports/{job.pk}/retry")
    assert again.status_code == 400
    assert again.json()["validation_errors"]["status"] == [
        "the import is completed: only a failed one can be retried"
    ]


def test_a_failed_import_whose_files_are_gone_asks_for_a_new_upload(media_root):
    project = make_project()
    job = _import_job(project)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    default_storage.delete(job.files[0]["path"])
    api = APIClient()
    api.force_authenticate(project.created_by)
    response = api.post(f"/api/projects/{project.pk}/imports/{job.pk}/retry")
    assert response.status_code == 400
    assert response.json()["validation_errors"]["file"] == [
        "the uploaded files are gone (tasks.jsonl): import them again"
    ]


def test_a_failed_export_is_retried_through_the_api(media_root, django_capture_on_commit_callbacks):
    project = make_project()
    export = ExportJob.objects.create(
        project=project, export_type="JSON", status=JobStatus.FAILED, error="worker lost"
    )
    api = APIClient()
    api.force_authenticate(project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{project.pk}/exports/{export.pk}/retry")
    assert response.status_code == 202, response.json()
    assert (response.json()["status"], response.json()["error"]) == ("queued", "")
    done = api.get(f"/api/projects/{project.pk}/exports/{export.pk}").json()
    assert (done["status"], done["error"]) == ("completed", "")


def test_a_queued_job_says_nothing_when_jobs_run_in_process(media_root):
    project = make_project()
    job = _import_job(project)
    api = APIClient()
    api.force_authenticate(project.created_by)
    body = api.get(f"/api/projects/{project.pk}/imports/{job.pk}").json()
    assert (body["status"], body["waiting"]) == ("queued", "")


def test_a_failed_training_is_retried_through_the_api(django_capture_on_commit_callbacks):
    from annotator.demo.text import intent_entity_config

    project = make_project(label_config=intent_entity_config())
    version = ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=1, name="intent-v1",
        status=ModelStatus.FAILED, error="the worker running this training stopped 3 times",
    )  # fmt: skip
    api = APIClient()
    api.force_authenticate(project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{project.pk}/models/{version.pk}/retry")
    assert response.status_code == 202, response.json()
    assert (response.json()["status"], response.json()["error"]) == ("queued", "")
    # Trained again (eager) and failed again, for its own reason this time.
    done = api.get(f"/api/projects/{project.pk}/models/{version.pk}").json()
    assert (done["status"], done["attempts"]) == ("failed", 1)
    assert "fewer than 2 labels" in done["error"]


def test_a_job_whose_worker_went_silent_says_so(media_root):
    project = make_project()
    job = _import_job(project)
    _died(ImportJob, job.pk)
    api = APIClient()
    api.force_authenticate(project.created_by)
    body = api.get(f"/api/projects/{project.pk}/imports/{job.pk}").json()
    assert body["status"] == "running"
    assert body["waiting"].startswith("the worker running this job stopped answering")
