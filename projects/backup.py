"""One project in one archive: ``manage.py project_backup`` and ``project_restore``.

The archive (tar.gz) holds ``manifest.json`` and one JSON-lines file per model in Django's
serialised form, primary keys included: its organization, the people its rows name (never
their password hashes: restored accounts sign in by password reset or single sign-on),
their memberships, the project, and every row that apps registered with ``backup_register``
(tasks, annotations, drafts, predictions, reviews, model versions, queue settings, the
project's audit records...). Caches that can be recomputed (embeddings, leases) stay out.

Restore writes the rows with their own keys in one transaction, so a failure leaves nothing
behind. A row whose key is already taken must be the same row (same fields; for an account,
the same username): then it is kept, which makes a restore into the database it came from
a no-op, and lets audit records (which nothing may delete) be restored after a project was
deleted. Anything else is a conflict, reported by model and key, and nothing is written.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, models, transaction

from projects.models import Organization, OrganizationMember, Project, ProjectMember

FORMAT = 1
_BATCH = 1000
# Fields of an account that an archive carries (no password hash, no permission grants).
_USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "date_joined")


@dataclass(frozen=True)
class _Entry:
    model: type[models.Model]
    project_filter: str  # lookup from the model to the project's id, e.g. "task__project"


_REGISTRY: list[_Entry] = []


def backup_register(model: type[models.Model], project_filter: str) -> None:
    """Apps above projects add their project-scoped models (in their AppConfig.ready), in
    restore order: a model after the models it points to."""
    if all(entry.model is not model for entry in _REGISTRY):
        _REGISTRY.append(_Entry(model, project_filter))


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _rows(project: Project) -> Iterator[tuple[type[models.Model], models.QuerySet[Any]]]:
    yield Project, Project.objects.filter(pk=project.pk)
    yield ProjectMember, ProjectMember.objects.filter(project=project)
    for entry in _REGISTRY:
        yield entry.model, entry.model._default_manager.filter(**{entry.project_filter: project.pk})


def _user_ids(querysets: list[tuple[type[models.Model], models.QuerySet[Any]]]) -> set[int]:
    """Every account the archived rows point to."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    ids: set[int] = set()
    for model, queryset in querysets:
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is user_model:
                ids.update(pk for pk in queryset.values_list(f.attname, flat=True).distinct() if pk)
    return ids


@dataclass
class BackupSummary:
    path: Path
    counts: dict[str, int] = field(default_factory=dict)


def project_backup(*, project: Project, path: Path) -> BackupSummary:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    scoped = list(_rows(project))
    users = _user_ids(scoped)
    sections: list[tuple[type[models.Model], models.QuerySet[Any], tuple[str, ...] | None]] = [
        (user_model, user_model.objects.filter(pk__in=users), _USER_FIELDS),
        (Organization, Organization.objects.filter(pk=project.organization_id), None),
        (
            OrganizationMember,
            OrganizationMember.objects.filter(
                organization_id=project.organization_id, user_id__in=users
            ),
            None,
        ),
        *((model, queryset, None) for model, queryset in scoped),
    ]
    summary = BackupSummary(path=path)
    with tarfile.open(path, "w:gz") as archive:
        for model, queryset, fields in sections:
            buffer = io.StringIO()
            count = 0
            for start in range(0, 1 << 62, _BATCH):
                batch = list(queryset.order_by("pk")[start : start + _BATCH])
                if not batch:
                    break
                serializers.serialize("jsonl", batch, fields=fields, stream=buffer)
                count += len(batch)
            _add(archive, f"{_label(model)}.jsonl", buffer.getvalue().encode())
            summary.counts[_label(model)] = count
        manifest = {
            "format": FORMAT,
            "project": project.pk,
            "title": project.title,
            "created_at": datetime.now(UTC).isoformat(),
            "order": [_label(model) for model, _, _ in sections],
            "counts": summary.counts,
        }
        _add(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
    return summary


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


class RestoreError(ValueError):
    pass


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.getmember(name) if name in archive.getnames() else None
    if member is None or not member.isfile():
        raise RestoreError(f"the archive has no {name}: not a project backup")
    extracted = archive.extractfile(member)
    assert extracted is not None
    return extracted.read()


def _comparable(obj: models.Model, fields: tuple[str, ...] | None) -> dict[str, Any]:
    data = json.loads(serializers.serialize("json", [obj], fields=fields))[0]["fields"]
    return dict(data)


@transaction.atomic
def project_restore(*, path: Path) -> BackupSummary:
    """Write the archive's rows with their own keys; all or nothing (see the module)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    try:
        archive = tarfile.open(path, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise RestoreError(f"{path}: not a readable tar.gz archive ({exc})") from None
    summary = BackupSummary(path=path)
    restored: list[type[models.Model]] = []
    with archive:
        manifest = json.loads(_read(archive, "manifest.json"))
        if manifest.get("format") != FORMAT:
            raise RestoreError(f"archive format {manifest.get('format')!r}, expected {FORMAT}")
        for label in manifest["order"]:
            try:
                model = apps.get_model(label)
            except LookupError:
                raise RestoreError(f"{label}: no such model in this version") from None
            is_user = model is user_model
            lines = _read(archive, f"{label}.jsonl").decode().splitlines()
            written = 0
            for start in range(0, len(lines), _BATCH):
                chunk = "\n".join(lines[start : start + _BATCH])
                objects = [d.object for d in serializers.deserialize("jsonl", chunk)]
                written += _write(model, objects, _USER_FIELDS if is_user else None, is_user)
            summary.counts[label] = written
            restored.append(model)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), restored):
                cursor.execute(statement)
    return summary


def _write(
    model: type[models.Model],
    objects: list[models.Model],
    fields: tuple[str, ...] | None,
    is_user: bool,
) -> int:
    existing = model._default_manager.in_bulk([o.pk for o in objects])
    new = []
    for obj in objects:
        current = existing.get(obj.pk)
        if current is None:
            if is_user:
                obj.set_unusable_password()  # type: ignore[attr-defined]
            new.append(obj)
            continue
        same = (
            getattr(current, "username", None) == getattr(obj, "username", None)
            if is_user
            else _comparable(current, fields) == _comparable(obj, fields)
        )
        if not same:
            raise RestoreError(
                f"{_label(model)} {obj.pk} exists with other values: restore into an empty "
                "database, or delete that row first"
            )
    with _stored_timestamps(model):
        model._default_manager.bulk_create(new)
    return len(new)


@contextmanager
def _stored_timestamps(model: type[models.Model]) -> Iterator[None]:
    """bulk_create stamps auto_now(_add) fields with the current time; a restore keeps the
    archived times (loaddata's raw save does the same), so they are off while it writes."""
    stamped = [
        (f, f.auto_now, f.auto_now_add)
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    for f, _, _ in stamped:
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, now, now_add in stamped:
            f.auto_now, f.auto_now_add = now, now_add  # type: ignore[attr-defined]
