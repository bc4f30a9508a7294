from __future__ import annotations

from rest_framework import serializers

from accounts.models import Invitation
from projects.models import AnnotatorLevel, OrganizationRole, ProjectRole


class ProjectInviteIn(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=ProjectRole.choices, default=ProjectRole.ANNOTATOR)
    level = serializers.ChoiceField(choices=AnnotatorLevel.choices, default=AnnotatorLevel.JUNIOR)


# Ownership is not handed out by invitation.
INVITABLE_ORGANIZATION_ROLES = [
    (OrganizationRole.MEMBER.value, OrganizationRole.MEMBER.label),
    (OrganizationRole.ADMIN.value, OrganizationRole.ADMIN.label),
]


class OrganizationInviteIn(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=INVITABLE_ORGANIZATION_ROLES, default=OrganizationRole.MEMBER
    )


INVITATION_FIELDS: tuple[str, ...] = (
    "id",
    "email",
    "organization",
    "project",
    "role",
    "level",
    "status",
    "invited_by",
    "created_at",
    "expires_at",
    "accepted_at",
    "accepted_by",
)


class InvitationOut(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", default=None, allow_null=True)
    accepted_by = serializers.CharField(
        source="accepted_by.username", default=None, allow_null=True
    )

    class Meta:
        model = Invitation
        fields = INVITATION_FIELDS

    def get_role(self, invitation: Invitation) -> str:
        return invitation.project_role or invitation.organization_role


class InvitationIssuedOut(InvitationOut):
    url = serializers.CharField(read_only=True, help_text="The link (also mailed); works once.")

    class Meta(InvitationOut.Meta):
        fields = (*INVITATION_FIELDS, "url")


class InvitationAcceptOut(serializers.Serializer):
    organization = serializers.IntegerField()
    project = serializers.IntegerField(allow_null=True)
    role = serializers.CharField()
