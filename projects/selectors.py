from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from annotator.models import User
from projects.models import OrganizationMember, OrganizationRole, Project


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    """Projects the user may see: their own memberships, or every project of an
    organization they own or administer."""
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    admin_orgs = OrganizationMember.objects.filter(
        user=user, role__in=[OrganizationRole.OWNER, OrganizationRole.ADMIN]
    ).values("organization_id")
    return Project.objects.filter(
        Q(memberships__user=user) | Q(organization_id__in=admin_orgs)
    ).distinct()


def project_get_for_user(*, project_id: int, user: User) -> Project | None:
    return project_list_for_user(user=user).filter(pk=project_id).first()


def project_with_counts(queryset: QuerySet[Project]) -> QuerySet[Project]:
    """Add Label Studio's counters from the denormalised task columns (one join, grouped)."""
    return queryset.select_related("created_by").annotate(
        task_number=Count("tasks"),
        num_tasks_with_annotations=Count("tasks", filter=Q(tasks__total_annotations__gt=0)),
        total_annotations_number=Coalesce(Sum("tasks__total_annotations"), 0),
        total_predictions_number=Coalesce(Sum("tasks__total_predictions"), 0),
    )
