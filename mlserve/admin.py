from django.contrib import admin
from django.http import HttpRequest

from mlserve.models import (
    MLBackend,
    ModelVersion,
    PredictionProbabilities,
    ProjectMLSettings,
    TaskEmbedding,
)
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
