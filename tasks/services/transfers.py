"""Import and export runs: the same code in the request and in a Celery worker.

An import reads its sources (saved uploads, media files, URLs) as one stream of items into
``tasks_import`` (all or nothing). Progress goes to the cache, since the import's own
transaction hides its writes until commit; the job row keeps the outcome.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotator.audit import audit_record
from annotator.jobs_runtime import job_claim, job_heartbeat, job_kind, job_retry
from annotator.models import User
from projects.labelconfig import LabelConfig
from projects.models import Project
from projects.services import project_broadcast
from tasks.exporters import FORMATS, ExportError, export_stream
from tasks.importers import (
    ImportFormatError,
    iter_items,
    iter_url_items,
    media_kind,
    safe_media_name,
    sniff_media,
)
from tasks.models import ExportJob, ImportJob, JobStatus
from tasks.selectors import ExportFilter, export_task_count, export_tasks_iter
from tasks.services.imports import ImportRowsError, tasks_import
from tasks.storage.media import media_reference

# The object tags that display each media kind, for uploads that become tasks.
MEDIA_OBJECT_TAGS = {"image": ("Image",), "audio": ("Audio", "AudioPlus"), "video": ("Video",)}


@dataclass(frozen=True)
class Upload:
    """A file of an import request: its client name, content type and an open binary file."""

    name: str
    content_type: str | None
    # An UploadedFile, or the request itself for a raw body: anything with read().
    file: Any


def _progress_key(job_id: int) -> str:
    return f"import-progress-{job_id}"


def import_progress(*, job: ImportJob) -> int:
    if job.status == JobStatus.RUNNING:
        return int(cache.get(_progress_key(job.pk), job.rows_done))
    return job.rows_done


def _media_field(config: LabelConfig, kind: str, name: str) -> str:
    for obj in config.objects.values():
        if obj.tag in MEDIA_OBJECT_TAGS.get(kind, ()) and obj.value_field:
            return obj.value_field
    raise ImportFormatError(
        f"the labelling config has no {kind} object to show {kind} files", filename=name
    )


def import_job_create(
    *, project: Project, user: User | None, uploads: list[Upload], urls: list[str]
) -> ImportJob:
    """Save the uploads to storage (task files to parse later, media files as the tasks'
    media) and record the job. Nothing is parsed yet."""
    for upload in uploads:
        size = getattr(upload.file, "size", None)
        if size is not None and size > settings.IMPORT_MAX_FILE_BYTES:
            raise ImportFormatError(
                f"the file is larger than IMPORT_MAX_FILE_BYTES ({settings.IMPORT_MAX_FILE_BYTES}"
                " bytes)",
                filename=upload.name,
            )
    job = ImportJob.objects.create(
        project=project, created_by=user, sources=[u.name for u in uploads] + urls
    )
    saved: list[dict[str, Any]] = []
    try:
        _uploads_save(project, job, uploads, saved)
    except ImportFormatError:
        # A bad file after good ones: nothing of this import stays behind.
        for source in saved:
            default_storage.delete(source["path"])
        job.delete()
        raise
    saved.extend({"kind": "url", "url": url} for url in urls)
    job.files = saved
    job.save(update_fields=["files"])
    return job


def _uploads_save(
    project: Project, job: ImportJob, uploads: list[Upload], saved: list[dict[str, Any]]
) -> None:
    """Store each upload (appended to ``saved`` as it goes); media are checked first."""
    for upload in uploads:
        kind = media_kind(upload.name)
        if kind is not None:
            name = safe_media_name(upload.name)
            head = upload.file.read(64)
            upload.file.seek(0)
            if not sniff_media(head, kind):
                raise ImportFormatError(f"the content is not a {kind} file", filename=upload.name)
            path = default_storage.save(
                f"projects/{project.pk}/media/{uuid.uuid4().hex[:8]}-{name}", File(upload.file)
            )
            saved.append({"kind": "media", "media": kind, "path": path, "name": upload.name})
        else:
            stem = PurePosixPath(upload.name.replace("\\", "/")).name or "upload"
            path = default_storage.save(
                f"imports/{job.pk}/{uuid.uuid4().hex[:8]}-{stem[-100:]}", File(upload.file)
            )
            saved.append(
                {
                    "kind": "file",
                    "path": path,
                    "name": upload.name,
                    "content_type": upload.content_type,
                }
            )


def _items(project: Project, job: ImportJob) -> Iterator[Any]:
    config = project.parsed_config
    for source in job.files:
        if source["kind"] == "url":
            yield from iter_url_items(
                [source["url"]], allow_private=settings.OUTBOUND_ALLOW_PRIVATE_URLS
            )
        elif source["kind"] == "media":
            field = _media_field(config, source["media"], source["name"])
            # A stable reference: with S3 it is signed when shown (tasks/storage/media.py).
            yield {field: media_reference(source["path"])}
        else:
            with default_storage.open(source["path"], "rb") as handle:
                for item in iter_items(
                    filename=source["name"], stream=handle, content_type=source.get("content_type")
                ):
                    yield _txt_field(config, source["name"], item)


def _txt_field(config: LabelConfig, name: str, item: Any) -> Any:
    """Plain-text lines arrive as ``{"text": line}``; give them the config's text field."""
    if (
        name.lower().removesuffix(".gz").endswith(".txt")
        and config.data_fields
        and "text" not in config.data_fields
    ):
        return {config.data_fields[0]: item["text"]}
    return item


def import_job_run(*, job_id: int, keep_ids: bool = False) -> tuple[ImportJob, list[int]]:
    """Run a queued import, or resume one whose worker died (its transaction rolled back:
    it starts over from the saved files). A message delivered twice runs it once."""
    kind = job_kind(ImportJob)
    claimed = job_claim(kind, job_id, started_at=timezone.now(), rows_done=0, errors=[])
    job = ImportJob.objects.select_related("project", "created_by").get(pk=job_id)
    if not claimed:
        return job, []
    cache.delete(_progress_key(job_id))
    with job_heartbeat(kind, job_id):
        task_ids = _import(job, keep_ids=keep_ids)
    cache.delete(_progress_key(job_id))
    for source in job.files:
        if source["kind"] == "file":
            default_storage.delete(source["path"])
    project_broadcast(
        project_id=job.project_id,
        event={
            "type": "import.finished",
            "import": job.pk,
            "status": job.status,
            "task_count": job.task_count,
        },
    )
    return job, task_ids


def _import(job: ImportJob, *, keep_ids: bool) -> list[int]:
    try:
        with transaction.atomic():
            summary = tasks_import(
                project=job.project,
                items=_items(job.project, job),
                user=job.created_by,
                keep_ids=keep_ids,
                progress=lambda n: cache.set(_progress_key(job.pk), n, timeout=3600),
            )
            # Completed in the import's own transaction: when the tasks become visible the
            # job is no longer running, so no second claim can import them again.
            job.status = JobStatus.COMPLETED
            job.task_count, job.annotation_count = summary.task_count, summary.annotation_count
            job.prediction_count, job.rows_done = summary.prediction_count, summary.task_count
            job.finished_at = timezone.now()
            job.save()
            return summary.task_ids
    except ImportRowsError as exc:
        _fail(job, exc.rows)
    except ImportFormatError as exc:
        _fail(job, [{"row": exc.row, "field": exc.field or "file", "message": str(exc)}])
        _drop_media(job)
    except ValidationError as exc:
        _fail(
            job,
            [
                {"row": None, "field": k, "message": m}
                for k, ms in exc.message_dict.items()
                for m in ms
            ],
        )
        _drop_media(job)
    job.finished_at = timezone.now()
    job.save()
    return []


def import_job_retry(*, job: ImportJob) -> ImportJob:
    """Queue a failed import again (its worker kept dying, a URL was down). Its saved files
    must still be there: a failure of its rows dropped them, and the same rows would fail."""
    if job.status != JobStatus.FAILED:
        raise ValidationError(
            {"status": [f"the import is {job.status}: only a failed one can be retried"]}
        )
    gone = [
        source["name"]
        for source in job.files
        if source["kind"] in ("file", "media") and not default_storage.exists(source["path"])
    ]
    if gone:
        raise ValidationError(
            {"file": [f"the uploaded files are gone ({', '.join(gone)}): import them again"]}
        )
    if not job_retry(job_kind(ImportJob), job.pk, reset={"errors": [], "rows_done": 0}):
        raise ValidationError({"status": ["the import is no longer failed"]})
    job.refresh_from_db()
    return job


def export_job_retry(*, job: ExportJob) -> ExportJob:
    if job.status != JobStatus.FAILED:
        raise ValidationError(
            {"status": [f"the export is {job.status}: only a failed one can be retried"]}
        )
    if not job_retry(job_kind(ExportJob), job.pk, reset={"error": ""}):
        raise ValidationError({"status": ["the export is no longer failed"]})
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, errors: list[dict[str, Any]]) -> None:
    job.status = JobStatus.FAILED
    job.errors = errors


def _drop_media(job: ImportJob) -> None:
    """A failed import leaves no orphan media behind."""
    for source in job.files:
        if source["kind"] == "media":
            default_storage.delete(source["path"])


# --- exports ----------------------------------------------------------------------------------
def export_open(
    *, project: Project, export_type: str, flt: ExportFilter, actor: User | None = None
) -> Iterator[bytes]:
    """The export as a stream of bytes; ExportError (a 400) before any byte is produced.
    Audited when opened (``actor``: the request's user unless given)."""
    stream = export_stream(
        export_type,
        config=project.parsed_config,
        tasks=export_tasks_iter(project=project, flt=flt, raw_json=export_type == "JSON"),
    )
    audit_record(
        action="export.create",
        actor=actor,
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        detail={"export_type": export_type, "filter": dataclasses.asdict(flt)},
    )
    return stream


def export_job_run(*, job_id: int) -> ExportJob:
    """Run a queued export, or redo one whose worker died; a message delivered twice runs
    it once."""
    kind = job_kind(ExportJob)
    claimed = job_claim(kind, job_id, error="")
    job = ExportJob.objects.select_related("project").get(pk=job_id)
    if not claimed:
        return job
    with job_heartbeat(kind, job_id):
        _export(job)
    project_broadcast(
        project_id=job.project_id,
        event={"type": "export.finished", "export": job.pk, "status": job.status},
    )
    return job


def _export(job: ExportJob) -> None:
    flt = ExportFilter(**job.options)
    fmt = FORMATS.get(job.export_type)
    try:
        stream = export_open(
            project=job.project, export_type=job.export_type, flt=flt, actor=job.created_by
        )
        path = f"exports/{job.project_id}/export-{job.pk}.{fmt.extension if fmt else 'bin'}"
        job.size = _save_stream(path, stream)
    except ExportError as exc:
        job.status, job.error = JobStatus.FAILED, str(exc)
    else:
        job.status, job.file = JobStatus.COMPLETED, path
        job.task_count = export_task_count(project=job.project, flt=flt)
    job.finished_at = timezone.now()
    job.save()


def _save_stream(path: str, stream: Iterator[bytes]) -> int:
    """Write a byte stream to storage through a temporary file (flat memory, S3 or disk)."""
    size = 0
    with tempfile.TemporaryFile() as tmp:
        for chunk in stream:
            tmp.write(chunk)
            size += len(chunk)
        tmp.seek(0)
        if default_storage.exists(path):
            default_storage.delete(path)
        default_storage.save(path, File(tmp))
    return size
