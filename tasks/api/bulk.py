"""Data manager bulk actions: assign, label, delete, send to review. Managers (and
organization admins) only; each action is all or nothing.

Retraining is not offered: ``mlserve`` has no training service to call yet.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, valid_input
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.permissions import Action
from tasks.api.datamanager import DataFilterIn, task_filter_of
from tasks.selectors_datamanager import BULK_MAX, TaskFilter, TaskSelection
from tasks.services import (
    BulkResult,
    tasks_assign,
    tasks_delete_selected,
    tasks_label,
    tasks_retrain,
    tasks_send_to_review,
)


class SelectionIn(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT),
        required=False,
        max_length=BULK_MAX,
        help_text="the selected task ids",
    )
    all = serializers.BooleanField(
        required=False, default=False, help_text="every task matching `filters`"
    )
    filters = DataFilterIn(required=False, help_text="the table's filters (with `all`)")
    excluded = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT),
        required=False,
        default=list,
        max_length=BULK_MAX,
        help_text="ids unticked after `all`",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["all"] and attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["give ids or all=true, not both"]})
        if not attrs["all"] and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["give the task ids, or all=true"]})
        return attrs


def _selection(data: dict[str, Any]) -> TaskSelection:
    return TaskSelection(
        ids=tuple(data.get("ids") or ()),
        all=data["all"],
        flt=task_filter_of(data["filters"]) if data.get("filters") else TaskFilter(),
        excluded=tuple(data["excluded"]),
    )


class SelectionActionIn(serializers.Serializer):
    selection = SelectionIn()


class AssignIn(SelectionActionIn):
    user = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, allow_null=True, help_text="a project member"
    )
    replace = serializers.BooleanField(
        required=False,
        default=False,
        help_text="drop the tasks' other assignees first (with user=null: unassign)",
    )


class LabelIn(SelectionActionIn):
    from_name = serializers.CharField(
        required=False, max_length=200, help_text="a Choices or Taxonomy control"
    )
    value = serializers.CharField(required=False, max_length=500, help_text="the choice to apply")
    result = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        allow_empty=False,
        help_text="or: a whole Label Studio result to apply to every task",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        by_value = "from_name" in attrs or "value" in attrs
        if by_value and "result" in attrs:
            raise serializers.ValidationError({"result": ["give result or from_name + value"]})
        if not by_value and "result" not in attrs:
            raise serializers.ValidationError({"from_name": ["give from_name + value, or result"]})
        for name in ("from_name", "value"):
            if by_value and not attrs.get(name):
                raise serializers.ValidationError({name: ["This field is required."]})
        return attrs


class BulkOut(serializers.Serializer):
    tasks = serializers.IntegerField(help_text="tasks selected")
    changed = serializers.IntegerField(
        help_text="assignments, annotations, deleted tasks or annotations queued for review"
    )
    skipped = serializers.IntegerField(help_text="tasks left as they were")


def _out(result: BulkResult) -> Response:
    return Response(BulkOut(result).data)


class BulkAssignView(APIView):
    @extend_schema(
        request=AssignIn,
        description="Assign the selection to a project member (stored; next-task routing "
        "to assignees comes with the distribution rules).",
        responses={200: BulkOut, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(AssignIn, request.data)
        return _out(
            tasks_assign(
                project=project,
                selection=_selection(data["selection"]),
                assignee_id=data["user"],
                replace=data["replace"],
                by=request_user(request),
            )
        )


class BulkLabelView(APIView):
    @extend_schema(
        request=LabelIn,
        description="Annotate every selected task with one choice (or result), as the caller; "
        "each is validated against the config, tasks the caller annotated are skipped.",
        responses={200: BulkOut, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(LabelIn, request.data)
        return _out(
            tasks_label(
                project=project,
                selection=_selection(data.pop("selection")),
                user=request_user(request),
                **data,
            )
        )


class BulkDeleteView(APIView):
    @extend_schema(
        request=SelectionActionIn,
        description="Delete the selected tasks with their annotations.",
        responses={200: BulkOut, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(SelectionActionIn, request.data)
        return _out(tasks_delete_selected(project=project, selection=_selection(data["selection"])))


class BulkReviewView(APIView):
    @extend_schema(
        request=SelectionActionIn,
        description="Queue the finished annotations of the selection for review "
        "(review_status `pending`).",
        responses={200: BulkOut, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(SelectionActionIn, request.data)
        return _out(tasks_send_to_review(project=project, selection=_selection(data["selection"])))


class BulkRetrainView(APIView):
    @extend_schema(
        request=SelectionActionIn,
        description="Queue a new version of every built-in model of the project (they train "
        "on all its finished annotations, with their fixed validation split; the selection "
        "must not be empty). `changed` is the number of versions queued.",
        responses={200: BulkOut, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(SelectionActionIn, request.data)
        return _out(tasks_retrain(project=project, selection=_selection(data["selection"])))
