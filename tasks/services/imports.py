"""Import of tasks with their annotations and predictions: streamed, validated, all or nothing.

Items arrive from an iterator (a parser over an upload) and are written in batches inside
one transaction, so memory stays flat whatever the size and a bad row anywhere rolls back
every batch already written: the project is left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.audit import audit_record
from annotator.models import User
from projects.labelconfig import LabelConfig
from projects.models import Project, WebhookAction
from projects.services import project_broadcast
from tasks.models import Annotation, Prediction, Task
from tasks.services.bulk import (
    RowStream,
    as_json,
    insert_rows,
    reserve_ids,
    table_statistics_refresh_soon,
)
from tasks.services.common import (
    MAX_REPORTED_ERRORS,
    missing_field_message,
    required_data_fields,
    result_check,
    task_overlap_for,
)
from tasks.services.webhooks import tasks_event_webhooks
from tasks.signals import tasks_imported

IMPORT_BATCH = 2000
# PostgreSQL plans from table statistics that autovacuum refreshes only later: right after a
# bulk load they claim a few rows, and exports or task lists of the new project sort every
# row of it per page. Refresh them after large imports.
ANALYZE_AFTER_ROWS = 5000


class ImportRowsError(ValidationError):
    """Bad rows of an import; ``rows`` are ``{"row", "field", "message"}`` dicts."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__({"tasks": [_row_text(r) for r in rows]}, code="invalid_rows")
        self.rows = rows


@dataclass
class ImportSummary:
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0
    task_ids: list[int] = field(default_factory=list)


def _row_errors(
    *, config: LabelConfig, row: int, item: Any, required: Sequence[str]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Normalise one import row to a Label Studio task, or list what is wrong with it."""
    if not isinstance(item, dict):
        return None, [{"row": row, "field": None, "message": "a task must be a JSON object"}]
    is_task = isinstance(item.get("data"), dict)
    if not is_task and all(name in item for name in required):
        # The common row of a large import: a bare data object with every field the config
        # reads; nothing else to check.
        return {"data": item, "meta": {}, "annotations": [], "predictions": []}, []
    data = item["data"] if is_task else item
    task = {
        "data": data,
        "meta": (item.get("meta") or {}) if is_task else {},
        "annotations": (item.get("annotations") or []) if is_task else [],
        "predictions": (item.get("predictions") or []) if is_task else [],
    }
    errors = [
        {
            "row": row,
            "field": f"data.{name}",
            "message": missing_field_message(name),
        }
        for name in required
        if name not in data
    ]
    for kind in ("annotations", "predictions"):
        entries = task[kind]
        if not isinstance(entries, list):
            errors.append({"row": row, "field": kind, "message": f"{kind} must be a list"})
            continue
        for i, entry in enumerate(entries):
            result = entry.get("result") if isinstance(entry, dict) else None
            for problem in result_check(config=config, result=result, data=data):
                errors.append({"row": row, "field": f"{kind}[{i}].result", "message": problem})
            number, rule = (
                ("lead_time", "zero or more seconds")
                if kind == "annotations"
                else ("score", "a number")
            )
            value = entry.get(number) if isinstance(entry, dict) else None
            if value is not None and (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or (kind == "annotations" and value < 0)
            ):
                errors.append(
                    {
                        "row": row,
                        "field": f"{kind}[{i}].{number}",
                        "message": f"{number} must be {rule}",
                    }
                )
    if not isinstance(task["meta"], dict):
        errors.append({"row": row, "field": "meta", "message": "meta must be an object"})
    return task, errors


def _row_text(error: dict[str, Any]) -> str:
    where = f" {error['field']}" if error.get("field") else ""
    row = f"row {error['row']}" if error.get("row") is not None else "upload"
    return f"{row}{where}: {error['message']}"


TASK_COLUMNS = (
    "id", "project_id", "data", "meta", "priority", "overlap", "total_annotations",
    "cancelled_annotations", "total_predictions", "is_labeled", "prediction_score",
    "created_at", "updated_at",
)  # fmt: skip
ANNOTATION_COLUMNS = (
    "task_id", "project_id", "completed_by_id", "result", "was_cancelled", "ground_truth",
    "review_status", "lead_time", "version", "created_at", "updated_at",
)  # fmt: skip
PREDICTION_COLUMNS = (
    "task_id", "project_id", "result", "score", "model_version", "created_at", "updated_at",
)  # fmt: skip


def _write_batch(
    *,
    project: Project,
    user: User | None,
    tasks: list[dict[str, Any]],
    start: int,
    summary: ImportSummary,
    keep_ids: bool,
    stream: RowStream,
) -> None:
    """Insert one batch of validated tasks with their annotations and predictions. Tasks
    that need no id here go to ``stream`` (TASK_COLUMNS without the id)."""
    now = timezone.now()
    # Ids are reserved only when rows must point at their task (or the caller wants them);
    # otherwise the column default numbers the rows inside COPY, ~10x cheaper than asking
    # the sequence for each id from here.
    with_ids = keep_ids or any(t["annotations"] or t["predictions"] for t in tasks)
    if with_ids:
        stream.flush()  # the statements below need the connection
    ids: list[int | None] = [*reserve_ids(Task, len(tasks))] if with_ids else [None] * len(tasks)
    task_rows, annotation_rows, prediction_rows = [], [], []
    user_id = user.pk if user is not None else None
    for i, (task_id, t) in enumerate(zip(ids, tasks, strict=True)):
        overlap = task_overlap_for(project=project, index=start + i)
        done = sum(1 for a in t["annotations"] if not a.get("was_cancelled"))
        scores = [p["score"] for p in t["predictions"] if p.get("score") is not None]
        row = (
            project.pk, as_json(t["data"]), as_json(t["meta"]), 0.0, overlap, done,
            len(t["annotations"]) - done, len(t["predictions"]), done >= overlap,
            _number(scores[-1]) if scores else None, now, now,
        )  # fmt: skip
        task_rows.append((task_id, *row) if with_ids else row)
        for a in t["annotations"]:
            annotation_rows.append((
                task_id, project.pk, user_id, as_json(a["result"]), bool(a.get("was_cancelled", False)),
                bool(a.get("ground_truth", False)), "", _number(a.get("lead_time")), 1, now, now,
            ))  # fmt: skip
        for p in t["predictions"]:
            prediction_rows.append((
                task_id, project.pk, as_json(p["result"]), _number(p.get("score")),
                str(p.get("model_version") or "")[:200], now, now,
            ))  # fmt: skip
    if with_ids:
        insert_rows(Task, TASK_COLUMNS, task_rows)
    else:
        stream.write(task_rows)
    insert_rows(Annotation, ANNOTATION_COLUMNS, annotation_rows)
    insert_rows(Prediction, PREDICTION_COLUMNS, prediction_rows)
    summary.task_count += len(task_rows)
    summary.annotation_count += len(annotation_rows)
    summary.prediction_count += len(prediction_rows)
    if keep_ids:
        summary.task_ids.extend(i for i in ids if i is not None)


def _number(value: Any) -> float | None:
    # Validated by _row_errors: None or a number (lead times never negative).
    return None if value is None else float(value)


@transaction.atomic
def tasks_import(
    *,
    project: Project,
    items: Iterable[Any],
    user: User | None,
    first_row: int = 1,
    keep_ids: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import Label Studio tasks (or bare data objects) with their annotations and predictions.

    All or nothing: a bad row raises ImportRowsError listing up to MAX_REPORTED_ERRORS bad
    rows (numbered from ``first_row``), and nothing is written. An exception raised by the
    ``items`` iterator (a parse error) rolls back the same way. ``progress`` is called with
    the number of rows handled after each batch.
    """
    config = project.parsed_config
    required = required_data_fields(config)
    start = Task.objects.filter(project=project).count()
    last = Task.objects.filter(project=project).order_by("-id").values_list("id", flat=True)[:1]
    after_id = next(iter(last), 0)
    summary = ImportSummary()
    errors: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    handled = 0

    def write(tasks: list[dict[str, Any]]) -> None:
        _write_batch(
            project=project,
            user=user,
            tasks=tasks,
            start=start + summary.task_count,
            summary=summary,
            keep_ids=keep_ids,
            stream=stream,
        )

    with RowStream(Task, TASK_COLUMNS[1:]) as stream:
        for offset, item in enumerate(items):
            handled = offset + 1
            task, row_errors = _row_errors(
                config=config, row=first_row + offset, item=item, required=required
            )
            if row_errors:
                errors.extend(row_errors)
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
                continue
            if errors or task is None:
                continue  # only validating from the first error on: nothing more is written
            batch.append(task)
            if len(batch) >= IMPORT_BATCH:
                write(batch)
                batch = []
                if progress is not None:
                    progress(handled)
        if errors:
            raise ImportRowsError(errors[:MAX_REPORTED_ERRORS])
        if batch:
            write(batch)
    if summary.task_count == 0:
        raise ValidationError({"tasks": ["no task found in the upload"]}, code="empty")
    if progress is not None:
        progress(handled)
    grown = [
        table
        for table, rows in (
            ("tasks_task", summary.task_count),
            ("tasks_annotation", summary.annotation_count),
            ("tasks_prediction", summary.prediction_count),
        )
        if rows >= ANALYZE_AFTER_ROWS
    ]
    if grown:
        transaction.on_commit(lambda: table_statistics_refresh_soon(tables=grown))
    tasks_imported.send(sender=Task, project=project, after_id=after_id)
    # One summary event per import, never one per task.
    audit_record(
        action="tasks.import",
        actor=user,
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        after={
            "task_count": summary.task_count,
            "annotation_count": summary.annotation_count,
            "prediction_count": summary.prediction_count,
            "first_task_id": min(summary.task_ids, default=None),
            "last_task_id": max(summary.task_ids, default=None),
        },
    )
    project_broadcast(
        project_id=project.pk, event={"type": "tasks.imported", "count": summary.task_count}
    )
    if summary.task_count:
        tasks_event_webhooks(
            project=project,
            action=WebhookAction.TASKS_CREATED,
            ids=summary.task_ids,
            count=summary.task_count,
        )
    return summary
