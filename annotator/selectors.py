"""Reads of the accounts glue: API tokens and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from annotator.models import ApiToken, AuditEvent, User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show when and what)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken | None:
    """One of the user's tokens; None for another user's (the API answers 404)."""
    return ApiToken.objects.filter(user=user, pk=token_id).select_related("user").first()


@dataclass(frozen=True)
class AuditFilter:
    """Filters of an audit list: ``actions`` exact names, or prefixes ending in ``.``
    (``annotation.`` = every annotation event)."""

    actions: tuple[str, ...] = ()
    actor_id: int | None = None
    object_type: str = ""
    object_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # keyset cursor: events older than this id


def audit_event_list(
    *,
    flt: AuditFilter,
    project_id: int | None = None,
    organization_id: int | None = None,
) -> QuerySet[AuditEvent]:
    """Events of one project or one organization (its projects' events included), newest
    first by id; served by the (project_id, id) and (organization_id, id) indexes."""
    if (project_id is None) == (organization_id is None):
        raise ValueError("give exactly one of project_id and organization_id")
    events = AuditEvent.objects.all()
    if project_id is not None:
        events = events.filter(project_id=project_id)
    else:
        events = events.filter(organization_id=organization_id)
    if flt.actions:
        match = Q()
        for action in flt.actions:
            match |= Q(action__startswith=action) if action.endswith(".") else Q(action=action)
        events = events.filter(match)
    if flt.actor_id is not None:
        events = events.filter(actor_id=flt.actor_id)
    if flt.object_type:
        events = events.filter(object_type=flt.object_type)
    if flt.object_id is not None:
        events = events.filter(object_id=flt.object_id)
    if flt.since is not None:
        events = events.filter(created_at__gte=flt.since)
    if flt.until is not None:
        events = events.filter(created_at__lt=flt.until)
    if flt.before_id is not None:
        events = events.filter(id__lt=flt.before_id)
    return events.order_by("-id")
