from django.contrib import admin
from django.http import HttpRequest

from accounts.models import Invitation, SSOGroupRole, SSOMembership


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


@admin.register(SSOGroupRole)
class SSOGroupRoleAdmin(admin.ModelAdmin):
    """Which identity provider group gives which role. The identity providers themselves are
    the "Social applications" (provider OpenID Connect or SAML)."""

    list_display = ("provider", "group", "organization", "project", "role_display", "level")
    list_filter = ("provider", "project_role", "organization_role")
    search_fields = ("group", "provider")
    raw_id_fields = ("organization", "project")
    fields = (
        "provider",
        "group",
        "organization",
        "project",
        "organization_role",
        "project_role",
        "level",
    )

    @admin.display(description="role")
    def role_display(self, obj: SSOGroupRole) -> str:
        return obj.project_role or obj.organization_role


@admin.register(SSOMembership)
class SSOMembershipAdmin(admin.ModelAdmin):
    """Memberships single sign-on gave (removed by it when the groups stop mapping to them)."""

    list_display = ("user", "provider", "organization", "project", "created_at")
    list_filter = ("provider",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user", "organization", "project")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
