from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.audit import audit_record, changed_fields
from annotator.models import User
from annotator.outbound import OutboundError, check_url
from annotator.realtime import event_publish, group_send
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
    WebhookAction,
)
from projects.webhooks import webhook_event, webhooks_flag_reset

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
    audit_record(
        action="organization.create",
        actor=owner,
        object_type="organization",
        object_id=organization.pk,
        organization_id=organization.pk,
        after={"title": title, "owner": owner.username},
    )
    return organization


@transaction.atomic
def organization_member_set(
    *, organization: Organization, user: User, role: str = OrganizationRole.MEMBER
) -> OrganizationMember:
    """Add ``user`` to the organization or change their role there."""
    previous = OrganizationMember.objects.filter(organization=organization, user=user).first()
    member, _ = OrganizationMember.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    member.full_clean()
    if previous is None or previous.role != role:
        audit_record(
            action="organization_member.update" if previous else "organization_member.add",
            object_type="user",
            object_id=user.pk,
            organization_id=organization.pk,
            before={"role": previous.role} if previous else None,
            after={"role": role},
            detail={"username": user.username},
        )
    return member


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
    webhook_event(project=project, action=WebhookAction.PROJECT_CREATED)
    audit_record(
        action="project.create",
        actor=created_by,
        object_type="project",
        object_id=project.pk,
        organization_id=organization.pk,
        project_id=project.pk,
        after=_audited_fields(project),
    )
    return project


def _audited_fields(project: Project) -> dict[str, Any]:
    """What a project's audit events show: every editable field, the config included."""
    return {
        f.attname: getattr(project, f.attname)
        for f in project._meta.concrete_fields
        if f.editable and not f.primary_key
    }


@transaction.atomic
def project_member_set(
    *,
    project: Project,
    user: User,
    role: str = ProjectRole.ANNOTATOR,
    level: str = AnnotatorLevel.JUNIOR,
) -> ProjectMember:
    previous = ProjectMember.objects.filter(project=project, user=user).first()
    member, _ = ProjectMember.objects.update_or_create(
        project=project, user=user, defaults={"role": role, "level": level}
    )
    member.full_clean()
    before = {"role": previous.role, "level": previous.level} if previous else None
    after = {"role": member.role, "level": member.level}
    if before != after:
        audit_record(
            action="member.update" if previous else "member.add",
            object_type="user",
            object_id=user.pk,
            organization_id=project.organization_id,
            project_id=project.pk,
            before=before,
            after=after,
            detail={"username": user.username},
        )
    return member


def project_broadcast(*, project_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every socket of the project once the current transaction commits."""

    def send() -> None:
        # Numbered for catch-up (annotator.realtime); None: Redis is down, nothing goes live.
        numbered = event_publish(project_id=project_id, event=event)
        if numbered is not None:
            group_send(project_group(project_id), {"type": "project.event", "event": numbered})

    transaction.on_commit(send)


@transaction.atomic
def project_update(*, project: Project, **fields: Any) -> Project:
    before_all = _audited_fields(project)
    label_config = fields.pop("label_config", None)
    if label_config is not None:
        label_config_change_check(project=project, label_config=label_config)
        project.label_config = label_config
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    before, after = changed_fields(before_all, _audited_fields(project))
    if after:
        audit_record(
            action="project.update",
            object_type="project",
            object_id=project.pk,
            organization_id=project.organization_id,
            project_id=project.pk,
            before=before,
            after=after,
        )
        webhook_event(project=project, action=WebhookAction.PROJECT_UPDATED)
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    audit_record(
        action="project.delete",
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        before=_audited_fields(project),
    )
    # Before the delete: the project's own webhooks go with it, the organization's hear it.
    webhook_event(project=project, action=WebhookAction.PROJECT_DELETED)
    project.delete()


@transaction.atomic
def project_member_remove(*, project: Project, user: User) -> None:
    member = ProjectMember.objects.filter(project=project, user=user).first()
    if member is None:
        return
    member.delete()
    audit_record(
        action="member.remove",
        object_type="user",
        object_id=user.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        before={"role": member.role, "level": member.level},
        detail={"username": user.username},
    )


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
    webhooks_flag_reset()
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()
    webhooks_flag_reset()
