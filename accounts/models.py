from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models import (
    AnnotatorLevel,
    Organization,
    OrganizationRole,
    Project,
    ProjectRole,
)


class Invitation(models.Model):
    """An emailed link that makes its holder a member of an organization, or of one of its
    projects with a role and level. The link's key is stored hashed (SHA-256), works once
    (``accepted_at``) and until ``expires_at``."""

    email = models.EmailField()
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    # Organization invitations: the organization role; project ones: "member".
    organization_role = models.CharField(
        max_length=16, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER
    )
    project_role = models.CharField(max_length=16, choices=ProjectRole.choices, blank=True)
    level = models.CharField(max_length=16, choices=AnnotatorLevel.choices, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="invite_org_created"),
            models.Index(fields=["project", "-created_at"], name="invite_project_created"),
        ]
        constraints = [
            # A project invitation names the project role; an organization one does not.
            models.CheckConstraint(
                condition=(
                    Q(project__isnull=True, project_role="", level="")
                    | Q(
                        project__isnull=False,
                        project_role__in=ProjectRole.values,
                        level__in=AnnotatorLevel.values,
                        organization_role=OrganizationRole.MEMBER,
                    )
                ),
                name="invite_roles_match_target",
            ),
            models.CheckConstraint(
                condition=Q(organization_role__in=OrganizationRole.values),
                name="invite_org_role_valid",
            ),
        ]

    def __str__(self) -> str:
        target = self.project or self.organization
        return f"{self.email} to {target}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class SSOGroupRole(models.Model):
    """A group of an identity provider that gives its members a role: in ``project`` (with
    ``project_role`` and ``level``) or, without a project, in ``organization`` (with
    ``organization_role``). Applied at every single sign-on through that provider
    (``accounts.sso.sso_roles_apply``)."""

    provider = models.CharField(
        max_length=200,
        help_text="The Provider ID of the identity provider's social application (OIDC: as "
        "its sign-in URL names it, 'corp' in /accounts/oidc/corp/login/; SAML: 'saml' when "
        "the app has none).",
    )
    group = models.CharField(
        max_length=255, help_text="The group's name exactly as the identity provider sends it."
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sso_group_roles"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="sso_group_roles"
    )
    organization_role = models.CharField(
        max_length=16, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER
    )
    project_role = models.CharField(max_length=16, choices=ProjectRole.choices, blank=True)
    level = models.CharField(max_length=16, choices=AnnotatorLevel.choices, blank=True)

    class Meta:
        verbose_name = "SSO group role"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "group", "project"],
                condition=Q(project__isnull=False),
                name="sso_group_project_unique",
            ),
            models.UniqueConstraint(
                fields=["provider", "group", "organization"],
                condition=Q(project__isnull=True),
                name="sso_group_org_unique",
            ),
            # A project mapping names the project role; an organization one does not, and
            # ownership is never given by a group.
            models.CheckConstraint(
                condition=(
                    Q(
                        project__isnull=True,
                        project_role="",
                        level="",
                        organization_role__in=[OrganizationRole.ADMIN, OrganizationRole.MEMBER],
                    )
                    | Q(
                        project__isnull=False,
                        project_role__in=ProjectRole.values,
                        level__in=AnnotatorLevel.values,
                        organization_role=OrganizationRole.MEMBER,
                    )
                ),
                name="sso_group_roles_match_target",
            ),
        ]

    def __str__(self) -> str:
        target = self.project or self.organization
        role = self.project_role or self.organization_role
        return f"{self.provider}:{self.group} -> {role} of {target}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.project is not None and self.project.organization_id != self.organization_id:
            errors["project"] = "the project is not in this organization"
        if self.project_id and not self.project_role:
            errors["project_role"] = "a project mapping needs a project role"
        if self.project_id and not self.level:
            self.level = AnnotatorLevel.JUNIOR
        if not self.project_id and (self.project_role or self.level):
            errors["project_role"] = "choose a project for a project role"
        if self.organization_role == OrganizationRole.OWNER:
            errors["organization_role"] = "ownership is not given by a group"
        if self.project_id:
            self.organization_role = OrganizationRole.MEMBER
        if errors:
            raise ValidationError(errors)


class SSOMembership(models.Model):
    """A membership single sign-on gave (a project's, or an organization's when ``project`` is
    empty): the next sign-in through ``provider`` removes it when none of the person's groups
    maps to it any more. Memberships given by hand have no row and are left alone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_memberships"
    )
    provider = models.CharField(max_length=200)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "provider", "project"],
                condition=Q(project__isnull=False),
                name="sso_membership_project_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "provider", "organization"],
                condition=Q(project__isnull=True),
                name="sso_membership_org_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project or self.organization} via {self.provider}"
