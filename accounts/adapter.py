"""allauth glue: sign-up open or by invitation only, and invitations accepted at sign-up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest

from accounts.selectors import SESSION_INVITATION, invitation_from_session
from accounts.services import InvitationUnusable, invitation_accept
from annotator.models import User

SESSION_REDIRECT = "accounts_invitation_redirect"


def invitation_target_url(invitation: Any) -> str:
    return f"/projects/{invitation.project_id}/" if invitation.project_id else "/"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """``ACCOUNT_SIGNUP_OPEN``, or a visitor holding a usable invitation (for its address
        only: ``accounts.forms.SignupForm``)."""
        return settings.ACCOUNT_SIGNUP_OPEN or invitation_from_session(request) is not None

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit)
        invitation = invitation_from_session(request) if commit else None
        if invitation is not None and isinstance(user, User):
            try:
                invitation_accept(invitation=invitation, user=user)
            except InvitationUnusable as exc:
                messages.warning(request, str(exc))
            else:
                request.session[SESSION_REDIRECT] = invitation_target_url(invitation)
            request.session.pop(SESSION_INVITATION, None)
        return user

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return request.session.pop(SESSION_REDIRECT, None) or super().get_signup_redirect_url(
            request
        )
