"""The audit trail over the API: read and export only, for project managers (their
projects) and organization owners and admins (the whole organization). There is no write,
update or delete endpoint: the trail is append-only (``annotator.audit``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, valid_input
from annotator.audit import COLUMNS
from annotator.models import AuditEvent
from annotator.selectors import AuditFilter, audit_event_list
from projects.api.access import project_or_404, request_user
from projects.models import OrganizationMember, OrganizationRole
from projects.permissions import Action

ERRORS = {
    400: OpenApiResponse(description="Validation error naming each field and problem"),
    401: OpenApiResponse(description="Missing or bad credentials"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or not a member"),
}
EXPORT_TYPES = ("CSV", "JSON")


class AuditQueryIn(serializers.Serializer):
    action = serializers.CharField(
        required=False,
        max_length=500,
        help_text="Comma-separated actions; one ending in '.' matches a family "
        "('annotation.' = annotation.create, .update, .delete).",
    )
    user = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    object_type = serializers.CharField(required=False, max_length=32)
    object_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)
    since = serializers.DateTimeField(required=False, help_text="ISO 8601 date or datetime")
    until = serializers.DateTimeField(required=False, help_text="Exclusive")
    before = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_INT, help_text="Keyset cursor (the `next` link)"
    )
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)


class AuditExportIn(AuditQueryIn):
    export_type = serializers.ChoiceField(choices=EXPORT_TYPES, default="CSV")


class AuditEventOut(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ("id", *COLUMNS)


class AuditPageOut(serializers.Serializer):
    results = AuditEventOut(many=True)
    next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page")


QUERY_PARAMETERS = [
    OpenApiParameter("action", str),
    OpenApiParameter("user", int, description="Actor's user id"),
    OpenApiParameter("object_type", str),
    OpenApiParameter("object_id", int),
    OpenApiParameter("since", OpenApiTypes.DATETIME),
    OpenApiParameter("until", OpenApiTypes.DATETIME),
    OpenApiParameter("before", int, description="Keyset cursor: events older than this id"),
    OpenApiParameter("page_size", int),
]
EXPORT_PARAMETERS = [*QUERY_PARAMETERS, OpenApiParameter("export_type", str, enum=EXPORT_TYPES)]


def _filter(data: dict[str, Any]) -> AuditFilter:
    actions = tuple(a.strip() for a in data.get("action", "").split(",") if a.strip())
    return AuditFilter(
        actions=actions,
        actor_id=data.get("user"),
        object_type=data.get("object_type", ""),
        object_id=data.get("object_id"),
        since=data.get("since"),
        until=data.get("until"),
        before_id=data.get("before"),
    )


def _organization_admin_or_404(request: Request, organization_id: int) -> int:
    membership = OrganizationMember.objects.filter(
        organization_id=organization_id, user=request_user(request)
    ).first()
    if membership is None:
        raise NotFound(f"Organization {organization_id} not found.")
    if membership.role not in (OrganizationRole.OWNER, OrganizationRole.ADMIN):
        raise PermissionDenied("Only the organization's owners and admins read its audit trail.")
    return organization_id


def _page(request: Request, scope: dict[str, int]) -> Response:
    data = valid_input(AuditQueryIn, request.query_params)
    size = data["page_size"]
    events = list(audit_event_list(flt=_filter(data), **scope)[: size + 1])
    next_url = None
    if len(events) > size:
        events = events[:size]
        params = request.query_params.copy()
        params["before"] = str(events[-1].pk)
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return Response({"results": AuditEventOut(events, many=True).data, "next": next_url})


def _rows(events: Any) -> Iterator[dict[str, Any]]:
    for event in events.iterator(chunk_size=2000):
        yield AuditEventOut(event).data


def _csv(events: Any) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", *COLUMNS])
    for row in _rows(events):
        writer.writerow(
            [
                orjson.dumps(row[c]).decode() if c in ("before", "after", "detail") else row[c]
                for c in ("id", *COLUMNS)
            ]
        )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def _json(events: Any) -> Iterator[bytes]:
    yield b"["
    first = True
    for row in _rows(events):
        yield (b"" if first else b",") + orjson.dumps(row)
        first = False
    yield b"]"


def _export(request: Request, scope: dict[str, int], name: str) -> StreamingHttpResponse:
    data = valid_input(AuditExportIn, request.query_params)
    events = audit_event_list(flt=_filter(data), **scope)
    if data["export_type"] == "JSON":
        response = StreamingHttpResponse(_json(events), content_type="application/json")
        extension = "json"
    else:
        response = StreamingHttpResponse(_csv(events), content_type="text/csv; charset=utf-8")
        extension = "csv"
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


class ProjectAuditView(APIView):
    @extend_schema(parameters=QUERY_PARAMETERS, responses={200: AuditPageOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The project's audit trail, newest first (managers and organization admins)."""
        project_or_404(request, pk, Action.MANAGE)
        return _page(request, {"project_id": pk})


class ProjectAuditExportView(APIView):
    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        """Every matching event of the project as CSV or JSON, streamed."""
        project_or_404(request, pk, Action.MANAGE)
        return _export(request, {"project_id": pk}, f"audit-project-{pk}")


class OrganizationAuditView(APIView):
    @extend_schema(parameters=QUERY_PARAMETERS, responses={200: AuditPageOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The organization's audit trail (its projects' events included), newest first."""
        return _page(request, {"organization_id": _organization_admin_or_404(request, pk)})


class OrganizationAuditExportView(APIView):
    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        organization_id = _organization_admin_or_404(request, pk)
        return _export(request, {"organization_id": organization_id}, f"audit-organization-{pk}")
