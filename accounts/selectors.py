"""Reads of invitations."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Invitation
from annotator.models import api_token_hash

SESSION_INVITATION = "accounts_invitation_id"


def invitation_get_by_key(*, key: str) -> Invitation | None:
    """The invitation of a link's key (any status), by the hash of the key."""
    if not key or len(key) > 100:
        return None
    return (
        Invitation.objects.filter(key_hash=api_token_hash(key))
        .select_related("organization", "project", "invited_by")
        .first()
    )


def invitation_list(
    *, organization_id: int | None = None, project_id: int | None = None
) -> QuerySet[Invitation]:
    """Invitations to one project, or to one organization itself, newest first."""
    invitations = Invitation.objects.select_related("invited_by", "accepted_by")
    if project_id is not None:
        invitations = invitations.filter(project_id=project_id)
    elif organization_id is not None:
        invitations = invitations.filter(organization_id=organization_id, project__isnull=True)
    else:
        raise ValueError("give project_id or organization_id")
    return invitations.order_by("-created_at", "-id")


def invitation_from_session(request: HttpRequest) -> Invitation | None:
    """The still usable invitation a signed-out visitor opened (kept in their session)."""
    invitation_id = request.session.get(SESSION_INVITATION)
    if not invitation_id:
        return None
    invitation = Invitation.objects.filter(pk=invitation_id).select_related("project").first()
    if invitation is None or invitation.status != "pending":
        return None
    return invitation
