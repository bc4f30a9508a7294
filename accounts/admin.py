from django.contrib import admin
from django.http import HttpRequest

from accounts.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are sent from the project page or the API (the link's key exists only in
    the mail): the admin lists them."""

    list_display = ("email", "organization", "project", "project_role", "status", "expires_at")
    list_filter = ("project_role", "organization_role")
    search_fields = ("email",)
    readonly_fields = ("key_hash", "accepted_at", "accepted_by", "invited_by", "created_at")
    raw_id_fields = ("organization", "project")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
