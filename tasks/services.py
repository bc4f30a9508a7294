from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotator.models import User
from projects.labelconfig import LabelConfig, ResultError
from projects.models import Project
from projects.services import project_broadcast
from tasks.models import Annotation, Draft, Prediction, Task, TaskLock
from tasks.selectors import task_live_lock_count, task_next_candidates

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

    tasks = Task.objects.filter(pk__in=ids)
    tasks.update(
        total_annotations=count(Annotation, was_cancelled=False),
        cancelled_annotations=count(Annotation, was_cancelled=True),
        total_predictions=count(Prediction),
    )
    tasks.update(
        is_labeled=Case(When(total_annotations__gte=F("overlap"), then=True), default=False)
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


# --- annotations ----------------------------------------------------------------------------
def _task_row_lock(task_id: int) -> None:
    """Serialise writers of one task's annotations, so each counter refresh counts the rows
    the previous writer committed (PostgreSQL; SQLite's IMMEDIATE transactions already do)."""
    Task.objects.select_for_update().filter(pk=task_id).values_list("pk", flat=True).first()


@transaction.atomic
def annotation_create(
    *,
    task: Task,
    user: User,
    result: Any,
    lead_time: float | None = None,
    was_cancelled: bool = False,
    ground_truth: bool = False,
    parent_prediction: Prediction | None = None,
) -> Annotation:
    if not was_cancelled or result:
        problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
        if problems:
            raise ValidationError({"result": problems})
    if lead_time is not None and lead_time < 0:
        raise ValidationError({"lead_time": ["lead_time must be zero or more seconds"]})
    _task_row_lock(task.pk)
    annotation = Annotation.objects.create(
        task=task,
        project_id=task.project_id,
        completed_by=user,
        result=result or [],
        lead_time=lead_time,
        was_cancelled=was_cancelled,
        ground_truth=ground_truth,
        parent_prediction=parent_prediction,
    )
    # Submitting ends the user's work on the task: their draft and lease go.
    Draft.objects.filter(task=task, user=user, annotation__isnull=True).delete()
    TaskLock.objects.filter(task=task, user=user).delete()
    task_counters_refresh(task_ids=[task.pk])
    project_broadcast(
        project_id=task.project_id,
        event={"type": "annotation.created", "task": task.pk, "annotation": annotation.pk},
    )
    return annotation


@transaction.atomic
def annotation_update(
    *,
    annotation: Annotation,
    version: int,
    result: Any | None = None,
    lead_time: float | None = None,
    was_cancelled: bool | None = None,
    ground_truth: bool | None = None,
) -> Annotation:
    """Update with optimistic concurrency: ``version`` must be the stored one, else
    AnnotationConflict carries the current state (HTTP 409)."""
    changes: dict[str, Any] = {}
    if result is not None:
        task = annotation.task
        problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
        if problems:
            raise ValidationError({"result": problems})
        changes["result"] = result
    for name, value in (
        ("lead_time", lead_time),
        ("was_cancelled", was_cancelled),
        ("ground_truth", ground_truth),
    ):
        if value is not None:
            changes[name] = value
    updated = Annotation.objects.filter(pk=annotation.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if not updated:
        raise AnnotationConflict(Annotation.objects.get(pk=annotation.pk))
    if "was_cancelled" in changes:
        _task_row_lock(annotation.task_id)
        task_counters_refresh(task_ids=[annotation.task_id])
    annotation.refresh_from_db()
    project_broadcast(
        project_id=annotation.project_id,
        event={
            "type": "annotation.updated",
            "task": annotation.task_id,
            "annotation": annotation.pk,
            "version": annotation.version,
        },
    )
    return annotation


@transaction.atomic
def annotation_delete(*, annotation: Annotation) -> None:
    task_id, project_id, pk = annotation.task_id, annotation.project_id, annotation.pk
    _task_row_lock(task_id)
    annotation.delete()
    task_counters_refresh(task_ids=[task_id])
    project_broadcast(
        project_id=project_id,
        event={"type": "annotation.deleted", "task": task_id, "annotation": pk},
    )


@transaction.atomic
def prediction_create(
    *, task: Task, result: Any, score: float | None = None, model_version: str = ""
) -> Prediction:
    problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
    if problems:
        raise ValidationError({"result": problems})
    prediction = Prediction.objects.create(
        task=task,
        project_id=task.project_id,
        result=result,
        score=score,
        model_version=model_version,
    )
    task_counters_refresh(task_ids=[task.pk])
    return prediction


# --- next task and leases -------------------------------------------------------------------
NEXT_TASK_CANDIDATES = 20


@transaction.atomic
def task_next_take(*, project: Project, user: User) -> Task | None:
    """Hand the user their next task and lease it to them for ``project.task_lock_ttl`` s.

    Two annotators never get the same task unless its overlap asks for it: on PostgreSQL
    each candidate row is taken ``FOR UPDATE SKIP LOCKED`` and its slots are re-counted
    while held, so concurrent requests serialise per task and move on to the next one; on
    SQLite the IMMEDIATE transaction serialises all writers. A user who asks again gets the
    task they already hold.
    """
    now = timezone.now()
    expires = now + timedelta(seconds=project.task_lock_ttl)
    held = (
        TaskLock.objects.filter(task__project=project, user=user, expires_at__gt=now)
        .select_related("task")
        .order_by("created_at")
        .first()
    )
    if held is not None and not held.task.is_labeled:
        TaskLock.objects.filter(pk=held.pk).update(expires_at=expires)
        return held.task
    TaskLock.objects.filter(user=user, expires_at__lte=now).delete()
    candidates = task_next_candidates(project=project, user=user, now=now)
    for task_id in candidates.values_list("pk", flat=True)[:NEXT_TASK_CANDIDATES]:
        task = Task.objects.select_for_update(skip_locked=True).filter(pk=task_id).first()
        if task is None:  # another request is handing this task out right now
            continue
        taken = task.total_annotations + task_live_lock_count(
            task_id=task.pk, now=now, exclude_user=user
        )
        if task.is_labeled or taken >= task.overlap:
            continue
        TaskLock.objects.update_or_create(task=task, user=user, defaults={"expires_at": expires})
        project_broadcast(
            project_id=project.pk,
            event={
                "type": "task.locked",
                "task": task.pk,
                "user": user.pk,
                "expires_at": expires.isoformat(),
            },
        )
        return task
    return None


@transaction.atomic
def task_lock_extend(*, task: Task, user: User) -> TaskLock:
    """Heartbeat of an open labelling page: renew the user's lease (or take one if free)."""
    now = timezone.now()
    taken = task.total_annotations + task_live_lock_count(
        task_id=task.pk, now=now, exclude_user=user
    )
    mine = TaskLock.objects.filter(task=task, user=user, expires_at__gt=now).exists()
    if not mine and taken >= task.overlap:
        raise ValidationError({"task": ["the task is locked by other annotators"]})
    lock, _ = TaskLock.objects.update_or_create(
        task=task,
        user=user,
        defaults={"expires_at": now + timedelta(seconds=task.project.task_lock_ttl)},
    )
    return lock


@transaction.atomic
def task_lock_release(*, task: Task, user: User) -> None:
    if TaskLock.objects.filter(task=task, user=user).delete()[0]:
        project_broadcast(
            project_id=task.project_id,
            event={"type": "task.unlocked", "task": task.pk, "user": user.pk},
        )


@transaction.atomic
def task_skip(*, task: Task, user: User) -> Annotation:
    """Skip = a cancelled annotation (Label Studio's model): counted, never handed out again."""
    return annotation_create(task=task, user=user, result=[], was_cancelled=True)


# --- tasks ----------------------------------------------------------------------------------
@transaction.atomic
def task_update(
    *,
    task: Task,
    data: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    priority: float | None = None,
) -> Task:
    if data is not None:
        config = task.project.parsed_config
        missing = [
            o.value_field
            for o in config.objects.values()
            if o.value_field and o.value_field not in data
        ]
        if missing:
            raise ValidationError(
                {
                    "data": [
                        f"missing data field '{name}' the labelling config uses" for name in missing
                    ]
                }
            )
        task.data = data
    if meta is not None:
        task.meta = meta
    if priority is not None:
        task.priority = priority
    task.save()
    return task


@transaction.atomic
def tasks_delete(*, project: Project, ids: Sequence[int] | None = None) -> int:
    """Delete the project's tasks (all, or those ids) with their annotations and predictions."""
    tasks = Task.objects.filter(project=project)
    if ids is not None:
        tasks = tasks.filter(pk__in=list(ids))
    deleted = tasks.delete()[1].get("tasks.Task", 0)
    project_broadcast(project_id=project.pk, event={"type": "tasks.deleted", "count": deleted})
    return deleted


# --- predictions ----------------------------------------------------------------------------
@transaction.atomic
def predictions_create_many(
    *, project: Project, items: Sequence[dict[str, Any]]
) -> list[Prediction]:
    """Bulk predictions ``[{"task", "result", "score"?, "model_version"?}]``, all or nothing."""
    task_ids = {item["task"] for item in items}
    tasks = {t.pk: t for t in Task.objects.filter(project=project, pk__in=task_ids)}
    config = project.parsed_config
    errors: list[str] = []
    for row, item in enumerate(items):
        task = tasks.get(item["task"])
        if task is None:
            errors.append(f"item {row}: task {item['task']} is not in project {project.pk}")
            continue
        errors.extend(
            f"item {row} {p}"
            for p in result_check(config=config, result=item["result"], data=task.data)
        )
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise ValidationError({"predictions": errors})
    created = Prediction.objects.bulk_create(
        [
            Prediction(
                task_id=item["task"],
                project=project,
                result=item["result"],
                score=item.get("score"),
                model_version=item.get("model_version") or "",
            )
            for item in items
        ],
        batch_size=2000,
    )
    task_counters_refresh(task_ids=task_ids)
    project_broadcast(
        project_id=project.pk, event={"type": "predictions.created", "count": len(created)}
    )
    return created


@transaction.atomic
def prediction_update(
    *,
    prediction: Prediction,
    result: Any | None = None,
    score: float | None = None,
    model_version: str | None = None,
) -> Prediction:
    if result is not None:
        task = prediction.task
        problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
        if problems:
            raise ValidationError({"result": problems})
        prediction.result = result
    if score is not None:
        prediction.score = score
    if model_version is not None:
        prediction.model_version = model_version
    prediction.save()
    return prediction


@transaction.atomic
def prediction_delete(*, prediction: Prediction) -> None:
    task_id = prediction.task_id
    prediction.delete()
    task_counters_refresh(task_ids=[task_id])


# --- drafts ---------------------------------------------------------------------------------
@transaction.atomic
def draft_save(
    *,
    task: Task,
    user: User,
    result: Any,
    lead_time: float | None = None,
    annotation: Annotation | None = None,
    version: int | None = None,
) -> Draft:
    """Create or replace the user's draft of a task (or of one of their annotations).

    Drafts are not validated against the config: they are work in progress. With a
    ``version``, a stale save is refused (409) so two tabs never silently overwrite each other.
    """
    if not isinstance(result, list):
        raise ValidationError({"result": ["result must be a list of result items"]})
    draft = (
        Draft.objects.select_for_update()
        .filter(task=task, user=user, annotation=annotation)
        .first()
    )
    if draft is None:
        return Draft.objects.create(
            task=task, user=user, annotation=annotation, result=result, lead_time=lead_time
        )
    if version is not None and version != draft.version:
        raise DraftConflict(draft)
    draft.result = result
    draft.lead_time = lead_time
    draft.version += 1
    draft.save()
    return draft
