"""Label Studio's ML-backend protocol served for our built-in models:
``/api/ml-backend/<project id>/`` is the URL to give Label Studio (or another Annotator).

Credentials: ``Authorization: Token <key>``, or basic auth with an API token as the
password (Label Studio sends only basic auth to ML backends; the user name is not used).
Health and setup need a member of the project, predict too; the webhook (which can start a
training run) a manager.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.auth import TokenAuthentication
from annotator.api.inputs import valid_input
from annotator.models import User
from mlserve.services import (
    served_health,
    served_predict,
    served_setup,
    served_webhook,
)
from mlserve.services.serving import WEBHOOK_ACTIONS
from projects.api.access import project_or_404
from projects.api.views import ERRORS
from projects.permissions import Action

MAX_TASKS = 1000


class BasicTokenAuthentication(authentication.BasicAuthentication):
    """Basic auth whose password is an API token (what Label Studio can send)."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[User, None]:
        user, _key = TokenAuthentication().authenticate_credentials(password)
        return user, None


class BasicTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "mlserve.api.protocol.BasicTokenAuthentication"
    name = "basicToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "any user name, an API token as the password",
        }


AUTHENTICATION = [
    TokenAuthentication,
    BasicTokenAuthentication,
    authentication.SessionAuthentication,
]


class ServedPredictIn(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.DictField(), max_length=MAX_TASKS)
    project = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    label_config = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    model_version = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    params = serializers.DictField(required=False, allow_null=True)


class ServedWebhookIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(WEBHOOK_ACTIONS))


class _ProtocolView(APIView):
    authentication_classes = AUTHENTICATION  # type: ignore[assignment]


class ServedHealthView(_ProtocolView):
    @extend_schema(responses={200: dict, **ERRORS}, description="ML-backend protocol: health.")
    def get(self, request: Request, pk: int) -> Response:
        return Response(served_health(project=project_or_404(request, pk)))


class ServedSetupView(_ProtocolView):
    @extend_schema(
        request=dict, responses={200: dict, **ERRORS}, description="ML-backend protocol: setup."
    )
    def post(self, request: Request, pk: int) -> Response:
        return Response(served_setup(project=project_or_404(request, pk)))


class ServedPredictView(_ProtocolView):
    @extend_schema(
        request=ServedPredictIn,
        responses={200: dict, **ERRORS},
        description="ML-backend protocol: predictions of the project's active built-in "
        'models, `{"results": [{"result", "score", "model_version"}]}`, one per task.',
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        data = valid_input(ServedPredictIn, request.data)
        return Response({"results": served_predict(project=project, tasks=data["tasks"])})


class ServedWebhookView(_ProtocolView):
    @extend_schema(
        request=ServedWebhookIn,
        responses={201: dict, **ERRORS},
        description="ML-backend protocol: START_TRAINING queues a new version of each intent "
        "model; annotation events are accepted.",
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(ServedWebhookIn, request.data)
        body = served_webhook(project=project, action=data["action"])
        return Response(body, status=status.HTTP_201_CREATED)
