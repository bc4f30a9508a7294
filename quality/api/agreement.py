"""Quality API: agreement figures, quality settings (overlap, escalation threshold) and the
arbitration queue.

Who: agreement and settings are for reviewers and managers (``Action.VIEW_ALL``; changing
settings needs ``MANAGE``): annotators get 403, they are not told which tasks overlap. The
arbitration queue is for managers and expert members (``projects.permissions.may_arbitrate``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import User
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.models import Project
from projects.permissions import Action, effective_role, may_arbitrate, member_level
from quality.agreement import ALL_METRICS, METRICS, AgreementInputError, project_agreement
from quality.metrics import Score
from quality.models import ArbitrationStatus
from quality.selectors import arbitration_item_get, arbitration_list, usernames
from quality.services import (
    SETTINGS_FIELDS,
    arbitration_resolve,
    project_agreement_refresh,
    quality_settings_get,
    quality_settings_update,
)


class ScoreOut(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="null: undefined, see reason")
    reason = serializers.CharField(allow_null=True)
    units = serializers.IntegerField(help_text="tasks compared")
    observed = serializers.FloatField(allow_null=True, help_text="share of agreeing pairs")


class LabelScoreOut(ScoreOut):
    name = serializers.CharField(help_text="the label (category)")


class LevelOut(serializers.Serializer):
    level = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)


class PairOut(serializers.Serializer):
    annotators = serializers.ListField(child=serializers.IntegerField())
    usernames = serializers.ListField(child=serializers.CharField())
    tasks = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


class AnnotatorOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    tasks = serializers.IntegerField(help_text="tasks shared with peers (summed over peers)")
    value = serializers.FloatField(allow_null=True, help_text="mean of their pairs' values")


class TaskValueOut(serializers.Serializer):
    id = serializers.IntegerField()
    value = serializers.FloatField()


class AgreementOut(serializers.Serializer):
    control = serializers.CharField()
    kind = serializers.CharField()
    metric = serializers.CharField()
    metrics = serializers.ListField(child=serializers.CharField(), help_text="for this control")
    project = ScoreOut()
    per_label = LabelScoreOut(many=True)
    macro = serializers.FloatField(allow_null=True)
    per_level = LevelOut(many=True)
    pairs = PairOut(many=True)
    annotators = AnnotatorOut(many=True)
    task_count = serializers.IntegerField(help_text="tasks with a per-task value")
    tasks = TaskValueOut(many=True, help_text="the lowest per-task values first")


class AgreementIn(serializers.Serializer):
    metric = serializers.ChoiceField(choices=ALL_METRICS, required=False)
    control = serializers.CharField(required=False, max_length=200)
    tasks = serializers.IntegerField(required=False, min_value=0, max_value=1000, default=100)


def _score(score: Score) -> dict[str, Any]:
    return {
        "value": score.value,
        "reason": score.reason,
        "units": score.units,
        "observed": score.observed,
    }


class AgreementView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, enum=list(ALL_METRICS)),
            OpenApiParameter("control", str, description="a control's name (default: first)"),
            OpenApiParameter("tasks", int, description="per-task values returned (0-1000)"),
        ],
        responses={200: AgreementOut, **ERRORS},
        description="Inter-annotator agreement of one control: per project, per annotator "
        "pair, per annotator against peers, per label (categorical), per taxonomy level, and "
        "the lowest per-task values. Undefined coefficients are null with a reason. "
        f"Metrics per kind of control: {METRICS}. Reviewers and managers only.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.VIEW_ALL)
        params = AgreementIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            report = project_agreement(
                project=project,
                control=params.validated_data.get("control"),
                metric=params.validated_data.get("metric"),
            )
        except AgreementInputError as error:
            raise serializers.ValidationError({error.field: [str(error)]}) from error
        names = usernames(user_ids=[a.user_id for a in report.annotators])
        lowest = sorted(report.task_values.items(), key=lambda kv: (kv[1], kv[0]))
        body = {
            "control": report.control,
            "kind": report.kind,
            "metric": report.metric,
            "metrics": list(METRICS[report.kind]),
            "project": _score(report.project),
            "per_label": [{"name": k, **_score(s)} for k, s in report.per_label.items()],
            "macro": report.macro,
            "per_level": [{"level": k, "value": v} for k, v in report.per_level.items()],
            "pairs": [
                {
                    "annotators": [p.a, p.b],
                    "usernames": [names.get(p.a, ""), names.get(p.b, "")],
                    "tasks": p.tasks,
                    "value": p.score.value,
                    "reason": p.score.reason,
                }
                for p in report.pairs
            ],
            "annotators": [
                {
                    "user_id": a.user_id,
                    "username": names.get(a.user_id, ""),
                    "tasks": a.tasks,
                    "value": a.value,
                }
                for a in report.annotators
            ],
            "task_count": len(report.task_values),
            "tasks": [{"id": t, "value": v} for t, v in lowest[: params.validated_data["tasks"]]],
        }
        return Response(AgreementOut(body).data)


class RefreshOut(serializers.Serializer):
    tasks = serializers.IntegerField(help_text="tasks with an agreement value")


class AgreementRefreshView(APIView):
    @extend_schema(
        request=None,
        responses={200: RefreshOut, **ERRORS},
        description="Recompute every task's agreement (the data manager's Agreement column) "
        "and escalate the low ones. Managers only.",
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        return Response(RefreshOut({"tasks": project_agreement_refresh(project=project)}).data)


class QualitySettingsSerializer(serializers.Serializer):
    overlap_percentage = serializers.IntegerField(min_value=0, max_value=100, required=False)
    overlap_annotators = serializers.IntegerField(min_value=2, max_value=20, required=False)
    ambiguous_to_all = serializers.BooleanField(required=False)
    agreement_threshold = serializers.FloatField(
        min_value=0.0, max_value=1.0, allow_null=True, required=False
    )


class QualitySettingsView(APIView):
    @extend_schema(responses={200: QualitySettingsSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.VIEW_ALL)
        return Response(QualitySettingsSerializer(quality_settings_get(project=project)).data)

    @extend_schema(
        request=QualitySettingsSerializer,
        responses={200: QualitySettingsSerializer, **ERRORS},
        description="Change the overlap share, the annotators per overlapped task, whether "
        "tasks with meta.ambiguous go to all of them, and the escalation threshold (null: "
        "off). Tasks nobody has started are sampled again. Managers only.",
    )
    def put(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = QualitySettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k in SETTINGS_FIELDS}
        saved = quality_settings_update(project=project, user=request_user(request), **changes)
        return Response(QualitySettingsSerializer(saved).data)


def _arbiter_project(request: Request, pk: int) -> Project:
    project = project_or_404(request, pk)
    level = member_level(project=project, user=request_user(request))
    if not may_arbitrate(role=effective_role(project), level=level):
        raise PermissionDenied("Managers and expert members decide escalated tasks.")
    return project


class ArbitrationAnnotationOut(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()
    result = serializers.JSONField()


class ArbitrationRowOut(serializers.Serializer):
    task_id = serializers.IntegerField()
    agreement = serializers.FloatField()
    created_at = serializers.DateTimeField()
    task_data = serializers.JSONField(source="data")
    annotations = ArbitrationAnnotationOut(many=True)


class ArbitrationListOut(serializers.Serializer):
    items = ArbitrationRowOut(many=True)


class ArbitrationListView(APIView):
    @extend_schema(
        responses={200: ArbitrationListOut, **ERRORS},
        description="Open escalated tasks (agreement below the project's threshold), oldest "
        "first, with every annotator's result. Managers and expert members.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = _arbiter_project(request, pk)
        return Response(ArbitrationListOut({"items": arbitration_list(project=project)}).data)


class ArbitrationResolveIn(serializers.Serializer):
    annotation = serializers.IntegerField(required=False, help_text="an annotation to adopt")
    result = serializers.JSONField(required=False, help_text="or the expert's own result")


class ArbitrationResolveOut(serializers.Serializer):
    task_id = serializers.IntegerField()
    annotation = serializers.IntegerField(help_text="the ground-truth annotation")


class ArbitrationConflictOut(serializers.Serializer):
    status_code = serializers.IntegerField()
    detail = serializers.CharField()


class ArbitrationResolveView(APIView):
    @extend_schema(
        request=ArbitrationResolveIn,
        responses={200: ArbitrationResolveOut, 409: ArbitrationConflictOut, **ERRORS},
        description="Decide an escalated task: adopt one of its annotations (``annotation``) "
        "or give a result; it is saved as the task's ground truth by the caller and the task "
        "leaves the queue (audited). 409 when the task is not in the queue.",
    )
    def post(self, request: Request, pk: int, task_id: int) -> Response:
        project = _arbiter_project(request, pk)
        body = ArbitrationResolveIn(data=request.data)
        body.is_valid(raise_exception=True)
        item = arbitration_item_get(project=project, task_id=task_id)
        if item is None or item.status != ArbitrationStatus.OPEN:
            if not project.tasks.filter(pk=task_id).exists():
                raise NotFound(f"Task {task_id} not found.")
            return Response(
                {"status_code": 409, "detail": "This task is not in the arbitration queue."},
                status=status.HTTP_409_CONFLICT,
            )
        user: User = request_user(request)
        decision = arbitration_resolve(
            item=item,
            user=user,
            annotation_id=body.validated_data.get("annotation"),
            result=body.validated_data.get("result"),
        )
        return Response(ArbitrationResolveOut({"task_id": task_id, "annotation": decision.pk}).data)
