"""Token sign-in for websockets, beside the session cookie of the browser pages.

Scripts and other servers send the API token as ``Authorization: Token <key>`` on the
upgrade request, or as ``?token=<key>`` where their client cannot set headers (browsers;
the query string may land in access logs, so prefer the header). The key is checked like
the REST API's (hashed ``ApiToken`` rows, revoked tokens refused). A wrong token leaves the
user anonymous: the consumer then refuses the connection (4401).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions

from annotator.api.auth import TokenAuthentication
from annotator.models import User


def token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, key = value.decode("latin-1").partition(" ")
            if kind.lower() == "token" and key.strip():
                return key.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    keys = query.get("token")
    return keys[0] if keys else None


def _user_for_token(key: str) -> User | AnonymousUser:
    try:
        user, _ = TokenAuthentication().authenticate_credentials(key)
    except exceptions.AuthenticationFailed:
        return AnonymousUser()
    return user


class TokenAuthMiddleware:
    """Inside Channels' AuthMiddlewareStack: a token, when sent, decides the user."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(
        self, scope: dict[str, Any], receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> Any:
        key = token_from_scope(scope)
        if key is not None:
            scope = {**scope, "user": await database_sync_to_async(_user_for_token)(key)}
        return await self.inner(scope, receive, send)
