"""The login and callback views of ``accounts.oidc.provider.OIDCProvider`` (allauth's, with
the verifying adapter)."""

from __future__ import annotations

import hmac
from typing import Any

from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp, SocialLogin, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404, HttpRequest, HttpResponse

# The key of the nonce in allauth's stashed state (``OIDCProvider.redirect`` puts it there).
STATE_NONCE = "oidc_nonce"


class VerifyingOIDCAdapter(OpenIDConnectOAuth2Adapter):
    # The nonce the authorization request sent, read from the state by the callback view
    # before the code is exchanged.
    expected_nonce: str | None = None

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ) -> SocialLogin:
        if not kwargs["response"].get("id_token"):
            # Without one there is no nonce to check nor a signed statement of who this is.
            raise OAuth2Error("the identity provider sent no id_token")
        login = super().complete_login(request, app, token, **kwargs)
        data = login.account.extra_data
        sent = data["id_token"].get("nonce")
        expected = self.expected_nonce
        if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
            raise OAuth2Error("the id_token does not carry this sign-in's nonce")
        userinfo = data.get("userinfo")
        if userinfo is not None and userinfo.get("sub") != data["id_token"].get("sub"):
            raise OAuth2Error("userinfo and id_token name different subjects")
        return login  # type: ignore[no-any-return]

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        return jwtkit.verify_and_decode(  # type: ignore[no-any-return]
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


class VerifyingCallbackView(OAuth2CallbackView):
    adapter: VerifyingOIDCAdapter

    def _get_state(self, request: HttpRequest, provider: Any) -> tuple[Any, Any]:
        state, response = super()._get_state(request, provider)
        if state is not None:
            self.adapter.expected_nonce = state.get(STATE_NONCE)
        return state, response


def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        view = OAuth2LoginView.adapter_view(VerifyingOIDCAdapter(request, provider_id))
        return view(request)  # type: ignore[no-any-return]
    except SocialApp.DoesNotExist:
        raise Http404 from None


def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        view = VerifyingCallbackView.adapter_view(VerifyingOIDCAdapter(request, provider_id))
        return view(request)  # type: ignore[no-any-return]
    except SocialApp.DoesNotExist:
        raise Http404 from None
