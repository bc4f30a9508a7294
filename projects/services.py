from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.models import User
from annotator.outbound import OutboundError, check_url
from annotator.realtime import group_send
from projects.consumers import project_group
from projects.labelconfig import ConfigError, LabelConfig, parse_config
from projects.models import (
    AnnotatorLevel,
    Organization,
    OrganizationMember,
    OrganizationRole,
    Project,
    ProjectMember,
    ProjectRole,
    Webhook,
)

# Checks that apps above this one (DESIGN §2) register for a project's config change: the
# tasks app refuses a config that its stored annotations no longer fit.
ConfigChangeCheck = Callable[[Project, LabelConfig], list[str]]
_CONFIG_CHANGE_CHECKS: list[ConfigChangeCheck] = []


def config_change_check_register(check: ConfigChangeCheck) -> None:
    if check not in _CONFIG_CHANGE_CHECKS:
        _CONFIG_CHANGE_CHECKS.append(check)


def label_config_change_check(*, project: Project, label_config: str) -> LabelConfig:
    """``label_config_check``, then every registered check of what the project already holds:
    ValidationError on ``label_config`` naming each conflict."""
    config = label_config_check(label_config=label_config)
    if label_config != project.label_config:
        problems = [p for check in _CONFIG_CHANGE_CHECKS for p in check(project, config)]
        if problems:
            raise ValidationError({"label_config": problems})
    return config


def label_config_check(*, label_config: str) -> LabelConfig:
    """Parse a config or raise ValidationError on ``label_config`` with every issue found."""
    try:
        return parse_config(label_config)
    except ConfigError as exc:
        raise ValidationError({"label_config": [str(issue) for issue in exc.issues]}) from exc


@transaction.atomic
def organization_create(*, title: str, owner: User) -> Organization:
    organization = Organization.objects.create(title=title, created_by=owner)
    OrganizationMember.objects.create(
        organization=organization, user=owner, role=OrganizationRole.OWNER
    )
    return organization


@transaction.atomic
def project_create(
    *,
    organization: Organization,
    title: str,
    created_by: User,
    label_config: str | None = None,
    **fields: Any,
) -> Project:
    project = Project(organization=organization, title=title, created_by=created_by, **fields)
    if label_config is not None:
        label_config_check(label_config=label_config)
        project.label_config = label_config
    project.full_clean()
    project.save()
    ProjectMember.objects.create(project=project, user=created_by, role=ProjectRole.MANAGER)
    return project


@transaction.atomic
def project_member_set(
    *,
    project: Project,
    user: User,
    role: str = ProjectRole.ANNOTATOR,
    level: str = AnnotatorLevel.JUNIOR,
) -> ProjectMember:
    member, _ = ProjectMember.objects.update_or_create(
        project=project, user=user, defaults={"role": role, "level": level}
    )
    member.full_clean()
    return member


def project_broadcast(*, project_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every socket of the project once the current transaction commits."""

    def send() -> None:
        group_send(project_group(project_id), {"type": "project.event", "event": event})

    transaction.on_commit(send)


@transaction.atomic
def project_update(*, project: Project, **fields: Any) -> Project:
    label_config = fields.pop("label_config", None)
    if label_config is not None:
        label_config_change_check(project=project, label_config=label_config)
        project.label_config = label_config
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    project.delete()


@transaction.atomic
def project_member_remove(*, project: Project, user: User) -> None:
    ProjectMember.objects.filter(project=project, user=user).delete()


@transaction.atomic
def organization_for_new_project(*, user: User, organization_id: int | None) -> Organization:
    """The organization a new project goes to: the one asked for (the user must belong to it),
    else the user's first, else a personal one created on the spot."""
    memberships = OrganizationMember.objects.filter(user=user)
    if organization_id is not None:
        membership = memberships.filter(organization_id=organization_id).first()
        if membership is None:
            raise ValidationError(
                {"organization": [f"you are not a member of organization {organization_id}"]}
            )
        return membership.organization
    first = memberships.select_related("organization").order_by("created_at").first()
    if first is not None:
        return first.organization
    return organization_create(title=f"{user.username}'s organization", owner=user)


def outbound_url_check(*, url: str, field: str = "url") -> None:
    """Refuse URLs our server must not call (loopback, private, link-local...) unless the
    admin allowed private addresses; the error names the field and the reason."""
    try:
        check_url(url, allow_private=settings.OUTBOUND_ALLOW_PRIVATE_URLS)
    except OutboundError as exc:
        raise ValidationError({field: [str(exc)]}) from None


@transaction.atomic
def webhook_save(*, webhook: Webhook, **fields: Any) -> Webhook:
    """Create (unsaved ``webhook``) or update a webhook after checking its URL."""
    for name, value in fields.items():
        setattr(webhook, name, value)
    outbound_url_check(url=webhook.url)
    webhook.full_clean()
    webhook.save()
    return webhook
