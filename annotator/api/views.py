from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import valid_input
from annotator.models import ApiToken, User, api_token_hash
from annotator.selectors import api_token_get_for_user, api_token_list_for_user
from annotator.services import (
    IssuedToken,
    api_token_create,
    api_token_revoke,
    api_token_rotate,
    api_token_rotate_one,
)
from projects.api.access import request_user
from projects.api.serializers import UserSimpleOut


class TokenOut(serializers.Serializer):
    token = serializers.CharField()


class CurrentUserView(APIView):
    @extend_schema(responses={200: UserSimpleOut})
    def get(self, request: Request) -> Response:
        return Response(UserSimpleOut(request_user(request)).data)


# Name of the token GET /api/current-user/token issues to a browser session.
SESSION_TOKEN_NAME = "issued by GET /api/current-user/token"  # noqa: S105 (a label)


class CurrentUserTokenView(APIView):
    """Label Studio's ``GET /api/current-user/token``.

    Tokens are stored hashed, so the server cannot show an existing key again. Called with a
    token (``Authorization: Token <key>``), it answers with that same key, as Label Studio
    does. Called from a browser session, it issues a NEW token (named "issued by GET
    /api/current-user/token") on every call and leaves the other tokens working; list and
    revoke them under ``/api/current-user/tokens`` or on the account's token page.
    """

    @extend_schema(responses={200: TokenOut})
    def get(self, request: Request) -> Response:
        if isinstance(request.auth, str):  # TokenAuthentication: the key the caller sent
            return Response({"token": request.auth})
        issued = api_token_create(user=request_user(request), name=SESSION_TOKEN_NAME)
        return Response({"token": issued.key})


class CurrentUserResetTokenView(APIView):
    """Label Studio's ``POST /api/current-user/reset-token``: with a token, that token is
    replaced (the old key stops working at once); from a browser session, every token of the
    user is revoked and one new key is returned."""

    @extend_schema(request=None, responses={200: TokenOut})
    def post(self, request: Request) -> Response:
        user: User = request_user(request)
        if isinstance(request.auth, str):
            token = ApiToken.objects.get(key_hash=api_token_hash(request.auth))
            return Response({"token": api_token_rotate_one(token=token).key})
        return Response({"token": api_token_rotate(user=user)})


class ApiTokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


TOKEN_FIELDS: tuple[str, ...] = ("id", "name", "prefix", "created_at", "revoked_at", "active")


class ApiTokenOut(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = TOKEN_FIELDS


class ApiTokenIssuedOut(ApiTokenOut):
    key = serializers.CharField(read_only=True, help_text="The secret: shown this once only.")

    class Meta(ApiTokenOut.Meta):
        fields = (*TOKEN_FIELDS, "key")


def _issued(issued: IssuedToken) -> dict[str, Any]:
    return {**ApiTokenOut(issued.token).data, "key": issued.key}


def _own_token(request: Request, token_id: int) -> ApiToken:
    token = api_token_get_for_user(user=request_user(request), token_id=token_id)
    if token is None:
        raise NotFound(f"Token {token_id} not found.")
    return token


INVALID = {400: OpenApiResponse(description="Validation error naming each field and problem")}
NOT_YOURS = {404: OpenApiResponse(description="Not found, or not your token")}


class ApiTokenListView(APIView):
    """The caller's API tokens (hashed: only the prefix of each key is shown)."""

    @extend_schema(responses={200: ApiTokenOut(many=True)})
    def get(self, request: Request) -> Response:
        tokens = api_token_list_for_user(user=request_user(request))
        return Response(ApiTokenOut(tokens, many=True).data)

    @extend_schema(request=ApiTokenIn, responses={201: ApiTokenIssuedOut, **INVALID})
    def post(self, request: Request) -> Response:
        data = valid_input(ApiTokenIn, request.data)
        issued = api_token_create(user=request_user(request), name=data["name"])
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class ApiTokenDetailView(APIView):
    @extend_schema(responses={200: ApiTokenOut, **NOT_YOURS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ApiTokenOut(_own_token(request, pk)).data)

    @extend_schema(responses={204: None, **NOT_YOURS})
    def delete(self, request: Request, pk: int) -> Response:
        """Revoke the token: requests with its key get 401 from now on."""
        api_token_revoke(token=_own_token(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenRotateView(APIView):
    @extend_schema(request=None, responses={201: ApiTokenIssuedOut, **INVALID, **NOT_YOURS})
    def post(self, request: Request, pk: int) -> Response:
        """Revoke the token and issue a new one with the same name."""
        issued = api_token_rotate_one(token=_own_token(request, pk))
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class VersionOut(serializers.Serializer):
    release = serializers.CharField()
    edition = serializers.CharField()


class VersionView(APIView):
    """Label Studio's ``GET /api/version``. Its SDK reads ``edition``: "Community" makes
    ``exports.as_json()`` and friends use the synchronous ``/export`` we serve."""

    @extend_schema(responses={200: VersionOut})
    def get(self, request: Request) -> Response:
        return Response(
            {"release": settings.SPECTACULAR_SETTINGS["VERSION"], "edition": "Community"}
        )


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Every other path under /api/: a JSON 404 in the API's error shape, whatever the method,
    so clients calling a Label Studio endpoint we lack read an API error, not an HTML page."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authenticates: anonymous callers get 401
        raise NotFound(f"No API endpoint at {request.path}.")
