"""The default storage on S3 (AWS_STORAGE_BUCKET_NAME set), against moto's S3 server on
loopback: task media stays private and reaches the browser as presigned URLs that expire;
export files and model artifacts round-trip through the bucket."""

from __future__ import annotations

import io
import itertools
import json
import random
import time
import urllib.error
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task
from mlserve.models import ModelStatus
from mlserve.services import entity_model_load, model_version_create, model_version_train
from tasks.models import Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import make_project
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_server  # noqa: F401

pytestmark = pytest.mark.django_db

IMAGE_CONFIG = """<View><Image name="img" value="$image"/>
<Choices name="kind" toName="img"><Choice value="cat"/><Choice value="dog"/></Choices></View>"""
_names = itertools.count(1)


@pytest.fixture
def bucket(settings, s3_server):  # noqa: F811
    """The default storage switched to a new bucket of the moto server, configured as
    annotator/settings.py does it from AWS_* and S3_ENDPOINT_URL."""
    name = s3_server.bucket(f"default-media-{next(_names)}")
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_server.endpoint,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": settings.AWS_QUERYSTRING_EXPIRE,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
    }
    return name


def _keys(s3_server, bucket):  # noqa: F811
    listed = s3_server.client().list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_uploaded_media_is_private_and_the_labelling_page_gets_urls_that_expire(
    s3_server,  # noqa: F811
    bucket,
    settings,
):
    settings.AWS_QUERYSTRING_EXPIRE = 2
    project = make_project(label_config=IMAGE_CONFIG)
    client = api(project.created_by)
    picture = _png()
    files = {"f": SimpleUploadedFile("cat.png", picture)}
    response = client.post(f"/api/projects/{project.pk}/import", data=files, format="multipart")
    assert response.status_code == 201, response.content
    task = Task.objects.get(project=project)
    reference = task.data["image"]
    prefix = f"s3://{bucket}/projects/{project.pk}/media/"
    assert reference.startswith(prefix) and reference.endswith("-cat.png")
    key = reference.removeprefix(f"s3://{bucket}/")
    assert key in _keys(s3_server, bucket)
    # The object is private: no URL without a signature reads it.
    assert _get(f"{s3_server.endpoint}/{bucket}/{key}")[0] == 403
    url = client.get(f"/api/tasks/{task.pk}/label").json()["task"]["data"]["image"]
    assert "X-Amz-Expires=2&" in url
    assert _get(url) == (200, picture)
    time.sleep(3)
    status, body = _get(url)
    assert status == 403 and b"Request has expired" in body
    # The labelling page embeds a fresh one on every load.
    client.force_login(project.created_by)
    page = client.get(f"/projects/{project.pk}/label/{task.pk}/")
    assert page.status_code == 200 and b"X-Amz-Signature=" in page.content


def test_an_export_job_is_written_to_the_bucket_and_downloaded_from_it(
    s3_server,  # noqa: F811
    bucket,
    django_capture_on_commit_callbacks,
):
    project = make_project()
    tasks_import(project=project, items=[{"text": "a"}, {"text": "b"}], user=None)
    client = api(project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/projects/{project.pk}/exports",
            {"exportType": "JSON", "download_all_tasks": True},
            format="json",
        )
    job = created.json()
    assert f"exports/{project.pk}/export-{job['id']}.json" in _keys(s3_server, bucket)
    download = client.get(f"/api/projects/{project.pk}/exports/{job['id']}/download")
    exported = json.loads(b"".join(download.streaming_content))
    assert sorted(t["data"]["text"] for t in exported) == ["a", "b"]


def test_a_model_artifact_is_saved_to_the_bucket_and_loaded_back(s3_server, bucket):  # noqa: F811
    project = make_project(label_config=intent_entity_config())
    rng = random.Random(3)
    items = [
        utterance_task(u, with_annotation=True, with_prediction=False, rng=rng)
        for u in generate_utterances(40, seed=3)
    ]
    tasks_import(project=project, items=items, user=project.created_by)
    version = model_version_create(project=project, control="entities")
    model_version_train(version=version)
    version.refresh_from_db()
    assert version.status == ModelStatus.READY
    assert version.artifact in _keys(s3_server, bucket)
    assert entity_model_load(version).labels
