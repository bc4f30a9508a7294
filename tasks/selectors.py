from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db.models import (
    Count,
    Func,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    TextField,
)
from django.db.models.functions import Cast, Coalesce

from annotator.models import User
from projects.models import Project
from projects.selectors import project_list_for_user
from tasks.exporters import RawJSON
from tasks.models import Annotation, Draft, Prediction, Task, TaskLock


def task_list_for_user(*, user: User) -> QuerySet[Task]:
    return Task.objects.filter(project__in=project_list_for_user(user=user))


def draft_get_for_user(*, draft_id: int, user: User) -> Draft | None:
    """Drafts are private: only their author sees them."""
    return Draft.objects.filter(pk=draft_id, user=user).select_related("task__project").first()


def task_list_totals(*, tasks: QuerySet[Task]) -> dict[str, int]:
    """Label Studio's page totals of a task list, in one query."""
    return tasks.aggregate(
        total=Count("id"),
        total_annotations=Coalesce(Sum("total_annotations"), 0),
        total_predictions=Coalesce(Sum("total_predictions"), 0),
    )


def tasks_with_children(
    queryset: QuerySet[Task], *, annotations: Q | None = None
) -> QuerySet[Task]:
    """Prefetch annotations (those matching ``annotations``: blind annotation) and
    predictions in two queries, whatever the page size."""
    return queryset.prefetch_related(
        Prefetch(
            "annotations", queryset=Annotation.objects.filter(annotations or Q()).order_by("id")
        ),
        Prefetch("predictions", queryset=Prediction.objects.order_by("id")),
    )


def task_live_lock_count(*, task_id: int, now: datetime, exclude_user: User | None = None) -> int:
    locks = TaskLock.objects.filter(task_id=task_id, expires_at__gt=now)
    if exclude_user is not None:
        locks = locks.exclude(user=exclude_user)
    return locks.count()


# --- exports --------------------------------------------------------------------------------
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class ExportFilter:
    only_annotated: bool = False
    only_ground_truth: bool = False
    only_accepted: bool = False
    with_predictions: bool = True
    # Only these tasks when not empty (Label Studio's ``ids``).
    task_ids: tuple[int, ...] = ()


def _annotation_filter(flt: ExportFilter) -> Q:
    q = Q()
    if flt.only_ground_truth:
        q &= Q(ground_truth=True)
    if flt.only_accepted:
        q &= Q(review_status="accepted")
    return q


def export_task_count(*, project: Project, flt: ExportFilter) -> int:
    return _tasks(project, flt).count()


def _tasks(project: Project, flt: ExportFilter) -> Any:
    tasks = Task.objects.filter(project=project)
    if flt.task_ids:
        tasks = tasks.filter(pk__in=flt.task_ids)
    wanted = _annotation_filter(flt)
    if flt.only_ground_truth or flt.only_accepted:
        tasks = tasks.filter(
            pk__in=Annotation.objects.filter(wanted, project=project).values("task_id")
        )
    elif flt.only_annotated:
        tasks = tasks.filter(Q(total_annotations__gt=0) | Q(cancelled_annotations__gt=0))
    return tasks


def _json_load(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # integers past 64 bits, and the like
        return json.loads(text)


class IsoDateTime(Func):
    """A timestamp column as ISO 8601 text in UTC, formatted by the database: parsing
    200k timestamps into datetimes and printing them again was a fifth of a JSON export.
    PostgreSQL always prints microseconds; SQLite keeps the stored text (as isoformat()),
    which older bulk imports wrote with the offset and the ORM writes without."""

    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')',
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="replace(replace(%(expressions)s, '+00:00', ''), ' ', 'T') || '+00:00'",
            **extra,
        )


def export_tasks_iter(
    *, project: Project, flt: ExportFilter, raw_json: bool = False
) -> Iterator[dict[str, Any]]:
    """Yield full Label Studio tasks in id order, three queries per batch of EXPORT_BATCH,
    so memory holds one batch whatever the project size. With ``raw_json`` the tasks' data
    and meta come as RawJSON text, for the JSON exporter to write without re-encoding;
    otherwise they are read as text too and parsed with orjson (the JSON field's own
    json.loads was a third of a CoNLL export)."""
    tasks = _tasks(project, flt).order_by("id")
    tasks = tasks.annotate(data_text=Cast("data", TextField()), meta_text=Cast("meta", TextField()))
    data_fields = ("data_text", "meta_text")
    load = RawJSON if raw_json else _json_load
    wanted = _annotation_filter(flt)
    tasks = tasks.annotate(created=IsoDateTime("created_at"), updated=IsoDateTime("updated_at"))
    last = 0
    while True:
        rows = list(
            tasks.filter(pk__gt=last).values(
                "id", *data_fields, "created", "updated", "total_annotations",
                "cancelled_annotations", "total_predictions",
            )[:EXPORT_BATCH]
        )  # fmt: skip
        if not rows:
            return
        first, last = rows[0]["id"], rows[-1]["id"]
        # An id range rather than IN (1000 ids): no parameter list to bind and plan, and
        # the counters skip the query when no task of the batch has children.
        in_batch = Q(project=project, task_id__gte=first, task_id__lte=last)
        has_annotations = any(r["total_annotations"] or r["cancelled_annotations"] for r in rows)
        has_predictions = flt.with_predictions and any(r["total_predictions"] for r in rows)
        annotations: dict[int, list[dict[str, Any]]] = defaultdict(list)
        annotation_rows = (
            Annotation.objects.filter(wanted, in_batch)
            if has_annotations
            else Annotation.objects.none()
        )
        for a in annotation_rows.order_by("id").annotate(
            created=IsoDateTime("created_at"), updated=IsoDateTime("updated_at")
        ).values(
            "id", "task_id", "completed_by_id", "result", "was_cancelled", "ground_truth",
            "lead_time", "created", "updated", "review_status",
        ):  # fmt: skip
            annotations[a["task_id"]].append(
                {
                    "id": a["id"],
                    "completed_by": a["completed_by_id"],
                    "result": a["result"],
                    "was_cancelled": a["was_cancelled"],
                    "ground_truth": a["ground_truth"],
                    "lead_time": a["lead_time"],
                    "review_status": a["review_status"] or None,
                    "created_at": a["created"],
                    "updated_at": a["updated"],
                    "task": a["task_id"],
                    "project": project.pk,
                }
            )
        predictions: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if has_predictions:
            for p in (
                Prediction.objects.filter(in_batch)
                .order_by("id")
                .annotate(created=IsoDateTime("created_at"))
                .values("id", "task_id", "result", "score", "model_version", "created")
            ):
                predictions[p["task_id"]].append(
                    {
                        "id": p["id"],
                        "result": p["result"],
                        "score": p["score"],
                        "model_version": p["model_version"],
                        "created_at": p["created"],
                    }
                )
        for r in rows:
            yield {
                "id": r["id"],
                "data": load(r["data_text"]),
                "meta": load(r["meta_text"]),
                "created_at": r["created"],
                "updated_at": r["updated"],
                "total_annotations": r["total_annotations"],
                "cancelled_annotations": r["cancelled_annotations"],
                "total_predictions": r["total_predictions"],
                "annotations": annotations.get(r["id"], []),
                "predictions": predictions.get(r["id"], []),
                "project": project.pk,
            }
