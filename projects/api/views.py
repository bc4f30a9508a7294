from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import valid_input
from annotator.api.pagination import Pages, paginated
from annotator.models import User
from projects.api.access import project_or_404, request_user
from projects.api.serializers import (
    ConfigValidateIn,
    MemberIn,
    MemberOut,
    OrganizationOut,
    ProjectIn,
    ProjectOut,
)
from projects.models import Organization
from projects.permissions import Action, organization_visible_q
from projects.selectors import project_list_for_user, project_with_counts
from projects.services import (
    label_config_change_check,
    label_config_check,
    organization_for_new_project,
    project_create,
    project_delete,
    project_member_remove,
    project_member_set,
    project_update,
)

ERRORS = {
    400: OpenApiResponse(description="Validation error naming each field and problem"),
    401: OpenApiResponse(description="Missing or bad credentials"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or not a member"),
}


class OrganizationListView(APIView):
    @extend_schema(responses={200: OrganizationOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        visible = organization_visible_q(user=request_user(request))
        orgs = Organization.objects.filter(visible).distinct().order_by("id")
        return Response(OrganizationOut(orgs, many=True).data)


class OrganizationDetailView(APIView):
    @extend_schema(responses={200: OrganizationOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        visible = organization_visible_q(user=request_user(request))
        org = Organization.objects.filter(visible, pk=pk).distinct().first()
        if org is None:
            raise NotFound(f"Organization {pk} not found.")
        return Response(OrganizationOut(org).data)


class ProjectListView(APIView):
    @extend_schema(operation_id="projects_list", responses={200: paginated(ProjectOut), **ERRORS})
    def get(self, request: Request) -> Response:
        projects = project_with_counts(project_list_for_user(user=request_user(request))).order_by(
            "-id"
        )
        pages = Pages()
        page = pages.paginate_queryset(projects, request, view=self)
        return pages.get_paginated_response(ProjectOut(page, many=True).data)

    @extend_schema(request=ProjectIn, responses={201: ProjectOut, **ERRORS})
    def post(self, request: Request) -> Response:
        data = valid_input(ProjectIn, request.data)
        user = request_user(request)
        organization = organization_for_new_project(
            user=user, organization_id=data.pop("organization", None)
        )
        project = project_create(
            organization=organization,
            title=data.pop("title", None) or "New project",
            created_by=user,
            **data,
        )
        return Response(_project_out(request, project.pk), status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses={200: ProjectOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project_or_404(request, pk)
        return Response(_project_out(request, pk))

    @extend_schema(request=ProjectIn, responses={200: ProjectOut, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(ProjectIn, request.data)
        data.pop("organization", None)
        project_update(project=project, **data)
        return Response(_project_out(request, pk))

    put = patch

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        project_delete(project=project_or_404(request, pk, Action.MANAGE))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfigValidateView(APIView):
    """Check a labelling config; with a project, against that project (Label Studio's path)."""

    @extend_schema(request=ConfigValidateIn, responses={200: dict, **ERRORS})
    def post(self, request: Request, pk: int | None = None) -> Response:
        """Parse the config; 400 names every problem with its tag, attribute and line. With a
        project, also every label or control its annotations use that the config drops."""
        project = project_or_404(request, pk) if pk is not None else None
        data = valid_input(ConfigValidateIn, request.data)
        if project is None:
            config = label_config_check(label_config=data["label_config"])
        else:
            config = label_config_change_check(project=project, label_config=data["label_config"])
        # Label Studio's SDK reads the checked config back as ``label_config`` (required there).
        return Response({"label_config": data["label_config"], **config.to_dict()})


class ProjectConfigValidateView(ConfigValidateView):
    @extend_schema(
        operation_id="projects_config_validate",
        request=ConfigValidateIn,
        responses={200: dict, **ERRORS},
    )
    def post(self, request: Request, pk: int | None = None) -> Response:
        return super().post(request, pk)


class MemberListView(APIView):
    @extend_schema(responses={200: MemberOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk)
        members = project.memberships.select_related("user").order_by("id")
        return Response(MemberOut(members, many=True).data)

    @extend_schema(request=MemberIn, responses={201: MemberOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(MemberIn, request.data)
        user = User.objects.filter(pk=data["user"], is_active=True).first()
        if user is None:
            raise ValidationError({"user": [f"no active user with id {data['user']}"]})
        member = project_member_set(
            project=project, user=user, role=data["role"], level=data["level"]
        )
        return Response(MemberOut(member).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int, user_id: int) -> Response:
        project = project_or_404(request, pk, Action.MANAGE)
        member = project.memberships.filter(user_id=user_id).select_related("user").first()
        if member is None:
            raise NotFound(f"User {user_id} is not a member of project {pk}.")
        project_member_remove(project=project, user=member.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _project_out(request: Request, pk: int) -> dict[str, Any]:
    project = project_with_counts(project_list_for_user(user=request_user(request))).get(pk=pk)
    return ProjectOut(project).data
