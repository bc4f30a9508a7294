"""The JSON of the hot endpoints (next task, submit), built by hand.

A ModelSerializer introspects its model on every instantiation, which cost more per request
than the database work of next-task. These functions give exactly the shapes of
``TaskOut``, ``AnnotationOut`` and ``PredictionOut`` (a test compares them), which stay the
documented schema and serve every other endpoint.
"""

from __future__ import annotations

from typing import Any

from rest_framework.fields import DateTimeField

from projects.permissions import sees_all_tasks
from tasks.models import Annotation, Prediction, Task

_datetime = DateTimeField()


def overlap_hidden(rows: list[dict[str, Any]], role: str | None) -> list[dict[str, Any]]:
    """Annotators are not told that a task goes to several of them (quality's overlap): they
    read ``overlap`` 1. Reviewers and managers read the real value."""
    if not sees_all_tasks(role):
        for row in rows:
            if "overlap" in row:
                row["overlap"] = 1
    return rows


def task_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "project": task.project_id,
        "data": task.data,
        "meta": task.meta,
        "priority": task.priority,
        "overlap": task.overlap,
        "is_labeled": task.is_labeled,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "created_at": _datetime.to_representation(task.created_at),
        "updated_at": _datetime.to_representation(task.updated_at),
    }


def annotation_dict(annotation: Annotation) -> dict[str, Any]:
    return {
        "id": annotation.pk,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "completed_by": annotation.completed_by_id,
        "result": annotation.result,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "lead_time": annotation.lead_time,
        "version": annotation.version,
        "parent_prediction": annotation.parent_prediction_id,
        "parent_annotation": annotation.parent_annotation_id,
        "review_status": annotation.review_status,
        "review_comment": annotation.review_comment,
        "created_at": _datetime.to_representation(annotation.created_at),
        "updated_at": _datetime.to_representation(annotation.updated_at),
    }


def prediction_dict(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.pk,
        "task": prediction.task_id,
        "project": prediction.project_id,
        "result": prediction.result,
        "score": prediction.score,
        "model_version": prediction.model_version,
        "created_at": _datetime.to_representation(prediction.created_at),
        "updated_at": _datetime.to_representation(prediction.updated_at),
    }
