from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, query_id, valid_input
from mlserve.jobs import backend_predict_run, backend_train_run
from mlserve.models import MLBackend, MLBackendAuth
from mlserve.services import (
    ml_backend_create,
    ml_backend_delete,
    ml_backend_update,
    predict_job_get,
)
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.permissions import Action
from projects.selectors import project_list_for_user


class MLBackendIn(serializers.Serializer):
    project = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    url = serializers.URLField(max_length=500, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    is_interactive = serializers.BooleanField(required=False)
    timeout = serializers.FloatField(required=False, min_value=0.1, max_value=3600)
    auth_method = serializers.ChoiceField(choices=MLBackendAuth.choices, required=False)
    basic_auth_user = serializers.CharField(max_length=200, required=False, allow_blank=True)
    basic_auth_pass = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )


class MLBackendOut(serializers.ModelSerializer):
    predict_job = serializers.SerializerMethodField(
        help_text="the last prediction run (POST .../predict): status, done/total, stored, "
        "invalid items with their reason, error"
    )

    class Meta:
        model = MLBackend
        fields = (
            "id",
            "project",
            "url",
            "title",
            "description",
            "is_interactive",
            "timeout",
            "auth_method",
            "basic_auth_user",
            "state",
            "error_message",
            "model_version",
            "created_at",
            "updated_at",
            "predict_job",
        )

    def get_predict_job(self, backend: MLBackend) -> dict[str, Any] | None:
        return predict_job_get(backend_id=backend.pk)


def _backend_or_404(request: Request, pk: int, action: Action = Action.VIEW) -> MLBackend:
    user = request_user(request)
    backend = (
        MLBackend.objects.filter(project__in=project_list_for_user(user=user), pk=pk)
        .select_related("project")
        .first()
    )
    if backend is None:
        raise NotFound(f"ML backend {pk} not found.")
    if action is not Action.VIEW:
        project_or_404(request, backend.project_id, action)
    return backend


class MLBackendListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("project", int, required=True)],
        responses={200: MLBackendOut(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        project_id = query_id(request.query_params, "project", required=True)
        assert project_id is not None
        project = project_or_404(request, project_id)
        return Response(MLBackendOut(project.ml_backends.order_by("id"), many=True).data)

    @extend_schema(request=MLBackendIn, responses={201: MLBackendOut, **ERRORS})
    def post(self, request: Request) -> Response:
        data = valid_input(MLBackendIn, request.data)
        for field in ("project", "url"):
            if field not in data:
                raise ValidationError({field: ["This field is required."]})
        project = project_or_404(request, data.pop("project"), Action.MANAGE)
        backend = ml_backend_create(project=project, url=data.pop("url"), **data)
        return Response(MLBackendOut(backend).data, status=status.HTTP_201_CREATED)


class MLBackendDetailView(APIView):
    @extend_schema(responses={200: MLBackendOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(MLBackendOut(_backend_or_404(request, pk)).data)

    @extend_schema(request=MLBackendIn, responses={200: MLBackendOut, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        backend = _backend_or_404(request, pk, Action.MANAGE)
        data = valid_input(MLBackendIn, request.data)
        data.pop("project", None)
        return Response(MLBackendOut(ml_backend_update(backend=backend, **data)).data)

    put = patch

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        ml_backend_delete(backend=_backend_or_404(request, pk, Action.MANAGE))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MLBackendTrainIn(serializers.Serializer):
    use_ground_truth = serializers.BooleanField(required=False, allow_null=True)


class MLBackendTrainView(APIView):
    @extend_schema(
        request=MLBackendTrainIn,
        responses={200: MLBackendOut, **ERRORS},
        description="Ask the backend to train (Label Studio's path): START_TRAINING to its "
        "/webhook, or the annotations to /train for older backends. A job; the answer shows "
        "the backend's state (TR, or ER with the reason once the job has run).",
    )
    def post(self, request: Request, pk: int) -> Response:
        backend = _backend_or_404(request, pk, Action.MANAGE)
        valid_input(MLBackendTrainIn, request.data)
        transaction.on_commit(lambda: backend_train_run.delay(backend.pk))
        backend.refresh_from_db()
        return Response(MLBackendOut(backend).data)


class MLBackendPredictView(APIView):
    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("batch_size", int, required=False)],
        responses={202: MLBackendOut, **ERRORS},
        description="Predict the project's tasks without a prediction of the backend's model "
        "version (at most `batch_size`), as a job: poll GET /api/ml/{id} (`predict_job`) or "
        "follow `ml_backend.progress` on the project's socket. Predictions that do not fit "
        "the labelling config are reported in `predict_job.invalid`, not stored.",
    )
    def post(self, request: Request, pk: int) -> Response:
        backend = _backend_or_404(request, pk, Action.MANAGE)
        limit = query_id(request.query_params, "batch_size")
        transaction.on_commit(lambda: backend_predict_run.delay(backend.pk, limit))
        backend.refresh_from_db()
        return Response(MLBackendOut(backend).data, status=status.HTTP_202_ACCEPTED)
