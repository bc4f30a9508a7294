"""Rules shared by the task services: result validation, counters, conflicts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from projects.labelconfig import LabelConfig, ResultError
from projects.models import Project
from tasks.models import Annotation, Draft

MAX_REPORTED_ERRORS = 50


class StaleVersion(Exception):
    """A write carried a stale version; ``current`` is the stored row (HTTP 409)."""

    def __init__(self, current: Annotation | Draft) -> None:
        name = type(current).__name__.lower()
        super().__init__(f"{name} {current.pk} is at version {current.version}")
        self.current = current


class AnnotationConflict(StaleVersion):
    pass


class DraftConflict(StaleVersion):
    pass


class DraftAfterSubmit(StaleVersion):
    """A draft of work already submitted (a late auto-save racing the submit): not stored;
    ``current`` is the submitted annotation."""

    detail = "Already submitted: the draft was not stored; this is the saved annotation."
    reason = "submitted"


def result_check(*, config: LabelConfig, result: Any, data: dict[str, Any]) -> list[str]:
    """Problems of a result against the config, as readable strings (empty when valid)."""
    if not isinstance(result, list):
        return ["result must be a list of result items"]
    try:
        config.validate_result(result, data)
    except ResultError as exc:
        return [_issue_text(issue.to_dict()) for issue in exc.issues]
    return []


def required_data_fields(config: LabelConfig) -> list[str]:
    """Top-level task data keys the config's object tags display (``$text``, ``$image``...)."""
    fields = (o.value_field.split(".")[0] for o in config.objects.values() if o.value_field)
    return list(dict.fromkeys(fields))


def missing_field_message(name: str) -> str:
    return f"missing data field '{name}' the labelling config uses"


def _issue_text(issue: dict[str, Any]) -> str:
    where = f"item {issue['index']}" if issue.get("index") is not None else "result"
    if issue.get("field"):
        where += f" {issue['field']}"
    return f"{where}: {issue['message']}"


def task_overlap_for(*, project: Project, index: int) -> int:
    """Annotations the index-th task of an import needs: the overlap cohort gets
    ``maximum_annotations``, spread evenly (not randomly) so re-imports are reproducible."""
    if project.maximum_annotations <= 1 or project.overlap_cohort_percentage >= 100:
        return project.maximum_annotations
    in_cohort = (
        index * project.overlap_cohort_percentage
    ) % 100 < project.overlap_cohort_percentage
    return project.maximum_annotations if in_cohort else 1


# --- counters ---------------------------------------------------------------------------------
_COUNT = "(SELECT COUNT(*) FROM {table} c WHERE c.task_id = tasks_task.id{extra})"
_DONE = _COUNT.format(table="tasks_annotation", extra=" AND NOT c.was_cancelled")
_CANCELLED = _COUNT.format(table="tasks_annotation", extra=" AND c.was_cancelled")
_PREDICTIONS = _COUNT.format(table="tasks_prediction", extra="")
# The newest scored prediction's score (the data manager's column).
_NEWEST_SCORE = (
    "(SELECT p.score FROM tasks_prediction p WHERE p.task_id = tasks_task.id"
    " AND p.score IS NOT NULL ORDER BY p.id DESC LIMIT 1)"
)
# SET expressions read the old row, so is_labeled recounts rather than reading the
# total_annotations being written.
_REFRESH_COUNTERS = (  # constants only; the ids are parameters
    f"UPDATE tasks_task SET total_annotations = {_DONE}, cancelled_annotations = {_CANCELLED},"  # nosec B608 # noqa: S608
    f" total_predictions = {_PREDICTIONS}, prediction_score = {_NEWEST_SCORE},"
    f" is_labeled = ({_DONE} >= overlap) WHERE id IN "
)
REFRESH_BATCH = 500


def task_counters_refresh(*, task_ids: Iterable[int]) -> None:
    """Recompute the denormalised counters of the given tasks from their rows.

    One UPDATE with correlated counts per batch: correct whatever ran concurrently, since it
    reads the rows committed at that moment instead of adding deltas to a stale value. Plain
    SQL: it runs on every submit, and the ORM's version cost more to compile than to run.
    """
    ids = list(task_ids)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), REFRESH_BATCH):
            batch = ids[start : start + REFRESH_BATCH]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(f"{_REFRESH_COUNTERS}({marks})", batch)


def task_row_lock(task_id: int) -> None:
    """Serialise writers of one task's annotations, so each counter refresh counts the rows
    the previous writer committed (PostgreSQL; SQLite's IMMEDIATE transactions already do)."""
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM tasks_task WHERE id = %s FOR UPDATE", [task_id])
