"""Reads of the accounts glue: API tokens and the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from annotator.models import ApiToken, User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show when and what)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken | None:
    """One of the user's tokens; None for another user's (the API answers 404)."""
    return ApiToken.objects.filter(user=user, pk=token_id).select_related("user").first()
