from django.contrib import admin

from projects.admin import ScopedAdmin
from quality.models import ArbitrationItem, QualitySettings, ReviewDecision


@admin.register(QualitySettings)
class QualitySettingsAdmin(ScopedAdmin):
    list_display = (
        "project",
        "overlap_percentage",
        "overlap_annotators",
        "ambiguous_to_all",
        "agreement_threshold",
    )
    list_select_related = ("project",)


@admin.register(ArbitrationItem)
class ArbitrationItemAdmin(ScopedAdmin):
    list_display = ("id", "project", "task", "agreement", "status", "resolved_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("project", "resolved_by")
    raw_id_fields = ("task", "decision", "resolved_by")


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ScopedAdmin):
    list_display = ("id", "annotation", "action", "reviewer", "author", "created_at")
    list_filter = ("action",)
    list_select_related = ("annotation", "reviewer", "author")
