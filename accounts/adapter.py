"""allauth glue: sign-up open or by invitation only, invitations accepted at sign-up, and
single sign-on's groups applied as roles at every SSO sign-in."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest

from accounts.selectors import SESSION_INVITATION, invitation_from_session
from accounts.services import InvitationUnusable, invitation_accept
from accounts.sso import sso_groups, sso_roles_apply
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


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """The identity provider decides who may sign in (``SSO_SIGNUP_OPEN``), whatever
        ``ACCOUNT_SIGNUP_OPEN`` says of local sign-up."""
        return settings.SSO_SIGNUP_OPEN or invitation_from_session(request) is not None

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        # A returning person: their groups may have changed since the last sign-in.
        if sociallogin.is_existing:
            _apply_groups(request, sociallogin)

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        _apply_groups(request, sociallogin)
        return user


def _apply_groups(request: HttpRequest, sociallogin: SocialLogin) -> None:
    account = sociallogin.account
    provider = account.get_provider(request)
    if not isinstance(sociallogin.user, User):
        return
    groups = sso_groups(
        provider_type=provider.id,
        app_settings=provider.app.settings if provider.app else {},
        extra_data=account.extra_data,
    )
    sso_roles_apply(user=sociallogin.user, provider=account.provider, groups=groups)
