"""Reads of the quality app: productivity per member (for the quality dashboards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q, Sum

from projects.models import Project, ProjectMember
from tasks.models import Annotation


@dataclass
class ProductivityRow:
    """One user's work in a project, aggregated from their annotations.

    ``tasks_done``: tasks with a finished (not skipped) annotation of theirs; ``skips``:
    tasks they skipped (a skip is a cancelled annotation); ``time_spent``: the sum of the
    lead times they recorded (seconds the task was on screen, skips included when timed);
    ``mean_lead_time``: over their timed, finished annotations.
    """

    user_id: int
    username: str
    role: str | None
    level: str | None
    certified_at: datetime | None
    tasks_done: int = 0
    skips: int = 0
    time_spent: float = 0.0
    mean_lead_time: float | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None


def productivity_list(*, project: Project, only_user: int | None = None) -> list[ProductivityRow]:
    """Every member's row (or ``only_user``'s: projects.permissions' ``productivity_user``
    gives an annotator their own), members without work included, by username. One grouped
    query over the project's annotations plus one for the members."""
    finished = Q(was_cancelled=False)
    who = Q(completed_by_id=only_user) if only_user is not None else Q()
    totals = (
        Annotation.objects.filter(who, project=project, completed_by__isnull=False)
        .values("completed_by_id", "completed_by__username")
        .annotate(
            done=Count("task_id", filter=finished, distinct=True),
            skips=Count("task_id", filter=Q(was_cancelled=True), distinct=True),
            spent=Sum("lead_time"),
            timed_spent=Sum("lead_time", filter=finished),
            timed=Count("lead_time", filter=finished),
            first=Min("created_at"),
            last=Max("created_at"),
        )
        .order_by()
    )
    members = ProjectMember.objects.filter(project=project).select_related("user")
    if only_user is not None:
        members = members.filter(user_id=only_user)
    rows: dict[int, ProductivityRow] = {}
    for m in members:
        rows[m.user_id] = ProductivityRow(
            user_id=m.user_id,
            username=m.user.username,
            role=m.role,
            level=m.level,
            certified_at=m.certified_at,
        )
    for t in totals:
        row = rows.setdefault(
            t["completed_by_id"],
            ProductivityRow(
                user_id=t["completed_by_id"],
                username=t["completed_by__username"],
                role=None,
                level=None,
                certified_at=None,
            ),
        )
        row.tasks_done, row.skips = t["done"], t["skips"]
        row.time_spent = float(t["spent"] or 0.0)
        row.mean_lead_time = t["timed_spent"] / t["timed"] if t["timed"] else None
        row.first_at, row.last_at = t["first"], t["last"]
    return sorted(rows.values(), key=lambda row: row.username)
