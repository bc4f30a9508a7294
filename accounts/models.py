from __future__ import annotations

from django.conf import settings
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
