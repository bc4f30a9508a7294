"""Media in task data: stored references, and the short-lived URLs handed to the browser.

A task keeps a reference that never expires: ``/media/<path>`` for the local disk (served
to the project's members by annotator.views.media), ``s3://<bucket>/<key>`` for an object in
a bucket. The labelling page resolves each ``s3://`` reference into a presigned GET URL at
the moment it shows the task. Objects stay private; a link that leaks stops working after
its TTL (AWS_QUERYSTRING_EXPIRE seconds for the default storage, the connection's
``presign_ttl`` minutes for a project's source bucket).

Only references the project owns are signed: keys under ``projects/<id>/`` of the default
bucket, and keys under the prefix of one of the project's source storages with ``presign``
on. Any other ``s3://`` string is left as it is, so task data cannot make the server sign
another project's objects.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from projects.models import Project
from tasks.models import S3ImportStorage
from tasks.storage.s3 import Bucket, StorageError, presigned_get

SCHEME = "s3://"


def default_bucket() -> str | None:
    """The default storage's bucket when it is S3 (AWS_STORAGE_BUCKET_NAME), else None."""
    return getattr(default_storage, "bucket_name", None)


def media_reference(path: str) -> str:
    """What task data keeps for a file saved in the default storage at ``path``."""
    bucket = default_bucket()
    if bucket:
        return f"{SCHEME}{bucket}/{path}"
    return default_storage.url(path)


def split_reference(value: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://bucket/key`` string, else None."""
    if not value.startswith(SCHEME):
        return None
    bucket, _, key = value[len(SCHEME) :].partition("/")
    return (bucket, key) if bucket and key else None


def media_resolve(*, project: Project, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each ``s3://`` reference the project owns (top-level strings and lists
    of strings) replaced by a presigned URL. No query unless a reference is present."""
    refs = {
        value
        for item in data.values()
        for value in (item if isinstance(item, list) else [item])
        if isinstance(value, str) and value.startswith(SCHEME)
    }
    if not refs:
        return data
    signer = _Signer(project)
    urls = {ref: signer.url(ref) for ref in refs}

    def swap(value: Any) -> Any:
        return urls.get(value) or value if isinstance(value, str) else value

    return {
        name: [swap(v) for v in item] if isinstance(item, list) else swap(item)
        for name, item in data.items()
    }


class _Signer:
    def __init__(self, project: Project) -> None:
        self.project_id = project.pk
        self.storages = list(
            S3ImportStorage.objects.filter(project_id=project.pk, presign=True).order_by("id")
        )

    def url(self, ref: str) -> str | None:
        parts = split_reference(ref)
        if parts is None:
            return None
        bucket, key = parts
        if bucket == default_bucket() and key.startswith(f"projects/{self.project_id}/"):
            s3: Any = default_storage  # django-storages' S3Storage.url takes ``expire``
            return str(s3.url(key, expire=settings.AWS_QUERYSTRING_EXPIRE))
        for storage in self.storages:
            if storage.bucket == bucket and key.startswith(storage.prefix):
                try:
                    return presigned_get(Bucket.of(storage), key, seconds=storage.presign_ttl * 60)
                except StorageError:
                    return None  # a refused endpoint: the page shows the broken reference
        return None
