"""Quality workflow API: gold marks, the review queue and decisions, confidence routing, and
the dashboards' numbers (JSON and one CSV per chart)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import query_id, valid_input
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.models import ProjectMember
from projects.permissions import Action
from quality.models_workflow import ReviewAction
from quality.selectors_dashboard import (
    ANNOTATOR_CHARTS,
    PROJECT_CHARTS,
    annotator_dashboard,
    chart_rows,
    project_dashboard,
)
from quality.selectors_workflow import review_queue_list
from quality.services_workflow import (
    annotation_ground_truth_set,
    annotation_review,
    task_routes_refresh,
)
from tasks.api.access import annotation_or_404
from tasks.api.serializers import AnnotationOut


# --- gold ------------------------------------------------------------------------------------
class GroundTruthView(APIView):
    """``POST`` marks the annotation as its task's ground truth (a gold task), ``DELETE``
    unmarks it. Reviewers and managers."""

    @extend_schema(request=None, responses={200: AnnotationOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        return self._set(request, pk, ground_truth=True)

    @extend_schema(request=None, responses={200: AnnotationOut, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        return self._set(request, pk, ground_truth=False)

    def _set(self, request: Request, pk: int, *, ground_truth: bool) -> Response:
        annotation = annotation_or_404(request, pk, Action.REVIEW)
        saved = annotation_ground_truth_set(annotation=annotation, ground_truth=ground_truth)
        return Response(AnnotationOut(saved).data)


# --- review ----------------------------------------------------------------------------------
class ReviewItemOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="the annotation")
    task = serializers.IntegerField(source="task_id")
    task_data = serializers.JSONField(source="task.data")
    author = serializers.IntegerField(source="completed_by_id")
    author_username = serializers.CharField(source="completed_by.username")
    author_level = serializers.CharField(allow_null=True)
    result = serializers.JSONField()
    version = serializers.IntegerField()
    review_status = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewQueueOut(serializers.Serializer):
    annotations = ReviewItemOut(many=True)


class ReviewQueueView(APIView):
    @extend_schema(
        responses={200: ReviewQueueOut, **ERRORS},
        description="Annotations waiting for review (oldest first, 50 at most, never the "
        "caller's own). Reviewers and managers.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.REVIEW)
        items = list(review_queue_list(project=project, reviewer=request_user(request)))
        levels = dict(
            ProjectMember.objects.filter(
                project=project, user_id__in={a.completed_by_id for a in items}
            ).values_list("user_id", "level")
        )
        for item in items:
            level = levels.get(item.completed_by_id) if item.completed_by_id else None
            item.author_level = level  # type: ignore[attr-defined]
        return Response(ReviewQueueOut({"annotations": items}).data)


class ReviewIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=ReviewAction.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    result = serializers.JSONField(required=False, help_text="fix: the corrected result")


class ReviewOut(serializers.Serializer):
    decision = serializers.IntegerField(source="pk")
    action = serializers.CharField()
    comment = serializers.CharField()
    annotation = serializers.SerializerMethodField()

    def get_annotation(self, decision: Any) -> dict[str, Any]:
        return dict(AnnotationOut(decision.annotation).data)


class ReviewView(APIView):
    @extend_schema(
        request=ReviewIn,
        responses={201: ReviewOut, **ERRORS},
        description="Judge an annotation: `accept`; `reject` with a `comment` (the task goes "
        "back to its author, first in their queue, with the comment shown); `fix` with the "
        "corrected `result` (replaces it, accepted). Reviewers and managers; audited.",
    )
    def post(self, request: Request, pk: int) -> Response:
        annotation = annotation_or_404(request, pk, Action.REVIEW)
        data = valid_input(ReviewIn, request.data)
        decision = annotation_review(annotation=annotation, reviewer=request_user(request), **data)
        return Response(ReviewOut(decision).data, status=status.HTTP_201_CREATED)


# --- routing ---------------------------------------------------------------------------------
class RoutingOut(serializers.Serializer):
    senior = serializers.IntegerField()
    junior = serializers.IntegerField()
    consensus = serializers.IntegerField()
    anyone = serializers.IntegerField()
    changed = serializers.IntegerField()


class RoutingRefreshView(APIView):
    @extend_schema(
        request=None,
        responses={200: RoutingOut, **ERRORS},
        description="Route the unfinished tasks again from their predictions by the "
        "project's thresholds (routing_low, routing_high, routing_margin, "
        "routing_consensus_k). Managers.",
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        return Response(RoutingOut(task_routes_refresh(project=project).to_dict()).data)


# --- dashboards ------------------------------------------------------------------------------
class ProjectDashboardView(APIView):
    @extend_schema(
        responses={200: dict, **ERRORS},
        description="The project dashboard's numbers: progress, annotations per day, "
        "agreement and label distributions, and every annotator's row (gold accuracy, "
        "expert agreement, peer kappa, lead-time median and quartiles, rejection rate, "
        "flags). Reviewers and managers.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.VIEW_ALL)
        return Response(project_dashboard(project=project))


class AnnotatorDashboardView(APIView):
    @extend_schema(
        responses={200: dict, **ERRORS},
        description="One annotator's dashboard: their row, their work per day, a confusion "
        "matrix of their labels against the reference (gold, else the others' majority) "
        "and the label pairs they confuse most. Reviewers and managers.",
    )
    def get(self, request: Request, pk: int, user_id: int) -> Response:
        project = project_or_404(request, pk, Action.VIEW_ALL)
        board = annotator_dashboard(project=project, user_id=user_id)
        if board is None:
            raise NotFound(f"User {user_id} has no work in project {pk}.")
        return Response(board)


def _csv(rows: list[dict[str, Any]], filename: str) -> HttpResponse:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class DashboardCsvView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "chart",
                str,
                description=f"project: {', '.join(PROJECT_CHARTS)};"
                f" with user: {', '.join(ANNOTATOR_CHARTS)}",
            ),
            OpenApiParameter("user", int, description="an annotator's charts"),
        ],
        responses={(200, "text/csv"): str, **ERRORS},
        description="The data of one dashboard chart as CSV (the numbers of the JSON API).",
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        project = project_or_404(request, pk, Action.VIEW_ALL)
        user = query_id(request.query_params, "user")
        chart = request.query_params.get("chart") or ("daily" if user else "annotators")
        charts = ANNOTATOR_CHARTS if user else PROJECT_CHARTS
        if chart not in charts:
            raise ValidationError({"chart": [f"one of {', '.join(charts)}"]})
        if user is None:
            board = project_dashboard(project=project)
            name = f"project-{pk}-{chart}.csv"
        else:
            found = annotator_dashboard(project=project, user_id=user)
            if found is None:
                raise NotFound(f"User {user} has no work in project {pk}.")
            board, name = found, f"project-{pk}-user-{user}-{chart}.csv"
        return _csv(chart_rows(board, chart), name)
