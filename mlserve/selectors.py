"""Reads of mlserve."""

from __future__ import annotations

from mlserve.models import ModelKind, ModelStatus, ModelVersion


def active_versions(*, project_id: int, kind: str = ModelKind.INTENT) -> list[ModelVersion]:
    """The project's active, trained versions of one kind, one per control (by control)."""
    return list(
        ModelVersion.objects.filter(
            project_id=project_id, kind=kind, is_active=True, status=ModelStatus.READY
        ).order_by("control")
    )
