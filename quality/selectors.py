"""Reads of the quality app: productivity per member (for the quality dashboards), the
arbitration queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum

from annotator.models import User
from projects.models import Project, ProjectMember
from quality.models import ArbitrationItem, ArbitrationStatus
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


# --- arbitration queue ---------------------------------------------------------------------
@dataclass
class ArbitrationRow:
    """An open item of the arbitration queue with the task and its annotators' results."""

    task_id: int
    agreement: float
    created_at: datetime
    data: dict[str, Any]
    annotations: list[dict[str, Any]]


def arbitration_list(*, project: Project, limit: int = 50) -> list[ArbitrationRow]:
    """Open items, oldest first, with each item's finished annotations (two queries)."""
    items = list(
        ArbitrationItem.objects.filter(project=project, status=ArbitrationStatus.OPEN)
        .select_related("task")
        .order_by("id")[:limit]
    )
    by_task: dict[int, list[dict[str, Any]]] = {i.task_id: [] for i in items}
    found = (
        Annotation.objects.filter(task_id__in=list(by_task), was_cancelled=False)
        .order_by("id")
        .values("id", "task_id", "completed_by_id", "completed_by__username", "result")
    )
    for a in found:
        by_task[a["task_id"]].append(
            {
                "id": a["id"],
                "user_id": a["completed_by_id"],
                "username": a["completed_by__username"] or "",
                "result": a["result"],
            }
        )
    return [
        ArbitrationRow(
            task_id=i.task_id,
            agreement=i.agreement,
            created_at=i.created_at,
            data=i.task.data,
            annotations=by_task[i.task_id],
        )
        for i in items
    ]


def arbitration_item_get(*, project: Project, task_id: int) -> ArbitrationItem | None:
    return ArbitrationItem.objects.filter(project=project, task_id=task_id).first()


def usernames(*, user_ids: list[int]) -> dict[int, str]:
    return dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
