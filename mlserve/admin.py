from django.contrib import admin

from mlserve.models import MLBackend
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
