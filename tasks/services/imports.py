"""Import of tasks with their annotations and predictions: validated, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.models import User
from projects.labelconfig import LabelConfig
from projects.models import Project
from projects.services import project_broadcast
from tasks.models import Annotation, Prediction, Task
from tasks.services.common import (
    MAX_REPORTED_ERRORS,
    result_check,
    task_overlap_for,
)


# --- import -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportSummary:
    task_count: int
    annotation_count: int
    prediction_count: int
    task_ids: list[int]


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
        "meta": item.get("meta") or {} if is_task else {},
        "annotations": item.get("annotations") or [] if is_task else [],
        "predictions": item.get("predictions") or [] if is_task else [],
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


@transaction.atomic
def tasks_import(
    *, project: Project, items: Sequence[Any], user: User | None, first_row: int = 1
) -> ImportSummary:
    """Import Label Studio tasks (or bare data objects) with their annotations and predictions.

    All or nothing: every row is validated first; one bad row raises ValidationError listing
    the bad rows (row numbers from ``first_row``) and nothing is written.
    """
    config = project.parsed_config
    required = [o.value_field for o in config.objects.values() if o.value_field]
    tasks: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for offset, item in enumerate(items):
        task, row_errors = _row_errors(
            config=config, row=first_row + offset, item=item, required=required
        )
        errors.extend(row_errors)
        if task is not None:
            tasks.append(task)
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise ValidationError({"tasks": [_row_text(e) for e in errors]}, code="invalid_rows")

    start = Task.objects.filter(project=project).count()
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
    created = Task.objects.bulk_create(rows, batch_size=2000)
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
    Annotation.objects.bulk_create(annotations, batch_size=2000)
    Prediction.objects.bulk_create(predictions, batch_size=2000)
    project_broadcast(
        project_id=project.pk, event={"type": "tasks.imported", "count": len(created)}
    )
    return ImportSummary(
        task_count=len(created),
        annotation_count=len(annotations),
        prediction_count=len(predictions),
        task_ids=[row.pk for row in created],
    )


def _row_text(error: dict[str, Any]) -> str:
    field = f" {error['field']}" if error.get("field") else ""
    return f"row {error['row']}{field}: {error['message']}"
