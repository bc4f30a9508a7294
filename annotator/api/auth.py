"""``Authorization: Token <key>``, checked with one plain query.

DRF's own class builds an ORM query (token joined to its user) on every API request, and
compiling it cost more than running it (about a third of a next-task request before). Keys
are stored hashed (``ApiToken``): the lookup is by the SHA-256 of the key sent, on the
unique index of ``key_hash``, and a revoked token matches no row, so revoking works at the
next request. The rules are DRF's: unknown key or inactive user -> 401 "Invalid token." /
"User inactive or deleted.".
"""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from annotator.models import User, api_token_hash
from annotator.rawsql import columns_of, fetch_model

_USER_BY_KEY = (
    f"SELECT {columns_of(User, 'u')} FROM annotator_api_token t"  # nosec B608 # noqa: S608 (constants)
    " JOIN annotator_user u ON u.id = t.user_id"
    " WHERE t.key_hash = %s AND t.revoked_at IS NULL"
)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request: Request) -> tuple[User, str] | None:
        # A header that is not latin-1 cannot come off the wire, but a WSGI caller (a test
        # client, an embedding app) can hand one in: it is a bad header, not a crash.
        try:
            return super().authenticate(request)  # type: ignore[no-any-return]
        except UnicodeEncodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None

    def authenticate_credentials(self, key: str) -> tuple[User, str]:
        user = fetch_model(User, _USER_BY_KEY, [api_token_hash(key)])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, key
