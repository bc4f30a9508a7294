from django.contrib import admin
from django.http import HttpRequest

from projects.admin import ScopedAdmin
from tasks.models import (
    Annotation,
    Draft,
    ExportJob,
    IdempotencyKey,
    ImportJob,
    Prediction,
    S3ExportStorage,
    S3ImportLink,
    S3ImportStorage,
    Task,
    TaskAssignment,
    TaskLock,
)


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    list_display = (
        "id",
        "project",
        "priority",
        "overlap",
        "total_annotations",
        "cancelled_annotations",
        "total_predictions",
        "is_labeled",
        "created_at",
    )
    list_filter = ("project", "is_labeled")
    list_select_related = ("project",)
    search_fields = ("id",)
    readonly_fields = (
        "total_annotations",
        "cancelled_annotations",
        "total_predictions",
        "is_labeled",
    )
    show_full_result_count = False


@admin.register(Annotation)
class AnnotationAdmin(ScopedAdmin):
    list_display = (
        "id",
        "task",
        "project",
        "completed_by",
        "was_cancelled",
        "ground_truth",
        "lead_time",
        "version",
        "updated_at",
    )
    list_filter = ("project", "was_cancelled", "ground_truth")
    list_select_related = ("project", "completed_by", "task")
    raw_id_fields = ("task", "parent_prediction", "parent_annotation")
    search_fields = ("completed_by__username",)
    show_full_result_count = False


@admin.register(Draft)
class DraftAdmin(ScopedAdmin):
    scope = "task__project"
    list_display = ("id", "task", "user", "annotation", "version", "updated_at")
    list_select_related = ("user", "task")
    raw_id_fields = ("task", "annotation")
    search_fields = ("user__username",)


@admin.register(Prediction)
class PredictionAdmin(ScopedAdmin):
    list_display = ("id", "task", "project", "model_version", "score", "created_at")
    list_filter = ("project", "model_version")
    list_select_related = ("project", "task")
    raw_id_fields = ("task",)
    show_full_result_count = False


@admin.register(TaskAssignment)
class TaskAssignmentAdmin(ScopedAdmin):
    list_display = ("id", "task", "user", "assigned_by", "created_at")
    list_filter = ("project",)
    list_select_related = ("task", "user", "assigned_by")
    raw_id_fields = ("task", "user", "assigned_by")


@admin.register(TaskLock)
class TaskLockAdmin(ScopedAdmin):
    scope = "task__project"
    list_display = ("task", "user", "expires_at", "created_at")
    list_select_related = ("user", "task")
    raw_id_fields = ("task",)


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdmin):
    list_display = (
        "id",
        "project",
        "status",
        "task_count",
        "rows_done",
        "created_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "project")
    list_select_related = ("project", "created_by")
    readonly_fields = ("errors", "files", "sources")


@admin.register(ExportJob)
class ExportJobAdmin(ScopedAdmin):
    list_display = (
        "id",
        "project",
        "export_type",
        "status",
        "task_count",
        "size",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "export_type", "project")
    list_select_related = ("project",)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ScopedAdmin):
    """Read-only: which annotation a submit's Idempotency-Key made (kept a day)."""

    scope = "task__project"
    list_display = ("key", "user", "task", "annotation", "created_at")
    readonly_fields = ("user", "key", "task", "annotation", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class _StorageAdmin(ScopedAdmin):
    list_display = ("id", "project", "bucket", "prefix", "status", "last_sync", "last_sync_count")
    list_filter = ("status",)
    list_select_related = ("project",)
    # The secret is write-only in the API; the admin does not show it either.
    exclude = ("aws_secret_access_key", "aws_session_token")


@admin.register(S3ImportStorage)
class S3ImportStorageAdmin(_StorageAdmin):
    pass


@admin.register(S3ExportStorage)
class S3ExportStorageAdmin(_StorageAdmin):
    pass


@admin.register(S3ImportLink)
class S3ImportLinkAdmin(ScopedAdmin):
    scope = "storage__project"
    list_display = ("id", "storage", "key", "task")
    readonly_fields = ("storage", "key", "task")
