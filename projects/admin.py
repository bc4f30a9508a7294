from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from projects.models import Organization, OrganizationMember, Project, ProjectMember, Webhook
from projects.services import label_config_check


class OrganizationMemberInline(admin.TabularInline):
    model = OrganizationMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
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
class ProjectAdmin(admin.ModelAdmin):
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
class ProjectMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "project", "role", "level", "created_at")
    list_filter = ("role", "level", "project")
    search_fields = ("user__username", "project__title")
    autocomplete_fields = ("user", "project")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
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
class OrganizationMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "organization__title")
    autocomplete_fields = ("user", "organization")
