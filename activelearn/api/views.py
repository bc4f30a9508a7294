"""The annotation queue of a project: settings, a refresh on demand, the recent rounds."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from activelearn.models import QueueRound, Strategy
from activelearn.selectors import learning_loop
from activelearn.services import queue_refresh, queue_settings_get, queue_settings_update
from annotator.api.inputs import valid_input
from projects.api.access import project_or_404
from projects.api.views import ERRORS
from projects.permissions import Action


class QueueSettingsIO(serializers.Serializer):
    strategy = serializers.ChoiceField(choices=Strategy.choices, required=False)
    batch_size = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    exploration = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    diversity = serializers.BooleanField(required=False)
    rare_cover = serializers.BooleanField(
        required=False, help_text="each rarely predicted class gets a task in every batch"
    )
    exploration_adaptive = serializers.BooleanField(
        required=False, help_text="shrink the exploration share as validation accuracy rises"
    )
    weight_field = serializers.CharField(max_length=200, required=False, allow_blank=True)


class QueueRoundOut(serializers.ModelSerializer):
    class Meta:
        model = QueueRound
        fields = (
            "id",
            "model_version",
            "strategy",
            "scored",
            "batch",
            "note",
            "seconds",
            "created_at",
        )


class QueueView(APIView):
    @extend_schema(responses={200: dict, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The queue's settings and its last 20 rounds (each with its batch: task ids in
        queue order and why each was chosen)."""
        project = project_or_404(request, pk)
        rounds = QueueRound.objects.filter(project=project).order_by("-id")[:20]
        return Response(
            {
                "settings": QueueSettingsIO(queue_settings_get(project=project)).data,
                "rounds": QueueRoundOut(rounds, many=True).data,
            }
        )

    @extend_schema(request=QueueSettingsIO, responses={200: QueueSettingsIO, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(QueueSettingsIO, request.data)
        return Response(QueueSettingsIO(queue_settings_update(project=project, **data)).data)


class QueueRefreshView(APIView):
    @extend_schema(request=None, responses={200: QueueRoundOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Score every unlabelled task now with the active model (cold start without one)."""
        project = project_or_404(request, pk, Action.MANAGE)
        return Response(QueueRoundOut(queue_refresh(project=project)).data)


class LearningView(APIView):
    @extend_schema(responses={200: dict, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The loop round by round (one round per model version): labels used and added,
        validation accuracy and macro-F1, the median seconds per annotation made while the
        version served, how many of its predictions were accepted unchanged, and a stopping
        hint when the curve has flattened."""
        project = project_or_404(request, pk)
        return Response(learning_loop(project=project).to_dict())
