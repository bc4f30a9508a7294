from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import User
from annotator.services import api_token_rotate
from projects.api.access import request_user
from projects.api.serializers import UserSimpleOut


class TokenOut(serializers.Serializer):
    token = serializers.CharField()


class CurrentUserView(APIView):
    @extend_schema(responses={200: UserSimpleOut})
    def get(self, request: Request) -> Response:
        return Response(UserSimpleOut(request_user(request)).data)


class CurrentUserTokenView(APIView):
    """Label Studio's ``GET /api/current-user/token``: the caller's API token."""

    @extend_schema(responses={200: TokenOut})
    def get(self, request: Request) -> Response:
        token, _ = Token.objects.get_or_create(user=request_user(request))
        return Response({"token": token.key})


class CurrentUserResetTokenView(APIView):
    @extend_schema(request=None, responses={200: TokenOut})
    def post(self, request: Request) -> Response:
        user: User = request_user(request)
        return Response({"token": api_token_rotate(user=user)})


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
