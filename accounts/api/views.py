"""Invitations over the API: managers invite to their project, organization owners and
admins to the organization; the link's holder accepts once, before it expires."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    InvitationAcceptOut,
    InvitationIssuedOut,
    InvitationOut,
    OrganizationInviteIn,
    ProjectInviteIn,
)
from accounts.models import Invitation
from accounts.selectors import invitation_get_by_key, invitation_list
from accounts.services import (
    InvitationUnusable,
    IssuedInvitation,
    invitation_accept,
    invitation_create,
    invitation_revoke,
)
from annotator.api.inputs import valid_input
from projects.api.access import project_or_404, request_user
from projects.models import Organization, OrganizationMember, OrganizationRole
from projects.permissions import Action

ERRORS = {
    400: OpenApiResponse(description="Validation error naming each field and problem"),
    401: OpenApiResponse(description="Missing or bad credentials"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or not a member"),
}


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/")


def _issued(issued: IssuedInvitation) -> dict[str, Any]:
    return {**InvitationOut(issued.invitation).data, "url": issued.url}


def organization_admin_or_404(request: Request, organization_id: int) -> Organization:
    """404 for non-members, 403 for members who are not owners or admins."""
    membership = (
        OrganizationMember.objects.filter(
            organization_id=organization_id, user=request_user(request)
        )
        .select_related("organization")
        .first()
    )
    if membership is None:
        raise NotFound(f"Organization {organization_id} not found.")
    if membership.role not in (OrganizationRole.OWNER, OrganizationRole.ADMIN):
        raise PermissionDenied("Only the organization's owners and admins may do this.")
    return membership.organization


class ProjectInviteListView(APIView):
    @extend_schema(responses={200: InvitationOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        project_or_404(request, pk, Action.MANAGE)
        return Response(InvitationOut(invitation_list(project_id=pk), many=True).data)

    @extend_schema(request=ProjectInviteIn, responses={201: InvitationIssuedOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Invite an address to the project with a role and level; the link is mailed."""
        project = project_or_404(request, pk, Action.MANAGE)
        data = valid_input(ProjectInviteIn, request.data)
        issued = invitation_create(
            invited_by=request_user(request),
            email=data["email"],
            organization=project.organization,
            project=project,
            project_role=data["role"],
            level=data["level"],
            base_url=_base_url(request),
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class ProjectInviteDetailView(APIView):
    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int, invite_id: int) -> Response:
        """Withdraw a pending invitation: its link stops working."""
        project_or_404(request, pk, Action.MANAGE)
        invitation = invitation_list(project_id=pk).filter(pk=invite_id).first()
        if invitation is None:
            raise NotFound(f"Invitation {invite_id} not found.")
        invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationInviteListView(APIView):
    @extend_schema(responses={200: InvitationOut(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        organization_admin_or_404(request, pk)
        return Response(InvitationOut(invitation_list(organization_id=pk), many=True).data)

    @extend_schema(request=OrganizationInviteIn, responses={201: InvitationIssuedOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Invite an address to the organization as a member or an admin."""
        organization = organization_admin_or_404(request, pk)
        data = valid_input(OrganizationInviteIn, request.data)
        issued = invitation_create(
            invited_by=request_user(request),
            email=data["email"],
            organization=organization,
            organization_role=data["role"],
            base_url=_base_url(request),
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class OrganizationInviteDetailView(APIView):
    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int, invite_id: int) -> Response:
        organization_admin_or_404(request, pk)
        invitation = invitation_list(organization_id=pk).filter(pk=invite_id).first()
        if invitation is None:
            raise NotFound(f"Invitation {invite_id} not found.")
        invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InviteAcceptView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: InvitationAcceptOut,
            **ERRORS,
            410: OpenApiResponse(description="The link was used, withdrawn or has expired"),
        },
    )
    def post(self, request: Request, key: str) -> Response:
        """Accept an invitation as the caller: they become a member of its organization or
        project. A link works once, until it expires (``INVITE_TTL_HOURS``)."""
        invitation = invitation_get_by_key(key=key)
        if invitation is None:
            raise NotFound("No invitation with this link.")
        try:
            accepted = invitation_accept(invitation=invitation, user=request_user(request))
        except InvitationUnusable as exc:
            return Response(
                {"status_code": status.HTTP_410_GONE, "detail": str(exc)},
                status=status.HTTP_410_GONE,
            )
        return Response(_accepted(accepted))


def _accepted(invitation: Invitation) -> dict[str, Any]:
    return {
        "organization": invitation.organization_id,
        "project": invitation.project_id,
        "role": invitation.project_role or invitation.organization_role,
    }
