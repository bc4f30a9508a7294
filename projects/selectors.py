from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from annotator.models import User
from projects.models import OrganizationMember, Project, Webhook, WebhookDelivery
from projects.permissions import (
    admin_organization_ids,
    effective_role,
    project_managed_q,
    project_visible_q,
    with_role,
)


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    """Projects the user may see: their own memberships, or every project of an
    organization they own or administer."""
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    return Project.objects.filter(project_visible_q(user=user)).distinct()


def project_get_for_user(*, project_id: int, user: User) -> Project | None:
    """The project if the user may see it; the same rule as the API's access checks."""
    project = with_role(Project.objects.filter(pk=project_id), user=user).first()
    return project if project is not None and effective_role(project) is not None else None


def project_with_counts(queryset: QuerySet[Project]) -> QuerySet[Project]:
    """Add Label Studio's counters from the denormalised task columns (one join, grouped)."""
    return queryset.select_related("created_by").annotate(
        task_number=Count("tasks"),
        num_tasks_with_annotations=Count("tasks", filter=Q(tasks__total_annotations__gt=0)),
        total_annotations_number=Coalesce(Sum("tasks__total_annotations"), 0),
        total_predictions_number=Coalesce(Sum("tasks__total_predictions"), 0),
    )


def organization_ids_administered_by(*, user: User) -> QuerySet[OrganizationMember, int]:
    return admin_organization_ids(user=user)


def project_list_managed_by(*, user: User) -> QuerySet[Project]:
    """Projects where the user is a manager, or of organizations they own or administer."""
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    return Project.objects.filter(project_managed_q(user=user)).distinct()


def webhook_list_for_user(*, user: User) -> QuerySet[Webhook]:
    return Webhook.objects.filter(
        Q(project__in=project_list_managed_by(user=user))
        | Q(project__isnull=True, organization_id__in=organization_ids_administered_by(user=user))
    ).order_by("id")


def webhook_delivery_list(*, webhook: Webhook, status: str | None) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first (the (webhook, -id) index serves it)."""
    deliveries = WebhookDelivery.objects.filter(webhook=webhook).order_by("-id")
    return deliveries if status is None else deliveries.filter(status=status)
