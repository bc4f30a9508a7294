"""Data manager reads: the filtered, sorted task table by keyset pages, its count, and the
next task after one (labelling in the table's order). Bulk actions are in ``bulk.py``."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, valid_input
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.models import Project
from projects.permissions import effective_role, sees_all_tasks, sees_others_work, task_scope_q
from tasks.selectors_datamanager import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    SORT_FIELDS,
    Cursor,
    ReviewState,
    TaskFilter,
    TaskSort,
    datamanager_count,
    datamanager_next_after,
    datamanager_page,
)

SORT_CHOICES = [name for field in SORT_FIELDS for name in (field, f"-{field}")]


# --- input ----------------------------------------------------------------------------------
class DataFilterIn(serializers.Serializer):
    annotated = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="has a finished annotation"
    )
    has_predictions = serializers.BooleanField(required=False, allow_null=True, default=None)
    review = serializers.ChoiceField(
        choices=[s.value for s in ReviewState],
        required=False,
        help_text="tasks with a finished annotation in this review state",
    )
    assignee = serializers.RegexField(
        r"^(none|[0-9]{1,18})$",
        required=False,
        help_text="a member's user id, or `none` for unassigned tasks",
        error_messages={"invalid": "assignee must be a user id or 'none'"},
    )
    score_min = serializers.FloatField(required=False, help_text="prediction score at least")
    score_max = serializers.FloatField(required=False, help_text="prediction score at most")
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="substring of the task text (case-insensitive; scans at most 20 000 tasks "
        "a page: follow `next` even when a page is short)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("score_min", "score_max"):
            if name in attrs and not math.isfinite(attrs[name]):
                raise serializers.ValidationError({name: [f"{name} must be a finite number"]})
        low, high = attrs.get("score_min"), attrs.get("score_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"score_min": ["score_min is above score_max"]})
        return attrs


def scoped(flt: TaskFilter, request: Request, project: Project) -> TaskFilter:
    """The filter limited to what the caller may see (projects.permissions): annotators get
    the tasks handed to them, and under blind annotation their own review states only."""
    user = request_user(request)
    role = effective_role(project)
    if sees_all_tasks(role):
        return flt
    author = None if sees_others_work(role, project) else user.pk
    return replace(flt, scope=task_scope_q(user=user, role=role), author=author)


def task_filter_of(data: dict[str, Any]) -> TaskFilter:
    assignee = data.get("assignee")
    return TaskFilter(
        annotated=data.get("annotated"),
        has_predictions=data.get("has_predictions"),
        review=ReviewState(data["review"]) if data.get("review") else None,
        assignee=int(assignee) if assignee and assignee != "none" else None,
        unassigned=assignee == "none",
        score_min=data.get("score_min"),
        score_max=data.get("score_max"),
        search=data.get("search") or "",
    )


class DataSortIn(serializers.Serializer):
    sort = serializers.ChoiceField(
        choices=SORT_CHOICES, required=False, default="id", help_text="`-` for descending"
    )


class DataPageIn(DataFilterIn, DataSortIn):
    cursor = serializers.CharField(
        required=False, max_length=300, help_text="`next` of the previous page"
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE
    )


class NextAfterIn(DataFilterIn, DataSortIn):
    task = serializers.IntegerField(min_value=1, max_value=MAX_INT)


def _sort(data: dict[str, Any]) -> TaskSort:
    name = data["sort"]
    return TaskSort(name=name.lstrip("-"), descending=name.startswith("-"))


# --- output ---------------------------------------------------------------------------------
class AssigneeOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class LeaseOut(AssigneeOut):
    expires_at = serializers.DateTimeField()


class DataRowOut(serializers.Serializer):
    id = serializers.IntegerField()
    preview = serializers.CharField(help_text="the task's text, truncated (plain text)")
    total_annotations = serializers.IntegerField()
    cancelled_annotations = serializers.IntegerField()
    overlap = serializers.IntegerField()
    total_predictions = serializers.IntegerField()
    priority = serializers.FloatField()
    prediction_score = serializers.FloatField(
        allow_null=True, help_text="score of the newest scored prediction"
    )
    uncertainty = serializers.FloatField(
        allow_null=True, help_text="stored by active learning, else 1 - prediction_score"
    )
    agreement = serializers.FloatField(allow_null=True, help_text="null until quality computes it")
    route = serializers.CharField(
        help_text="confidence routing: senior, junior, consensus or empty (anyone)"
    )
    route_reason = serializers.CharField(help_text="why the task went there")
    queue_reason = serializers.CharField(
        allow_null=True,
        help_text="why active learning put the task at the head of the queue; null otherwise",
    )
    review_state = serializers.CharField(
        help_text="rejected, pending, not_reviewed or accepted (the filter's values); "
        "empty: no finished annotation"
    )
    assignees = AssigneeOut(many=True)
    leases = LeaseOut(
        many=True,
        help_text="who holds the task now (next-task leases still running); live pages follow "
        "task.locked and task.unlocked events from there",
    )


class DataPageOut(serializers.Serializer):
    tasks = DataRowOut(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="cursor of the next page; null at the end"
    )


class DataCountOut(serializers.Serializer):
    count = serializers.IntegerField()


class NextAfterOut(serializers.Serializer):
    task = serializers.IntegerField(allow_null=True, help_text="null: no task after this one")


# --- views ----------------------------------------------------------------------------------
class DataPageView(APIView):
    @extend_schema(
        parameters=[DataPageIn],
        responses={200: DataPageOut, **ERRORS},
        description="A page of the data manager's table in keyset order (no OFFSET: constant "
        "time at any depth). Pass `next` back as `cursor` with the same filters and sort. A "
        "page can be shorter than `page_size` while more follow; stop when `next` is null.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        query = valid_input(DataPageIn, request.query_params)
        sort = _sort(query)
        cursor = Cursor.decode(query["cursor"], sort.text) if query.get("cursor") else None
        page = datamanager_page(
            project=project,
            flt=scoped(task_filter_of(query), request, project),
            sort=sort,
            cursor=cursor,
            size=query["page_size"],
        )
        body = {"tasks": page.rows, "next": page.next.encode() if page.next else None}
        return Response(DataPageOut(body).data)


class DataCountView(APIView):
    @extend_schema(
        parameters=[DataFilterIn],
        responses={200: DataCountOut, **ERRORS},
        description="How many tasks match the filters (a search counts by scanning).",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        flt = scoped(
            task_filter_of(valid_input(DataFilterIn, request.query_params)), request, project
        )
        return Response({"count": datamanager_count(project=project, flt=flt)})


class DataNextAfterView(APIView):
    @extend_schema(
        parameters=[NextAfterIn],
        responses={200: NextAfterOut, **ERRORS},
        description="The task after `task` under the same filters and sort as the data "
        "manager's table, for labelling in its order (`task` need not match the filters "
        "any more). With a search it looks at most 10 windows of 20 000 tasks ahead.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        query = valid_input(NextAfterIn, request.query_params)
        next_id = datamanager_next_after(
            project=project,
            flt=scoped(task_filter_of(query), request, project),
            sort=_sort(query),
            task_id=query["task"],
        )
        return Response({"task": next_id})
