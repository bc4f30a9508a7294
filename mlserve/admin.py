from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from mlserve.models import (
    MLBackend,
    ModelVersion,
    PredictionProbabilities,
    ProjectMLSettings,
    TaskEmbedding,
)
from mlserve.services import project_backends_flag_reset
from projects.admin import ScopedAdmin


@admin.register(MLBackend)
class MLBackendAdmin(ScopedAdmin):
    list_display = (
        "id",
        "title",
        "project",
        "url",
        "state",
        "is_interactive",
        "model_version",
        "updated_at",
    )
    list_filter = ("state", "is_interactive", "project")
    list_select_related = ("project",)
    search_fields = ("title", "url")
    exclude = ("basic_auth_pass",)

    # The submit path reads a cached "has backends" flag per project (mlserve.services.remote).
    def save_model(self, request: HttpRequest, obj: MLBackend, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        project_backends_flag_reset(project_id=obj.project_id)

    def delete_model(self, request: HttpRequest, obj: MLBackend) -> None:
        super().delete_model(request, obj)
        project_backends_flag_reset(project_id=obj.project_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MLBackend]) -> None:
        projects = set(queryset.values_list("project_id", flat=True))
        super().delete_queryset(request, queryset)
        for project_id in projects:
            project_backends_flag_reset(project_id=project_id)


@admin.register(ModelVersion)
class ModelVersionAdmin(ScopedAdmin):
    list_display = ("id", "name", "project", "status", "is_active", "train_size", "finished_at")
    list_filter = ("status", "is_active", "project")
    list_select_related = ("project",)
    readonly_fields = ("metrics", "artifact", "annotations_seen")


@admin.register(ProjectMLSettings)
class ProjectMLSettingsAdmin(ScopedAdmin):
    list_display = ("project", "retrain_every", "control")
    list_select_related = ("project",)


@admin.register(TaskEmbedding)
class TaskEmbeddingAdmin(ScopedAdmin):
    """Read-only: vectors are derived data, recomputed from the task's text."""

    scope = "task__project"
    list_display = ("id", "task", "encoder")
    readonly_fields = ("task", "encoder", "vector")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PredictionProbabilities)
class PredictionProbabilitiesAdmin(ScopedAdmin):
    scope = "version__project"
    list_display = ("id", "prediction", "version")
    readonly_fields = ("prediction", "version", "probabilities")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
