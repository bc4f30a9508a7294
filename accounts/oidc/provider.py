"""allauth's OpenID Connect provider, hardened: every authorization request carries a nonce
that the id_token must echo, and the id_token's signature is checked against the provider's
JWKS even when it came straight from the token endpoint (allauth skips that check there,
which the specification allows over TLS only; a loopback or misconfigured plain-HTTP IdP
would otherwise be trusted blindly).

Installed through ``SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"]``: the
provider keeps the id ``openid_connect``, so apps made in the admin work unchanged, and its
URLs (``accounts.oidc.urls``) keep allauth's names."""

from __future__ import annotations

import secrets
from typing import Any

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest, HttpResponse

from accounts.oidc.views import STATE_NONCE, VerifyingOIDCAdapter


class OIDCProvider(OpenIDConnectProvider):
    oauth2_adapter_class = VerifyingOIDCAdapter
    pkce_enabled_default = True

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        nonce = secrets.token_urlsafe(24)
        auth_params = kwargs.pop("auth_params", None)
        auth_params = dict(auth_params if auth_params is not None else self.get_auth_params())
        auth_params["nonce"] = nonce
        # The nonce travels in allauth's stashed state (the session), next to PKCE's verifier.
        kwargs[STATE_NONCE] = nonce
        return super().redirect(  # type: ignore[no-any-return]
            request, process, next_url, data, auth_params=auth_params, **kwargs
        )
