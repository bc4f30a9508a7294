"""Model versions of a project's built-in models: list side by side, train, promote/roll back."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import valid_input
from annotator.jobs_runtime import job_waiting_of
from mlserve.jobs import train_run
from mlserve.models import FinetuneMode, ModelVersion, ProjectMLSettings
from mlserve.services import (
    model_version_activate,
    model_version_create,
    model_version_retry,
    trainable_controls,
)
from projects.api.access import project_or_404
from projects.api.views import ERRORS
from projects.permissions import Action


class ModelVersionOut(serializers.ModelSerializer):
    waiting = serializers.SerializerMethodField(
        help_text='what holds the training up ("" when nothing does): no worker running, or '
        "its worker went silent"
    )

    class Meta:
        model = ModelVersion
        fields = (
            "id", "control", "kind", "number", "name", "status", "progress", "encoder",
            "train_size", "validation_size", "metrics", "is_active", "promotion", "error",
            "train_seconds", "created_at", "finished_at", "attempts", "heartbeat_at", "waiting",
        )  # fmt: skip

    def get_waiting(self, version: ModelVersion) -> str:
        return job_waiting_of(version)


class TrainIn(serializers.Serializer):
    control = serializers.CharField(
        max_length=200,
        required=False,
        help_text="an intent (Choices/Taxonomy) or entity (Labels on Text) control; "
        "default: the config's first trainable control",
    )


class MLSettingsIn(serializers.Serializer):
    retrain_every = serializers.IntegerField(
        min_value=0, max_value=1_000_000, help_text="new annotations per retraining (0: off)"
    )
    control = serializers.CharField(max_length=200, required=False, allow_blank=True)
    language = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text='entity model language and intent encoder, e.g. "fr" ("": the majority '
        "`lang` of task data); English uses MiniLM, other languages the multilingual encoder",
    )
    finetune = serializers.ChoiceField(
        choices=FinetuneMode.choices,
        required=False,
        help_text='single-label intents: "off" (a head), "auto" (fine-tune the transformer '
        'when a GPU is present), "on" (fine-tune, on the CPU too)',
    )


def _learning_curve(versions: list[ModelVersion]) -> list[dict[str, Any]]:
    return [
        {
            "version": v.name,
            "train_size": v.train_size,
            "accuracy": v.metrics.get("accuracy"),
            "entity_f1": v.metrics.get("entity_f1"),
        }
        for v in sorted(versions, key=lambda v: v.number)
        if v.status == "ready"
    ]


class ModelVersionListView(APIView):
    @extend_schema(operation_id="projects_models_list", responses={200: dict, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """Every version, newest first, with its validation metrics; per control the
        learning curve (training-set size against validation accuracy, or entity F1)."""
        project = project_or_404(request, pk)
        versions = list(ModelVersion.objects.filter(project=project).order_by("-id"))
        controls = sorted({v.control for v in versions})
        return Response(
            {
                "versions": ModelVersionOut(versions, many=True).data,
                "learning_curves": {
                    c: _learning_curve([v for v in versions if v.control == c]) for c in controls
                },
                "trainable_controls": [c.name for c in trainable_controls(project.parsed_config)],
            }
        )

    @extend_schema(request=TrainIn, responses={202: ModelVersionOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Queue a new version of a control's model (a Celery job; progress on the project's
        websocket as ``model.progress`` events and in this resource)."""
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(TrainIn, request.data)
        controls = trainable_controls(project.parsed_config)
        control = data.get("control") or (controls[0].name if controls else "")
        version = model_version_create(project=project, control=control)
        train_run.delay(version.pk)
        version.refresh_from_db()
        return Response(ModelVersionOut(version).data, status=status.HTTP_202_ACCEPTED)


def _version_or_404(project_id: int, version_id: int) -> ModelVersion:
    version = ModelVersion.objects.filter(project_id=project_id, pk=version_id).first()
    if version is None:
        raise NotFound(f"Model version {version_id} not found.")
    return version


class ModelVersionDetailView(APIView):
    @extend_schema(responses={200: ModelVersionOut, **ERRORS})
    def get(self, request: Request, pk: int, version_id: int) -> Response:
        project = project_or_404(request, pk)
        return Response(ModelVersionOut(_version_or_404(project.pk, version_id)).data)


class ModelVersionActivateView(APIView):
    @extend_schema(request=None, responses={200: ModelVersionOut, **ERRORS})
    def post(self, request: Request, pk: int, version_id: int) -> Response:
        """Make this version the active one (promotion by hand, or rollback)."""
        project = project_or_404(request, pk, Action.MANAGE)
        version = model_version_activate(version=_version_or_404(project.pk, version_id))
        return Response(ModelVersionOut(version).data)


class ModelVersionRetryView(APIView):
    @extend_schema(request=None, responses={202: ModelVersionOut, **ERRORS})
    def post(self, request: Request, pk: int, version_id: int) -> Response:
        """Train a failed version again (its worker died, or the annotations lacked labels)."""
        project = project_or_404(request, pk, Action.MANAGE)
        version = model_version_retry(version=_version_or_404(project.pk, version_id))
        return Response(ModelVersionOut(version).data, status=status.HTTP_202_ACCEPTED)


class MLSettingsView(APIView):
    @extend_schema(request=MLSettingsIn, responses={200: MLSettingsIn, **ERRORS})
    def put(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(MLSettingsIn, request.data)
        settings, _ = ProjectMLSettings.objects.update_or_create(project=project, defaults=data)
        return Response(MLSettingsIn(settings).data)

    @extend_schema(responses={200: MLSettingsIn, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        settings = ProjectMLSettings.objects.filter(project=project).first()
        return Response(MLSettingsIn(settings or ProjectMLSettings(project=project)).data)
