"""Writes of the quality app: overlap sampling, task agreement, escalation, arbitration."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ExpressionWrapper, F, IntegerField, Q, Value
from django.utils import timezone

from annotator.audit import audit_record
from annotator.models import User
from projects.models import Project
from quality.agreement import ratings_read, task_values
from quality.models import ArbitrationItem, ArbitrationStatus, QualitySettings
from tasks.models import Annotation, Task
from tasks.services import annotation_create

# Fibonacci hashing of the task id: a fixed, evenly spread pseudo-random sample, so that
# applying the rule again (after each import, after a settings change) picks the same tasks
# and the share never drifts. The project id shifts the sample between projects.
_GOLDEN = 2654435761
_WORD = 2**32
SETTINGS_FIELDS = (
    "overlap_percentage",
    "overlap_annotators",
    "ambiguous_to_all",
    "agreement_threshold",
)


def quality_settings_get(*, project: Project) -> QualitySettings:
    """The project's row, or an unsaved one with the defaults."""
    found = QualitySettings.objects.filter(project=project).first()
    return found if found is not None else QualitySettings(project=project)


def _bucket() -> ExpressionWrapper:
    """0..99 per task: ((id + project) * golden mod 2^32) * 100 / 2^32, in integers."""
    hashed = ((F("id") + F("project_id")) * Value(_GOLDEN)) % Value(_WORD)
    return ExpressionWrapper(hashed * Value(100) / Value(_WORD), output_field=IntegerField())


def overlap_apply(*, project: Project, after_id: int = 0) -> int:
    """Write ``Task.overlap`` of the project's tasks with id > ``after_id`` that nobody has
    started (no annotation, skip or lease is affected by it): the sampled share and the
    ambiguous tasks need ``overlap_annotators`` annotations, the others one. Does nothing
    while Label Studio's own overlap (``maximum_annotations`` > 1) is on. Returns the number
    of tasks now overlapped."""
    if project.maximum_annotations > 1:
        return 0
    qs = quality_settings_get(project=project)
    fresh = Task.objects.filter(
        project=project, id__gt=after_id, total_annotations=0, cancelled_annotations=0
    )
    chosen = Q(bucket__lt=qs.overlap_percentage)
    if qs.ambiguous_to_all:
        chosen |= Q(meta__ambiguous=True)
    with transaction.atomic():
        marked = fresh.annotate(bucket=_bucket()).filter(chosen).values("id")
        overlapped = Task.objects.filter(id__in=marked).update(overlap=qs.overlap_annotators)
        if not after_id:  # an import (after_id) writes new tasks with overlap 1 already
            fresh.exclude(id__in=marked).exclude(overlap=1).update(overlap=1)
    return overlapped


@transaction.atomic
def quality_settings_update(*, project: Project, user: User, **changes: Any) -> QualitySettings:
    """Save the settings and re-sample the overlap of the tasks nobody has started."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: ["unknown setting"] for name in sorted(unknown)})
    settings = quality_settings_get(project=project)
    before = {name: getattr(settings, name) for name in changes}
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    overlap_apply(project=project)
    audit_record(
        action="quality.settings",
        actor=user,
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        before=before,
        after=changes,
    )
    return settings


# --- agreement and escalation ---------------------------------------------------------------
def _escalate(*, project: Project, values: dict[int, float]) -> int:
    """Open an arbitration item for each finished task (all its annotations in, no ground
    truth yet, never escalated) whose agreement is below the project's threshold."""
    threshold = quality_settings_get(project=project).agreement_threshold
    if threshold is None:
        return 0
    low = [t for t, v in values.items() if v < threshold]
    if not low:
        return 0
    candidates = (
        Task.objects.filter(id__in=low, total_annotations__gte=F("overlap"))
        .exclude(arbitration__isnull=False)
        .exclude(annotations__ground_truth=True)
        .values_list("id", flat=True)
    )
    items = [ArbitrationItem(project=project, task_id=t, agreement=values[t]) for t in candidates]
    ArbitrationItem.objects.bulk_create(items, ignore_conflicts=True)
    return len(items)


@transaction.atomic
def task_agreement_refresh(*, task_id: int) -> float | None:
    """Recompute one task's agreement (``Task.agreement``), escalating it when low."""
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None:
        return None
    values = task_values(
        project=task.project, ratings=ratings_read(project=task.project, task_ids=[task_id])
    )
    value = values.get(task_id)
    Task.objects.filter(pk=task_id).update(agreement=value)
    threshold = quality_settings_get(project=task.project).agreement_threshold
    if value is None or threshold is None or value >= threshold:
        # An edit or a deletion settled the dispute before an expert did.
        ArbitrationItem.objects.filter(task_id=task_id, status=ArbitrationStatus.OPEN).delete()
    else:
        _escalate(project=task.project, values={task_id: value})
    return value


@transaction.atomic
def project_agreement_refresh(*, project: Project) -> int:
    """Recompute ``Task.agreement`` of every task of the project with 2+ annotations (and
    clear it elsewhere), escalating low ones. Returns the number of tasks with a value."""
    values = task_values(project=project, ratings=ratings_read(project=project))
    Task.objects.filter(project=project, agreement__isnull=False).exclude(
        id__in=list(values)
    ).update(agreement=None)
    _agreement_write(values)
    _escalate(project=project, values=values)
    return len(values)


def _agreement_write(values: dict[int, float]) -> None:
    """Per-task values take few distinct values (two annotators on one choice: 0 or 1), so one
    UPDATE per value and id chunk beats a CASE per row; many distinct values (spans) use
    bulk_update."""
    by_value: dict[float, list[int]] = {}
    for task_id, value in values.items():
        by_value.setdefault(value, []).append(task_id)
    if len(by_value) > 200:
        rows = [Task(pk=t, agreement=v) for t, v in values.items()]
        Task.objects.bulk_update(rows, ["agreement"], batch_size=500)
        return
    for value, ids in by_value.items():
        for start in range(0, len(ids), 5000):
            Task.objects.filter(id__in=ids[start : start + 5000]).update(agreement=value)


# --- arbitration -----------------------------------------------------------------------------
@transaction.atomic
def arbitration_resolve(
    *,
    item: ArbitrationItem,
    user: User,
    annotation_id: int | None = None,
    result: Any = None,
) -> Annotation:
    """The expert's decision: a copy of one of the task's annotations (``annotation_id``) or
    their own ``result``, saved as the task's ground truth by them; the item leaves the queue."""
    item = (
        ArbitrationItem.objects.select_for_update().select_related("task__project").get(pk=item.pk)
    )
    if item.status != ArbitrationStatus.OPEN:
        raise ValidationError({"task": ["this task was already arbitrated"]})
    if annotation_id is not None:
        chosen = Annotation.objects.filter(
            pk=annotation_id, task_id=item.task_id, was_cancelled=False
        ).first()
        if chosen is None:
            raise ValidationError({"annotation": ["not a finished annotation of this task"]})
        result = chosen.result
    elif result is None:
        raise ValidationError({"result": ["give an annotation id or a result"]})
    decision = annotation_create(task=item.task, user=user, result=result, ground_truth=True)
    item.status = ArbitrationStatus.RESOLVED
    item.decision = decision
    item.resolved_by = user
    item.resolved_at = timezone.now()
    item.save(update_fields=["status", "decision", "resolved_by", "resolved_at"])
    audit_record(
        action="quality.arbitrate",
        actor=user,
        object_type="task",
        object_id=item.task_id,
        organization_id=item.task.project.organization_id,
        project_id=item.project_id,
        after={"annotation": decision.pk, "copied_from": annotation_id, "ground_truth": True},
        detail={"agreement": item.agreement},
    )
    return decision
