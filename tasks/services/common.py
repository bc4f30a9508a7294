"""Rules shared by the task services: result validation, counters, conflicts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual

from projects.labelconfig import LabelConfig, ResultError
from projects.models import Project
from tasks.models import Annotation, Draft, Prediction, Task

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
def task_counters_refresh(*, task_ids: Iterable[int]) -> None:
    """Recompute the denormalised counters of the given tasks from their rows.

    One UPDATE with correlated counts: correct whatever ran concurrently, since it reads
    the rows committed at that moment instead of adding deltas to a stale value.
    """
    ids = list(task_ids)
    if not ids:
        return

    def count(model: type[Annotation] | type[Prediction], **flt: Any) -> Coalesce:
        sub = (
            model.objects.filter(task=OuterRef("pk"), **flt)
            .order_by()
            .values("task")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))

    done = count(Annotation, was_cancelled=False)
    newest_score = (
        Prediction.objects.filter(task=OuterRef("pk"), score__isnull=False)
        .order_by("-id")
        .values("score")[:1]
    )
    Task.objects.filter(pk__in=ids).update(
        total_annotations=done,
        cancelled_annotations=count(Annotation, was_cancelled=True),
        total_predictions=count(Prediction),
        prediction_score=Subquery(newest_score),
        # SET expressions read the old row, so is_labeled recounts rather than reading
        # the total_annotations being written.
        is_labeled=Case(When(GreaterThanOrEqual(done, F("overlap")), then=True), default=False),
    )


def task_row_lock(task_id: int) -> None:
    """Serialise writers of one task's annotations, so each counter refresh counts the rows
    the previous writer committed (PostgreSQL; SQLite's IMMEDIATE transactions already do)."""
    Task.objects.select_for_update().filter(pk=task_id).values_list("pk", flat=True).first()
