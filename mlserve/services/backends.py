from __future__ import annotations

from typing import Any

from django.db import transaction

from mlserve.models import MLBackend
from mlserve.services.remote import ml_backend_check, project_backends_flag_reset
from projects.models import Project
from projects.services import outbound_url_check

# Fields whose change means a new connection: the backend is checked again.
CONNECTION_FIELDS = frozenset({"url", "auth_method", "basic_auth_user", "basic_auth_pass"})


@transaction.atomic
def _backend_save(backend: MLBackend, fields: dict[str, Any]) -> MLBackend:
    for name, value in fields.items():
        setattr(backend, name, value)
    backend.full_clean()
    backend.save()
    return backend


def ml_backend_create(*, project: Project, url: str, **fields: Any) -> MLBackend:
    """Save the backend, then check it (health and setup, outside the transaction: the call
    waits on the network): it comes back connected (CO, with its model version) or in error
    (ER, with the reason)."""
    outbound_url_check(url=url)
    backend = _backend_save(MLBackend(project=project, url=url), fields)
    project_backends_flag_reset(project_id=project.pk)
    return ml_backend_check(backend=backend)


def ml_backend_update(*, backend: MLBackend, **fields: Any) -> MLBackend:
    if "url" in fields:
        outbound_url_check(url=fields["url"])
    reconnect = any(
        name in CONNECTION_FIELDS and getattr(backend, name) != value
        for name, value in fields.items()
    )
    backend = _backend_save(backend, fields)
    return ml_backend_check(backend=backend) if reconnect else backend


@transaction.atomic
def ml_backend_delete(*, backend: MLBackend) -> None:
    project_id = backend.project_id
    backend.delete()
    transaction.on_commit(lambda: project_backends_flag_reset(project_id=project_id))
