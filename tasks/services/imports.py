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

from annotator.models import User
from projects.labelconfig import LabelConfig
from projects.models import Project
from projects.services import project_broadcast
from tasks.models import Annotation, Prediction, Task
from tasks.services.common import MAX_REPORTED_ERRORS, result_check, task_overlap_for

IMPORT_BATCH = 2000


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
            "message": f"missing data field '{name}' the labelling config uses",
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
    if not isinstance(task["meta"], dict):
        errors.append({"row": row, "field": "meta", "message": "meta must be an object"})
    return task, errors


def _row_text(error: dict[str, Any]) -> str:
    where = f" {error['field']}" if error.get("field") else ""
    row = f"row {error['row']}" if error.get("row") is not None else "upload"
    return f"{row}{where}: {error['message']}"


def _write_batch(
    *,
    project: Project,
    user: User | None,
    tasks: list[dict[str, Any]],
    start: int,
    summary: ImportSummary,
    keep_ids: bool,
) -> None:
    rows = []
    for i, t in enumerate(tasks):
        overlap = task_overlap_for(project=project, index=start + i)
        done = sum(1 for a in t["annotations"] if not a.get("was_cancelled"))
        rows.append(
            Task(
                project=project,
                data=t["data"],
                meta=t["meta"],
                overlap=overlap,
                total_annotations=done,
                cancelled_annotations=len(t["annotations"]) - done,
                total_predictions=len(t["predictions"]),
                is_labeled=done >= overlap,
            )
        )
    created = Task.objects.bulk_create(rows, batch_size=IMPORT_BATCH)
    annotations = [
        Annotation(
            task=row,
            project=project,
            completed_by=user,
            result=a["result"],
            was_cancelled=bool(a.get("was_cancelled", False)),
            ground_truth=bool(a.get("ground_truth", False)),
            lead_time=a.get("lead_time"),
        )
        for row, t in zip(created, tasks, strict=True)
        for a in t["annotations"]
    ]
    predictions = [
        Prediction(
            task=row,
            project=project,
            result=p["result"],
            score=p.get("score"),
            model_version=str(p.get("model_version") or ""),
        )
        for row, t in zip(created, tasks, strict=True)
        for p in t["predictions"]
    ]
    if annotations:
        Annotation.objects.bulk_create(annotations, batch_size=IMPORT_BATCH)
    if predictions:
        Prediction.objects.bulk_create(predictions, batch_size=IMPORT_BATCH)
    summary.task_count += len(created)
    summary.annotation_count += len(annotations)
    summary.prediction_count += len(predictions)
    if keep_ids:
        summary.task_ids.extend(row.pk for row in created)


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
    required = [o.value_field for o in config.objects.values() if o.value_field]
    start = Task.objects.filter(project=project).count()
    summary = ImportSummary()
    errors: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    handled = 0
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
            _write_batch(
                project=project,
                user=user,
                tasks=batch,
                start=start + summary.task_count,
                summary=summary,
                keep_ids=keep_ids,
            )
            batch = []
            if progress is not None:
                progress(handled)
    if errors:
        raise ImportRowsError(errors[:MAX_REPORTED_ERRORS])
    if batch:
        _write_batch(
            project=project,
            user=user,
            tasks=batch,
            start=start + summary.task_count,
            summary=summary,
            keep_ids=keep_ids,
        )
    if summary.task_count == 0:
        raise ValidationError({"tasks": ["no task found in the upload"]}, code="empty")
    if progress is not None:
        progress(handled)
    project_broadcast(
        project_id=project.pk, event={"type": "tasks.imported", "count": summary.task_count}
    )
    return summary
