from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.conf import settings

from accounts.selectors import invitation_from_session


class SignupForm(AllauthSignupForm):
    """With open sign-up off, only the address an invitation was sent to may sign up."""

    def clean_email(self) -> Any:
        email = super().clean_email()
        if settings.ACCOUNT_SIGNUP_OPEN:
            return email
        request = context.request  # set by allauth's AccountMiddleware
        invitation = invitation_from_session(request) if request is not None else None
        if invitation is None or invitation.email.lower() != str(email).lower():
            raise forms.ValidationError(
                "Sign-up is by invitation only: use the address the invitation was sent to."
            )
        return email
