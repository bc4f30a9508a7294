"""Cloud storage connections against moto's S3 server on loopback (tests/s3_server.py):
import from a bucket prefix, sync without duplicates, export each submitted task, presigned
media of a source bucket, and bucket errors as 400s or a failed sync, never a 500."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks.jobs import storages_sync_due
from tasks.models import S3ExportStorage, S3ImportLink, S3ImportStorage, Task
from tasks.services import annotation_create
from tasks.services.storages import export_flag_forget, import_sync, storage_save, storages_due
from tasks.storage.s3 import Bucket, presigned_get
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_server  # noqa: F401

pytestmark = pytest.mark.django_db

IMAGE_CONFIG = """<View><Image name="img" value="$image"/>
<Choices name="kind" toName="img"><Choice value="cat"/><Choice value="dog"/></Choices></View>"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # moto listens on 127.0.0.1: a user-given endpoint there is refused by default (SSRF).
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def bucket(s3_server):  # noqa: F811
    return s3_server.bucket(f"storage-test-{next(_names)}")


def _put(s3_server, bucket, key, body):  # noqa: F811
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=body)


def _connection(s3_server, bucket, **fields):  # noqa: F811
    return {
        "bucket": bucket,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "region_name": REGION,
        "s3_endpoint": s3_server.endpoint,
        **fields,
    }


def _source(s3_server, bucket, project=None, **fields):  # noqa: F811
    project = project or make_project()
    storage = S3ImportStorage(project=project)
    return storage_save(storage=storage, fields=_connection(s3_server, bucket, **fields))


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- create, validate, errors -------------------------------------------------------------
def test_creating_a_source_storage_checks_the_bucket_and_never_returns_the_secrets(
    s3_server,  # noqa: F811
    bucket,
):
    project = make_project()
    body = {
        "project": project.pk,
        "prefix": "in/",
        "title": "raw",
        **_connection(s3_server, bucket),
    }
    response = api(project.created_by).post("/api/storages/s3", body, format="json")
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["type"], out["bucket"], out["prefix"], out["status"]) == (
        "s3", bucket, "in/", "initialized"
    )  # fmt: skip
    listed = api(project.created_by).get(f"/api/storages/s3?project={project.pk}")
    for text in (response.content, listed.content):
        assert SECRET_KEY.encode() not in text and ACCESS_KEY.encode() not in text
    assert [s["id"] for s in listed.json()] == [out["id"]]


def test_a_missing_bucket_is_a_400_naming_the_bucket(s3_server):  # noqa: F811
    project = make_project()
    body = {"project": project.pk, **_connection(s3_server, "no-such-bucket-here")}
    response = api(project.created_by).post("/api/storages/s3", body, format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["validation_errors"]["bucket"][0]
    assert not S3ImportStorage.objects.exists()


def test_bad_credentials_are_a_400_naming_the_key(s3_server, bucket):  # noqa: F811
    project = make_project()
    body = {"project": project.pk, **_connection(s3_server, bucket, aws_access_key_id="AKIAWRONG")}
    response = api(project.created_by).post("/api/storages/export/s3", body, format="json")
    assert response.status_code == 400
    errors = response.json()["validation_errors"]
    assert "access key id is not valid" in errors["aws_access_key_id"][0]


def test_a_loopback_endpoint_is_refused_unless_private_addresses_are_allowed(
    s3_server,  # noqa: F811
    bucket,
    settings,
):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = False
    project = make_project()
    body = {"project": project.pk, **_connection(s3_server, bucket)}
    response = api(project.created_by).post("/api/storages/s3/validate", body, format="json")
    assert response.status_code == 400
    assert "loopback" in response.json()["validation_errors"]["s3_endpoint"][0]


def test_validate_checks_without_saving_and_a_bad_regex_names_its_field(
    s3_server,  # noqa: F811
    bucket,
):
    project = make_project()
    client = api(project.created_by)
    body = {"project": project.pk, **_connection(s3_server, bucket)}
    assert client.post("/api/storages/s3/validate", body, format="json").status_code == 200
    bad = client.post("/api/storages/s3/validate", {**body, "regex_filter": "(["}, format="json")
    assert bad.status_code == 400 and "regex_filter" in bad.json()["validation_errors"]
    assert not S3ImportStorage.objects.exists()


def test_a_connection_without_keys_is_anonymous_not_the_servers_own_credentials(
    s3_server,  # noqa: F811
    bucket,
    monkeypatch,
):
    # The server's environment holds working keys; a storage given none must not borrow them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    target = Bucket(bucket=bucket, s3_endpoint=s3_server.endpoint, region_name=REGION)
    url = presigned_get(target, "img/cat.png", seconds=60)
    assert "X-Amz-Credential" not in url and "X-Amz-Signature" not in url


def test_reviewers_may_not_see_or_change_storages(s3_server, bucket):  # noqa: F811
    storage = _source(s3_server, bucket)
    reviewer = make_user()
    add_member(storage.project, reviewer, "reviewer")
    client = api(reviewer)
    assert client.get(f"/api/storages/s3/{storage.pk}").status_code == 403
    assert client.post(f"/api/storages/s3/{storage.pk}/sync").status_code == 403


# --- import and sync ------------------------------------------------------------------------
def test_sync_imports_task_files_once_and_later_only_the_new_ones(s3_server, bucket):  # noqa: F811
    tasks = [{"data": {"text": "Alice"}}, {"text": "Bob"}]
    _put(s3_server, bucket, "in/batch-1.json", json.dumps(tasks).encode())
    _put(s3_server, bucket, "in/batch-2.jsonl", b'{"text": "Carol"}\n')
    _put(s3_server, bucket, "other/skip.json", b'[{"text": "elsewhere"}]')
    storage = _source(s3_server, bucket, prefix="in/")
    first = import_sync(storage_id=storage.pk)
    assert (first.status, first.last_sync_count, first.traceback) == ("completed", 3, "")
    texts = sorted(
        Task.objects.filter(project=storage.project).values_list("data__text", flat=True)
    )
    assert texts == ["Alice", "Bob", "Carol"]
    again = import_sync(storage_id=storage.pk)
    assert again.last_sync_count == 0
    assert Task.objects.filter(project=storage.project).count() == 3
    _put(s3_server, bucket, "in/batch-3.json", b'{"text": "Dave"}')
    assert import_sync(storage_id=storage.pk).last_sync_count == 1
    assert Task.objects.filter(project=storage.project).count() == 4
    assert S3ImportLink.objects.filter(storage=storage).count() == 3


def test_regex_filter_and_recursive_scan_choose_the_keys(s3_server, bucket):  # noqa: F811
    _put(s3_server, bucket, "a.json", b'{"text": "top"}')
    _put(s3_server, bucket, "a.txt.bak", b"ignored")
    _put(s3_server, bucket, "deep/b.json", b'{"text": "deep"}')
    flat = _source(s3_server, bucket, regex_filter=r".*\.json$")
    assert import_sync(storage_id=flat.pk).last_sync_count == 1
    deep = _source(s3_server, bucket, regex_filter=r".*\.json$", recursive_scan=True)
    assert import_sync(storage_id=deep.pk).last_sync_count == 2


def test_a_bad_task_file_fails_the_sync_naming_it_and_the_others_still_import(
    s3_server,  # noqa: F811
    bucket,
):
    _put(s3_server, bucket, "good.json", b'{"text": "fine"}')
    _put(s3_server, bucket, "broken.json", b'[{"text": "unterminated"')
    storage = import_sync(storage_id=_source(s3_server, bucket).pk)
    assert storage.status == "failed" and "broken.json" in storage.traceback
    assert storage.last_sync_count == 1
    assert list(S3ImportLink.objects.filter(storage=storage).values_list("key", flat=True)) == [
        "good.json"
    ]


def test_media_objects_become_one_task_each_with_a_bucket_reference(s3_server, bucket):  # noqa: F811
    for name in ("cat.png", "dog.png"):
        _put(s3_server, bucket, f"img/{name}", PNG)
    project = make_project(label_config=IMAGE_CONFIG)
    storage = _source(s3_server, bucket, project=project, prefix="img/", use_blob_urls=True)
    assert import_sync(storage_id=storage.pk).last_sync_count == 2
    assert import_sync(storage_id=storage.pk).last_sync_count == 0
    refs = sorted(Task.objects.filter(project=project).values_list("data__image", flat=True))
    assert refs == [f"s3://{bucket}/img/cat.png", f"s3://{bucket}/img/dog.png"]


def test_the_labelling_page_gets_presigned_urls_for_a_source_bucket(s3_server, bucket):  # noqa: F811
    _put(s3_server, bucket, "img/cat.png", PNG)
    project = make_project(label_config=IMAGE_CONFIG)
    storage = _source(s3_server, bucket, project=project, prefix="img/", use_blob_urls=True)
    import_sync(storage_id=storage.pk)
    task = Task.objects.get(project=project)
    payload = api(project.created_by).get(f"/api/tasks/{task.pk}/label").json()
    url = payload["task"]["data"]["image"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=900" in url  # presign_ttl: 15 minutes
    assert _get(url) == (200, PNG)
    assert _get(f"{s3_server.endpoint}/{bucket}/img/cat.png")[0] == 403  # private object
    # Without presign the reference is shown as stored.
    S3ImportStorage.objects.filter(pk=storage.pk).update(presign=False)
    payload = api(project.created_by).get(f"/api/tasks/{task.pk}/label").json()
    assert payload["task"]["data"]["image"] == f"s3://{bucket}/img/cat.png"


def test_references_to_another_projects_bucket_are_not_signed(s3_server, bucket):  # noqa: F811
    _put(s3_server, bucket, "img/cat.png", PNG)
    owner = make_project(label_config=IMAGE_CONFIG)
    _source(s3_server, bucket, project=owner, prefix="img/", use_blob_urls=True)
    other = make_project(label_config=IMAGE_CONFIG)
    task = Task.objects.create(project=other, data={"image": f"s3://{bucket}/img/cat.png"})
    payload = api(other.created_by).get(f"/api/tasks/{task.pk}/label").json()
    assert payload["task"]["data"]["image"] == f"s3://{bucket}/img/cat.png"


def test_the_sync_endpoint_runs_the_job_and_a_vanished_bucket_fails_it_without_a_500(
    s3_server,  # noqa: F811
    bucket,
    django_capture_on_commit_callbacks,
):
    _put(s3_server, bucket, "t.json", b'{"text": "one"}')
    storage = _source(s3_server, bucket)
    client = api(storage.project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(f"/api/storages/s3/{storage.pk}/sync")
    assert queued.status_code == 200 and queued.json()["status"] == "queued"
    synced = client.get(f"/api/storages/s3/{storage.pk}").json()
    assert (synced["status"], synced["last_sync_count"]) == ("completed", 1)
    assert synced["last_sync"] is not None
    s3 = s3_server.client()
    s3.delete_object(Bucket=bucket, Key="t.json")
    s3.delete_bucket(Bucket=bucket)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/storages/s3/{storage.pk}/sync").status_code == 200
    failed = client.get(f"/api/storages/s3/{storage.pk}").json()
    assert failed["status"] == "failed" and "does not exist" in failed["traceback"]


def test_the_schedule_syncs_storages_whose_interval_has_passed(s3_server, bucket):  # noqa: F811
    _put(s3_server, bucket, "t.json", b'{"text": "scheduled"}')
    manual = _source(s3_server, bucket)
    hourly = _source(s3_server, bucket, sync_interval=60)
    assert storages_due() == [hourly.pk]
    assert storages_sync_due.delay().get() == 1  # eager Celery: runs the sync now
    hourly.refresh_from_db()
    assert (hourly.status, hourly.last_sync_count) == ("completed", 1)
    assert storages_due() == []
    later = timezone.now() + timedelta(minutes=61)
    assert storages_due(now=later) == [hourly.pk]
    # Queued by an earlier round whose job was lost: queued again; a live sync is left alone.
    S3ImportStorage.objects.filter(pk=hourly.pk).update(status="queued")
    assert storages_due(now=later) == [hourly.pk]
    S3ImportStorage.objects.filter(pk=hourly.pk).update(
        status="in_progress", sync_started_at=later - timedelta(minutes=5)
    )
    assert storages_due(now=later) == []
    assert not Task.objects.filter(project=manual.project).exists()


# --- export -------------------------------------------------------------------------------
def _target(s3_server, bucket, project, **fields):  # noqa: F811
    storage = S3ExportStorage(project=project)
    return storage_save(storage=storage, fields=_connection(s3_server, bucket, **fields))


def _export_callbacks(callbacks):
    return [c for c in callbacks if "annotation_export_queue" in c.__qualname__]


def _object(s3_server, bucket, key):  # noqa: F811
    return json.loads(s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read())


def test_a_submitted_annotation_writes_its_task_to_the_target_prefix(
    s3_server,  # noqa: F811
    bucket,
    django_capture_on_commit_callbacks,
):
    project = make_project()
    _target(s3_server, bucket, project, prefix="out/")
    task = Task.objects.create(project=project, data={"text": "Hello"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        annotation_create(task=task, user=project.created_by, result=[choice()])
    assert len(_export_callbacks(callbacks)) == 1
    written = _object(s3_server, bucket, f"out/{task.pk}.json")
    assert written["id"] == task.pk and written["data"] == {"text": "Hello"}
    assert [a["result"] for a in written["annotations"]] == [[choice()]]


def test_no_target_storage_queues_nothing_on_submit(django_capture_on_commit_callbacks):
    project = make_project()
    # SQLite reuses a rolled-back project's id: forget what an earlier test cached for it.
    export_flag_forget(project_id=project.pk)
    task = Task.objects.create(project=project, data={"text": "Hello"})
    with django_capture_on_commit_callbacks() as callbacks:
        annotation_create(task=task, user=project.created_by, result=[choice()])
    assert _export_callbacks(callbacks) == []


def test_a_full_export_sync_writes_every_annotated_task(
    s3_server,  # noqa: F811
    bucket,
    django_capture_on_commit_callbacks,
):
    project = make_project()
    done = [Task.objects.create(project=project, data={"text": t}) for t in ("a", "b")]
    Task.objects.create(project=project, data={"text": "open"})
    for task in done:
        annotation_create(task=task, user=project.created_by, result=[choice()])
    storage = _target(s3_server, bucket, project)  # created after the annotations
    client = api(project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/storages/export/s3/{storage.pk}/sync")
    out = client.get(f"/api/storages/export/s3/{storage.pk}").json()
    assert (out["status"], out["last_sync_count"]) == ("completed", 2)
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == sorted(f"{t.pk}.json" for t in done)


def test_deleting_a_target_storage_stops_the_writes(
    s3_server,  # noqa: F811
    bucket,
    django_capture_on_commit_callbacks,
):
    project = make_project()
    storage = _target(s3_server, bucket, project)
    client = api(project.created_by)
    assert client.delete(f"/api/storages/export/s3/{storage.pk}").status_code == 204
    task = Task.objects.create(project=project, data={"text": "Hello"})
    with django_capture_on_commit_callbacks() as callbacks:
        annotation_create(task=task, user=project.created_by, result=[choice()])
    assert _export_callbacks(callbacks) == []
