"""Pages: the invitation link, a project's invitations, the account's API tokens."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.adapter import invitation_target_url
from accounts.forms_audit import AuditFilterForm
from accounts.selectors import SESSION_INVITATION, invitation_get_by_key, invitation_list
from accounts.services import (
    InvitationUnusable,
    invitation_accept,
    invitation_check,
    invitation_create,
    invitation_revoke,
)
from annotator.models import AuditEvent, User
from annotator.selectors import (
    api_token_get_for_user,
    api_token_list_for_user,
    audit_event_list,
)
from annotator.services import api_token_create, api_token_revoke, api_token_rotate_one
from projects.models import AnnotatorLevel, ProjectRole
from projects.permissions import Action, effective_role, role_allows
from projects.selectors import project_get_for_user


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, key: str) -> HttpResponse:
    """The link of an invitation. Signed in: accept it (POST). Signed out: sign in, or sign
    up (allowed for the invited address even when open sign-up is off), then it applies."""
    invitation = invitation_get_by_key(key=key)
    if invitation is None:
        return render(
            request,
            "accounts/invite.html",
            {"error": "This invitation link is not valid: check that it was copied whole."},
            status=404,
        )
    try:
        invitation_check(invitation=invitation)
    except InvitationUnusable as exc:
        return render(request, "accounts/invite.html", {"error": str(exc)}, status=410)
    context = {"invitation": invitation, "target": invitation.project or invitation.organization}
    if not request.user.is_authenticated:
        # Remembered for the sign-up that may follow; the address counts as verified,
        # since the link was mailed to it.
        request.session[SESSION_INVITATION] = invitation.pk
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "accounts/invite.html", {**context, "path": request.path})
    if request.method == "POST":
        try:
            invitation_accept(invitation=invitation, user=_user(request))
        except InvitationUnusable as exc:
            return render(request, "accounts/invite.html", {"error": str(exc)}, status=410)
        messages.success(request, f"You joined {context['target']}.")
        return redirect(invitation_target_url(invitation))
    return render(request, "accounts/invite.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def project_invites(request: HttpRequest, project_id: int) -> HttpResponse:
    """A project's invitations for its managers: send one, see their state, withdraw one."""
    user = _user(request)
    project = project_get_for_user(project_id=project_id, user=user)
    if project is None:
        raise Http404("No such project")
    if not role_allows(effective_role(project), Action.MANAGE):
        raise PermissionDenied("Only the project's managers invite people.")
    issued_url = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                raw_id = request.POST["revoke"]
                invitations = invitation_list(project_id=project.pk)
                found = invitations.filter(pk=int(raw_id)).first() if raw_id.isdigit() else None
                if found is None:
                    raise Http404("No such invitation")
                invitation_revoke(invitation=found)
                messages.success(request, f"Invitation to {found.email} withdrawn.")
            else:
                issued = invitation_create(
                    invited_by=user,
                    email=request.POST.get("email", ""),
                    organization=project.organization,
                    project=project,
                    project_role=request.POST.get("role", ProjectRole.ANNOTATOR),
                    level=request.POST.get("level", AnnotatorLevel.JUNIOR),
                    base_url=request.build_absolute_uri("/"),
                )
                issued_url = issued.url
        except ValidationError as exc:
            for problems in exc.message_dict.values():
                for problem in problems:
                    messages.error(request, problem)
    context = {
        "project": project,
        "invitations": invitation_list(project_id=project.pk)[:200],
        "roles": ProjectRole.choices,
        "levels": AnnotatorLevel.choices,
        "issued_url": issued_url,
    }
    return render(request, "accounts/invites.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The account's API tokens: create (the key is shown once), rotate, revoke."""
    user = _user(request)
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action", "create")
        if action == "create":
            new_key = api_token_create(user=user, name=request.POST.get("name", "")[:100]).key
        else:
            raw_id = request.POST.get("token", "")
            token = (
                api_token_get_for_user(user=user, token_id=int(raw_id))
                if raw_id.isdigit()
                else None
            )
            if token is None:
                raise Http404("No such token")
            if action == "revoke":
                api_token_revoke(token=token)
                messages.success(request, f"Token {token.prefix}… revoked.")
            elif action == "rotate" and token.is_active:
                new_key = api_token_rotate_one(token=token).key
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": api_token_list_for_user(user=user)[:200], "new_key": new_key},
    )


AUDIT_PAGE_SIZE = 100


@login_required
def project_audit(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's audit trail for its managers, newest first, filtered like the API."""
    project = project_get_for_user(project_id=project_id, user=_user(request))
    if project is None:
        raise Http404("No such project")
    if not role_allows(effective_role(project), Action.MANAGE):
        raise PermissionDenied("Only the project's managers read its audit trail.")
    form = AuditFilterForm(request.GET)
    events: list[AuditEvent] = []
    older = None
    if form.is_valid():
        rows = audit_event_list(flt=form.audit_filter(), project_id=project.pk)
        events = list(rows[: AUDIT_PAGE_SIZE + 1])
        if len(events) > AUDIT_PAGE_SIZE:
            events = events[:AUDIT_PAGE_SIZE]
            params = request.GET.copy()
            params["before"] = str(events[-1].pk)
            older = params.urlencode()
    filters = request.GET.copy()
    filters.pop("before", None)
    context = {
        "project": project,
        "form": form,
        "events": events,
        "older": older,
        "filters": filters.urlencode(),
    }
    return render(request, "accounts/audit.html", context)
