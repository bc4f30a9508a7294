"""Cloud storage connections of a project (Label Studio's "storages").

A source storage imports the objects under a bucket prefix as tasks: task files (JSON,
JSONL, CSV...) with ``use_blob_urls`` off, one task per media object with it on (the task
keeps the object's ``s3://bucket/key``; tasks/storage/media.py signs it for the browser).
A sync lists the prefix and imports the keys it has not imported yet: ``S3ImportLink`` rows,
unique per (storage, key), make it idempotent. A target storage receives each submitted
task as ``prefix/<task id>.json`` after the annotation's transaction commits, and all of
them on a full sync.

A bucket failure (no such bucket, bad credentials, endpoint refused) raises StorageError
from the save and validate services (the API answers 400) and is recorded on the storage by
a sync (``status`` failed, ``traceback`` says why).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.models import Project
from tasks.importers import ImportFormatError, iter_items, media_kind
from tasks.models import (
    S3ExportStorage,
    S3ImportLink,
    S3ImportStorage,
    S3StorageBase,
    StorageStatus,
)
from tasks.selectors import ExportFilter, export_tasks_iter
from tasks.services.imports import tasks_import
from tasks.storage.s3 import (
    Bucket,
    StorageError,
    bucket_check,
    keys_iter,
    object_read,
    object_write,
)

# Fields a connection check depends on: changing one re-checks the bucket.
CONNECTION_FIELDS = frozenset(
    {
        "bucket",
        "prefix",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "region_name",
        "s3_endpoint",
    }
)
MEDIA_BATCH = 500
MAX_REPORTED_ERRORS = 20
# A sync still "in progress" after this long died with its worker: another may start.
STALE_SYNC = timedelta(hours=1)
_OBJECT_TAGS = {"image": ("Image",), "audio": ("Audio", "AudioPlus"), "video": ("Video",)}


def _export_flag_key(project_id: int) -> str:
    return f"storage-export-{project_id}"


def export_flag_forget(*, project_id: int) -> None:
    """Drop the cached "has a target storage" answer of a project (after a change)."""
    cache.delete(_export_flag_key(project_id))


def regex_check(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationError(
            {"regex_filter": [f"not a valid regular expression ({exc})"]}
        ) from None


def storage_validate(*, storage: S3StorageBase) -> None:
    """Raise StorageError unless the storage's credentials can list its bucket prefix."""
    regex_check(storage.regex_filter)
    bucket_check(Bucket.of(storage), prefix=storage.prefix)


def storage_save(*, storage: S3StorageBase, fields: dict[str, Any]) -> S3StorageBase:
    """Create or change a storage. The bucket is checked when the storage is new or a
    connection field changes (StorageError, nothing saved)."""
    for name, value in fields.items():
        setattr(storage, name, value)
    if storage.pk is None or CONNECTION_FIELDS & set(fields) or "regex_filter" in fields:
        storage_validate(storage=storage)
    storage.save()
    if isinstance(storage, S3ExportStorage):
        export_flag_forget(project_id=storage.project_id)
    return storage


def storage_delete(*, storage: S3StorageBase) -> None:
    """Forget the connection; the tasks it imported and the objects it wrote stay."""
    project_id = storage.project_id
    storage.delete()
    if isinstance(storage, S3ExportStorage):
        export_flag_forget(project_id=project_id)


def storage_sync_queue(*, storage: S3StorageBase) -> S3StorageBase:
    """Mark a storage queued for a sync (the caller queues the job after commit)."""
    type(storage)._default_manager.filter(pk=storage.pk).exclude(
        status=StorageStatus.IN_PROGRESS
    ).update(status=StorageStatus.QUEUED)
    storage.refresh_from_db()
    return storage


def _running(now: Any) -> Q:
    return Q(status=StorageStatus.IN_PROGRESS, sync_started_at__gt=now - STALE_SYNC)


def _claim(model: type[S3StorageBase], storage_id: int) -> bool:
    """Start a sync unless one is running (or died less than STALE_SYNC ago)."""
    now = timezone.now()
    return bool(
        model._default_manager.filter(pk=storage_id)
        .exclude(_running(now))
        .update(status=StorageStatus.IN_PROGRESS, sync_started_at=now, traceback="")
    )


def _finish(storage: S3StorageBase, count: int, errors: list[str]) -> None:
    storage.status = StorageStatus.FAILED if errors else StorageStatus.COMPLETED
    storage.traceback = "\n".join(errors[:MAX_REPORTED_ERRORS])
    storage.last_sync = timezone.now()
    storage.last_sync_count = count
    storage.save(update_fields=["status", "traceback", "last_sync", "last_sync_count"])


# --- source storages ------------------------------------------------------------------------
@dataclass
class _Sync:
    storage: S3ImportStorage
    known: set[str]
    count: int = 0
    errors: list[str] = field(default_factory=list)


def import_sync(*, storage_id: int) -> S3ImportStorage:
    """Import the keys of the storage's prefix not imported yet; idempotent. Returns the
    storage with its sync status (a running sync elsewhere: returned untouched)."""
    if not _claim(S3ImportStorage, storage_id):
        return S3ImportStorage.objects.get(pk=storage_id)
    storage = S3ImportStorage.objects.select_related("project").get(pk=storage_id)
    sync = _Sync(storage, set(storage.links.values_list("key", flat=True)))
    try:
        keys = [k for k in _keys(storage) if k not in sync.known]
        if storage.use_blob_urls:
            _import_media(sync, keys)
        else:
            for key in keys:
                _import_file(sync, key)
    except StorageError as exc:
        sync.errors.insert(0, str(exc))
    except Exception as exc:
        # Not left "in progress" for an hour: recorded, then raised for the worker's log.
        _finish(storage, sync.count, [f"unexpected error: {exc!r}", *sync.errors])
        raise
    _finish(storage, sync.count, sync.errors)
    return storage


def _keys(storage: S3ImportStorage) -> Iterable[str]:
    pattern = re.compile(storage.regex_filter) if storage.regex_filter else None
    for key in keys_iter(
        Bucket.of(storage), prefix=storage.prefix, recursive=storage.recursive_scan
    ):
        # Label Studio's rule: the pattern must match at the start of the whole key.
        if pattern is None or pattern.match(key):
            yield key


def _import_file(sync: _Sync, key: str) -> None:
    """One task file, all or nothing, recorded as imported in the same transaction."""
    storage = sync.storage
    body = object_read(Bucket.of(storage), key)
    try:
        with transaction.atomic():
            items = iter_items(filename=key, stream=io.BytesIO(body))
            summary = tasks_import(project=storage.project, items=items, user=None)
            S3ImportLink.objects.create(
                storage=storage,
                key=key,
                task_id=summary.task_ids[0] if summary.task_ids else None,
                task_count=summary.task_count,
            )
    except (ImportFormatError, ValidationError) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        sync.errors.append(f"{key}: {'; '.join(messages[:3])}")
        return
    sync.count += summary.task_count


def _media_field(project: Project, key: str) -> str:
    config = project.parsed_config
    kind = media_kind(key)
    for obj in config.objects.values():
        if kind and obj.tag in _OBJECT_TAGS[kind] and obj.value_field:
            return obj.value_field
    if not config.data_fields:
        raise StorageError(
            "the labelling config names no $field to hold the objects", field="use_blob_urls"
        )
    return config.data_fields[0]


def _import_media(sync: _Sync, keys: list[str]) -> None:
    """One task per object, ``{field: "s3://bucket/key"}``, in batches of MEDIA_BATCH."""
    storage = sync.storage
    for start in range(0, len(keys), MEDIA_BATCH):
        batch = keys[start : start + MEDIA_BATCH]
        items = [{_media_field(storage.project, k): f"s3://{storage.bucket}/{k}"} for k in batch]
        try:
            with transaction.atomic():
                summary = tasks_import(project=storage.project, items=items, user=None)
                S3ImportLink.objects.bulk_create(
                    S3ImportLink(storage=storage, key=k, task_id=t, task_count=1)
                    for k, t in zip(batch, summary.task_ids, strict=True)
                )
        except ValidationError as exc:
            sync.errors.append(f"{batch[0]}...: {'; '.join(exc.messages[:3])}")
            continue
        sync.count += summary.task_count


# --- target storages ------------------------------------------------------------------------
def _task_key(storage: S3ExportStorage, task_id: int) -> str:
    prefix = storage.prefix.strip("/")
    return f"{prefix}/{task_id}.json" if prefix else f"{task_id}.json"


def _write(storage: S3ExportStorage, task: dict[str, Any]) -> None:
    object_write(
        Bucket.of(storage),
        _task_key(storage, int(task["id"])),
        orjson.dumps(task),
        content_type="application/json",
    )


def export_sync(*, storage_id: int) -> S3ExportStorage:
    """Write every annotated task of the project to the storage (overwriting)."""
    if not _claim(S3ExportStorage, storage_id):
        return S3ExportStorage.objects.get(pk=storage_id)
    storage = S3ExportStorage.objects.select_related("project").get(pk=storage_id)
    count, errors = 0, []
    try:
        for task in export_tasks_iter(
            project=storage.project, flt=ExportFilter(only_annotated=True)
        ):
            _write(storage, task)
            count += 1
    except StorageError as exc:
        errors.append(str(exc))
    except Exception as exc:
        _finish(storage, count, [f"unexpected error: {exc!r}"])
        raise
    _finish(storage, count, errors)
    return storage


def export_task_write(*, task_id: int, project_id: int) -> int:
    """Write one task (with its annotations) to each target storage of its project; a
    failing storage records why and the others still get the task. Returns the writes."""
    storages = list(S3ExportStorage.objects.filter(project_id=project_id))
    if not storages:
        return 0
    project = storages[0].project
    flt = ExportFilter(task_ids=(task_id,))
    task = next(iter(export_tasks_iter(project=project, flt=flt)), None)
    if task is None:
        return 0
    written = 0
    for storage in storages:
        try:
            _write(storage, task)
        except StorageError as exc:
            S3ExportStorage.objects.filter(pk=storage.pk).update(
                status=StorageStatus.FAILED, traceback=str(exc)
            )
            continue
        written += 1
    return written


def project_has_export_storage(project_id: int) -> bool:
    """Cached (the annotation hot path asks on every submit)."""
    key = _export_flag_key(project_id)
    found = cache.get(key)
    if found is None:
        found = S3ExportStorage.objects.filter(project_id=project_id).exists()
        cache.set(key, found, timeout=300)
    return bool(found)


# --- scheduled syncs ------------------------------------------------------------------------
def storages_due(*, now: Any = None) -> list[int]:
    """Source storages whose ``sync_interval`` (minutes) has passed since their last sync
    and that no live sync is running (a queued one whose job was lost is queued again)."""
    now = now or timezone.now()
    rows = S3ImportStorage.objects.filter(sync_interval__gt=0).exclude(_running(now))
    return [
        pk
        for pk, interval, last in rows.values_list("pk", "sync_interval", "last_sync")
        if last is None or last + timedelta(minutes=interval) <= now
    ]
