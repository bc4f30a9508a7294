from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=request_user(request))
        return Response({"token": token.key})


class CurrentUserResetTokenView(APIView):
    @extend_schema(request=None, responses={200: TokenOut})
    def post(self, request: Request) -> Response:
        user: User = request_user(request)
        return Response({"token": api_token_rotate(user=user)})
