"""Invitations: create (and mail), accept once before expiry, revoke."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Invitation
from annotator.audit import audit_record
from annotator.models import User, api_token_hash
from projects.models import (
    AnnotatorLevel,
    Organization,
    OrganizationMember,
    OrganizationRole,
    Project,
    ProjectMember,
    ProjectRole,
)
from projects.services import organization_member_set, project_member_set


class InvitationUnusable(Exception):
    """The link was used, withdrawn or is past its expiry; the message says which."""


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    key: str  # the only copy of the link's secret
    url: str


def invitation_url(*, base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/invites/{key}/"


@transaction.atomic
def invitation_create(
    *,
    invited_by: User,
    email: str,
    organization: Organization,
    base_url: str,
    project: Project | None = None,
    organization_role: str = OrganizationRole.MEMBER,
    project_role: str = ProjectRole.ANNOTATOR,
    level: str = AnnotatorLevel.JUNIOR,
) -> IssuedInvitation:
    """Invite ``email`` to the organization (with ``organization_role``) or to ``project``
    (with ``project_role`` and ``level``); the link is mailed after commit."""
    if project is not None and project.organization_id != organization.pk:
        raise ValidationError({"project": ["the project is not in this organization"]})
    if organization_role == OrganizationRole.OWNER:
        raise ValidationError({"role": ["ownership is not given by invitation"]})
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation(
        email=email.strip(),
        organization=organization,
        project=project,
        organization_role=OrganizationRole.MEMBER if project else organization_role,
        project_role=project_role if project else "",
        level=level if project else "",
        key_hash=api_token_hash(key),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + timedelta(hours=settings.INVITE_TTL_HOURS),
    )
    invitation.full_clean()
    invitation.save()
    url = invitation_url(base_url=base_url, key=key)
    audit_record(
        action="invite.create",
        actor=invited_by,
        object_type="invitation",
        object_id=invitation.pk,
        organization_id=organization.pk,
        project_id=project.pk if project else None,
        after=_audited(invitation),
    )
    transaction.on_commit(lambda: _send(invitation, url))
    return IssuedInvitation(invitation=invitation, key=key, url=url)


def _audited(invitation: Invitation) -> dict[str, str]:
    return {
        "email": invitation.email,
        "role": invitation.project_role or invitation.organization_role,
        "level": invitation.level,
        "expires_at": invitation.expires_at.isoformat(),
    }


def _send(invitation: Invitation, url: str) -> None:
    context = {
        "invitation": invitation,
        "url": url,
        "target": invitation.project or invitation.organization,
        "inviter": invitation.invited_by,
        "hours": settings.INVITE_TTL_HOURS,
    }
    send_mail(
        subject=render_to_string("accounts/email/invitation_subject.txt", context).strip(),
        message=render_to_string("accounts/email/invitation_message.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_check(*, invitation: Invitation) -> None:
    """Raise InvitationUnusable with a message a person can act on."""
    status = invitation.status
    if status == "accepted":
        when = f"{invitation.accepted_at:%Y-%m-%d %H:%M} UTC"
        raise InvitationUnusable(f"This invitation link was already used ({when}).")
    if status == "revoked":
        raise InvitationUnusable("This invitation was withdrawn.")
    if status == "expired":
        who = invitation.invited_by.username if invitation.invited_by else "the person who sent it"
        raise InvitationUnusable(
            f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC: "
            f"ask {who} for a new one."
        )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Invitation:
    """Make ``user`` a member of the invitation's organization or project; once only. A
    person who is already a member keeps their role (an invitation never demotes)."""
    invitation_check(invitation=invitation)
    now = timezone.now()
    # The conditional update is the lock: of two concurrent accepts, one matches.
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now, accepted_by=user)
    if not claimed:
        invitation.refresh_from_db()
        invitation_check(invitation=invitation)
        raise InvitationUnusable("This invitation link can no longer be used.")
    invitation.accepted_at, invitation.accepted_by = now, user
    if invitation.project is not None:
        if not ProjectMember.objects.filter(project=invitation.project, user=user).exists():
            project_member_set(
                project=invitation.project,
                user=user,
                role=invitation.project_role,
                level=invitation.level,
            )
    elif not OrganizationMember.objects.filter(
        organization=invitation.organization, user=user
    ).exists():
        organization_member_set(
            organization=invitation.organization, user=user, role=invitation.organization_role
        )
    audit_record(
        action="invite.accept",
        actor=user,
        object_type="invitation",
        object_id=invitation.pk,
        organization_id=invitation.organization_id,
        project_id=invitation.project_id,
        after={"email": invitation.email, "user": user.username},
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    if invitation.status != "pending":
        raise ValidationError({"invitation": [f"this invitation is {invitation.status}"]})
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action="invite.revoke",
        object_type="invitation",
        object_id=invitation.pk,
        organization_id=invitation.organization_id,
        project_id=invitation.project_id,
        before=_audited(invitation),
    )
    return invitation
