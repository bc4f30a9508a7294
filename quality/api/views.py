"""Quality API: productivity per member."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.permissions import effective_role, productivity_user
from quality.selectors import productivity_list


class ProductivityRowOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True, help_text="null: not a member any more")
    level = serializers.CharField(allow_null=True)
    certified_at = serializers.DateTimeField(allow_null=True)
    tasks_done = serializers.IntegerField(help_text="tasks with a finished annotation")
    skips = serializers.IntegerField(help_text="tasks skipped")
    time_spent = serializers.FloatField(help_text="seconds: the sum of recorded lead times")
    mean_lead_time = serializers.FloatField(
        allow_null=True, help_text="seconds per finished annotation with a lead time"
    )
    first_at = serializers.DateTimeField(allow_null=True)
    last_at = serializers.DateTimeField(allow_null=True)


class ProductivityOut(serializers.Serializer):
    members = ProductivityRowOut(many=True)


class ProductivityView(APIView):
    @extend_schema(
        responses={200: ProductivityOut, **ERRORS},
        description="Work per member of the project (tasks done, skips, time spent from the "
        "annotations' lead times). Reviewers and managers get every member, annotators "
        "their own row.",
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        only = productivity_user(user=request_user(request), role=effective_role(project))
        rows = productivity_list(project=project, only_user=only)
        return Response(ProductivityOut({"members": rows}).data)
