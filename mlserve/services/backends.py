from __future__ import annotations

from typing import Any

from django.db import transaction

from mlserve.models import MLBackend
from projects.models import Project
from projects.services import outbound_url_check


@transaction.atomic
def ml_backend_create(*, project: Project, url: str, **fields: Any) -> MLBackend:
    outbound_url_check(url=url)
    backend = MLBackend(project=project, url=url, **fields)
    backend.full_clean()
    backend.save()
    return backend


@transaction.atomic
def ml_backend_update(*, backend: MLBackend, **fields: Any) -> MLBackend:
    if "url" in fields:
        outbound_url_check(url=fields["url"])
    for name, value in fields.items():
        setattr(backend, name, value)
    backend.full_clean()
    backend.save()
    return backend
