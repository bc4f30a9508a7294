from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from projects.models import (
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Webhook,
    WebhookDelivery,
)
from projects.permissions import admin_organization_ids, project_managed_q
from projects.services import label_config_check


class ScopedAdmin(admin.ModelAdmin):
    """Staff who are not superusers see, in the admin, only the rows of the projects they
    manage (projects.permissions) on top of Django's model permissions: a staff flag given
    to one organization's admin must not open every other organization's data.
    ``scope`` is the path to the project ("" on Project itself), or ``organization:<path>``
    for rows that belong to an organization."""

    scope = "project"

    def get_queryset(self, request: HttpRequest) -> QuerySet:  # type: ignore[type-arg]
        queryset = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return queryset
        if self.scope.startswith("organization:"):
            path = self.scope.removeprefix("organization:")
            orgs = admin_organization_ids(user=user)  # type: ignore[arg-type]
            return queryset.filter(**{f"{path}__in" if path else "pk__in": orgs})
        managed = Project.objects.filter(project_managed_q(user=user)).values("pk")  # type: ignore[arg-type]
        return queryset.filter(**{f"{self.scope}__in" if self.scope else "pk__in": managed})

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A filter on a relation lists only the related rows of the scoped queryset: the
        # plain one lists every organization and project of the database by title.
        relations = {f.name for f in self.model._meta.get_fields() if f.is_relation}
        return [
            (name, admin.RelatedOnlyFieldListFilter)
            if isinstance(name, str) and name in relations
            else name
            for name in super().get_list_filter(request)
        ]


class OrganizationMemberInline(admin.TabularInline):
    model = OrganizationMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(ScopedAdmin):
    scope = "organization:"
    list_display = ("title", "created_by", "created_at")
    search_fields = ("title",)
    inlines = (OrganizationMemberInline,)


class ProjectForm(ModelForm):
    class Meta:
        model = Project
        fields = "__all__"  # noqa: DJ007 - the admin edits every setting

    def clean_label_config(self) -> str:
        xml = self.cleaned_data["label_config"]
        try:
            label_config_check(label_config=xml)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["label_config"]) from exc
        return xml


class ProjectMemberInline(admin.TabularInline):
    model = ProjectMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(ScopedAdmin):
    scope = ""
    form = ProjectForm
    list_display = (
        "title",
        "organization",
        "maximum_annotations",
        "show_collab_predictions",
        "created_by",
        "created_at",
    )
    list_filter = ("organization", "show_collab_predictions", "created_at")
    search_fields = ("title", "description")
    inlines = (ProjectMemberInline,)


@admin.register(ProjectMember)
class ProjectMemberAdmin(ScopedAdmin):
    list_display = ("user", "project", "role", "level", "certified_at", "created_at")
    list_filter = ("role", "level", "project")
    search_fields = ("user__username", "project__title")
    autocomplete_fields = ("user", "project")


@admin.register(Webhook)
class WebhookAdmin(ScopedAdmin):
    scope = "organization:organization"
    list_display = (
        "id",
        "url",
        "organization",
        "project",
        "is_active",
        "send_for_all_actions",
        "created_at",
    )
    list_filter = ("is_active", "organization")
    list_select_related = ("organization", "project")
    search_fields = ("url",)


@admin.register(OrganizationMember)
class OrganizationMemberAdmin(ScopedAdmin):
    scope = "organization:organization"
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "organization__title")
    autocomplete_fields = ("user", "organization")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdmin):
    """The delivery log, read-only: what was sent, when and how the receiver answered."""

    scope = "organization:webhook__organization"
    list_display = (
        "id",
        "webhook",
        "action",
        "status",
        "attempts",
        "response_status",
        "created_at",
    )
    list_filter = ("status", "action")
    list_select_related = ("webhook",)
    readonly_fields = tuple(f.name for f in WebhookDelivery._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
