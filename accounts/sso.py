"""Single sign-on: the groups an identity provider sends, and the roles they map to.

At every sign-in through an OpenID Connect or SAML provider, ``sso_roles_apply`` makes the
person's memberships match the ``SSOGroupRole`` rows of that provider whose group they are
in: it adds and updates them (through the projects' services, so each change is audited
like any other membership change) and removes the memberships SSO gave earlier that no
group maps to any more. Memberships given by hand (invitations, the members page) are left
alone unless a group maps to the same project, in which case the group's role wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import SSOGroupRole, SSOMembership
from annotator.audit import audit_record
from annotator.models import User
from projects.models import (
    AnnotatorLevel,
    Organization,
    OrganizationMember,
    OrganizationRole,
    Project,
    ProjectRole,
)
from projects.services import organization_member_set, project_member_remove, project_member_set

OIDC, SAML = "openid_connect", "saml"
# Higher wins when several groups map to the same project or organization.
_PROJECT_RANK: dict[str, int] = {
    ProjectRole.ANNOTATOR: 0,
    ProjectRole.REVIEWER: 1,
    ProjectRole.MANAGER: 2,
}
_LEVEL_RANK: dict[str, int] = {
    AnnotatorLevel.JUNIOR: 0,
    AnnotatorLevel.SENIOR: 1,
    AnnotatorLevel.EXPERT: 2,
}
_ORG_RANK: dict[str, int] = {OrganizationRole.MEMBER: 0, OrganizationRole.ADMIN: 1}


def sso_groups(*, provider_type: str, app_settings: dict[str, Any], extra_data: Any) -> list[str]:
    """The group names in a sign-in's data: OIDC's groups claim (userinfo, else the id_token)
    or SAML's groups attribute. The name comes from the app's settings (``groups_claim`` /
    ``groups_attribute``), else ``SSO_OIDC_GROUPS_CLAIM`` / ``SSO_SAML_GROUPS_ATTRIBUTE``."""
    if not isinstance(extra_data, dict):
        return []
    if provider_type == OIDC:
        claim = app_settings.get("groups_claim") or settings.SSO_OIDC_GROUPS_CLAIM
        value = None
        for part in ("userinfo", "id_token"):
            data = extra_data.get(part)
            if isinstance(data, dict) and claim in data:
                value = data[claim]
                break
    elif provider_type == SAML:
        value = extra_data.get(
            app_settings.get("groups_attribute") or settings.SSO_SAML_GROUPS_ATTRIBUTE
        )
    else:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return sorted({item for item in value if isinstance(item, str) and item})


@dataclass
class SSORoles:
    """What one sign-in changed: target labels like ``project 3: reviewer/junior``."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _higher(first: str, second: str | None, rank: dict[str, int]) -> str:
    return first if second is None or rank[first] >= rank[second] else second


def _wanted(
    rules: Iterable[SSOGroupRole],
) -> tuple[dict[int, tuple[Project, str, str]], dict[int, tuple[Organization, str]]]:
    """The role (the highest of the matching groups') per project and per organization."""
    projects: dict[int, tuple[Project, str, str]] = {}
    organizations: dict[int, tuple[Organization, str]] = {}
    for rule in rules:
        if rule.project is not None:
            have = projects.get(rule.project.pk)
            role = _higher(rule.project_role, have[1] if have else None, _PROJECT_RANK)
            level = _higher(rule.level, have[2] if have else None, _LEVEL_RANK)
            projects[rule.project.pk] = (rule.project, role, level)
        else:
            had = organizations.get(rule.organization.pk)
            org_role = _higher(rule.organization_role, had[1] if had else None, _ORG_RANK)
            organizations[rule.organization.pk] = (rule.organization, org_role)
    return projects, organizations


@transaction.atomic
def sso_roles_apply(*, user: User, provider: str, groups: Iterable[str]) -> SSORoles:
    """Make ``user``'s memberships match the roles ``provider``'s groups map to (see the
    module's docstring); one ``sso.roles`` audit event summarises a sign-in that changed any."""
    group_list = sorted(set(groups))
    rules = SSOGroupRole.objects.filter(provider=provider, group__in=group_list).select_related(
        "project", "organization"
    )
    projects, organizations = _wanted(rules)
    result = SSORoles()
    for project, role, level in projects.values():
        member = project.memberships.filter(user=user).first()
        if member is None or (member.role, member.level) != (role, level):
            project_member_set(project=project, user=user, role=role, level=level)
            target = f"project {project.pk}: {role}/{level}"
            (result.updated if member is not None else result.added).append(target)
        SSOMembership.objects.get_or_create(
            user=user, provider=provider, project=project, organization=project.organization
        )
    for organization, org_role in organizations.values():
        org_member = OrganizationMember.objects.filter(organization=organization, user=user).first()
        # An owner stays owner: groups give admin at most.
        if org_member is None or org_member.role not in (org_role, OrganizationRole.OWNER):
            organization_member_set(organization=organization, user=user, role=org_role)
            target = f"organization {organization.pk}: {org_role}"
            (result.updated if org_member is not None else result.added).append(target)
        SSOMembership.objects.get_or_create(
            user=user, provider=provider, organization=organization, project=None
        )
    stale = SSOMembership.objects.filter(user=user, provider=provider).select_related(
        "project", "organization"
    )
    for grant in stale:
        if grant.project is not None and grant.project.pk not in projects:
            project_member_remove(project=grant.project, user=user)
            result.removed.append(f"project {grant.project.pk}")
            grant.delete()
        elif grant.project is None and grant.organization.pk not in organizations:
            _organization_member_remove(organization=grant.organization, user=user)
            result.removed.append(f"organization {grant.organization.pk}")
            grant.delete()
    if result.changed:
        audit_record(
            action="sso.roles",
            actor=user,
            object_type="user",
            object_id=user.pk,
            after={"added": result.added, "updated": result.updated, "removed": result.removed},
            detail={"provider": provider, "groups": group_list[:100]},
        )
    return result


def _organization_member_remove(*, organization: Organization, user: User) -> None:
    member = OrganizationMember.objects.filter(organization=organization, user=user).first()
    if member is None or member.role == OrganizationRole.OWNER:
        return
    member.delete()
    audit_record(
        action="organization_member.remove",
        object_type="user",
        object_id=user.pk,
        organization_id=organization.pk,
        before={"role": member.role},
        detail={"username": user.username},
    )
