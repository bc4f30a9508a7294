from django.contrib import admin
from django.http import HttpRequest

from activelearn.models import QueueRound, QueueSettings
from projects.admin import ScopedAdmin


@admin.register(QueueSettings)
class QueueSettingsAdmin(ScopedAdmin):
    list_display = ("project", "strategy", "batch_size", "exploration", "diversity", "rare_cover")
    list_select_related = ("project",)


@admin.register(QueueRound)
class QueueRoundAdmin(ScopedAdmin):
    """Read-only: rounds are the record of what the queue did."""

    list_display = ("id", "project", "model_version", "strategy", "scored", "seconds", "created_at")
    list_select_related = ("project",)
    readonly_fields = ("project", "model_version", "strategy", "scored", "batch", "seconds")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
