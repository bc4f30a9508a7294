"""Training, evaluation, promotion and predictions of the built-in entity recogniser, the
twin of the intent loop (``training.py``): one example per annotated task (ground truth
first, else its newest finished annotation), the same fixed validation split, a version
with validation metrics, promoted only when its entity F1 beats the active version's on
that split, and predictions as Label Studio ``labels`` results with a score per span.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from mlserve.builtin.entities import EntityRecognizer, ScoredSpan, Span
from mlserve.models import ModelStatus, ModelVersion
from mlserve.services.common import (
    Progress,
    artifact_name,
    model_version_activate,
    project_language,
    promotion_rival,
    text_chunks,
    text_field,
    text_of,
    validation_split,
)
from projects.labelconfig import LabelConfig
from projects.labelconfig.schema import ControlTag
from projects.models import Project
from tasks.models import Annotation, Prediction, Task
from tasks.services.common import task_counters_refresh

ENTITY_TAGS = ("Labels",)
ENTITY_OBJECTS = ("Text",)
# Bounds of one training run (DESIGN §6: retraining must stay cheap enough to repeat).
MAX_EPOCHS = 30
PATIENCE = 3
TIME_LIMIT_S = 270.0


@dataclass(frozen=True)
class EntityExample:
    task_id: int
    text: str
    spans: tuple[Span, ...]


def entity_controls(config: LabelConfig) -> list[ControlTag]:
    """``Labels`` controls on a ``Text`` object: what the entity recogniser learns."""
    found = []
    for control in config.controls.values():
        if control.tag not in ENTITY_TAGS:
            continue
        objects = [config.objects.get(name) for name in control.to_name]
        if any(o is not None and o.tag in ENTITY_OBJECTS and o.value_field for o in objects):
            found.append(control)
    return found


def entity_control(project: Project, name: str) -> ControlTag | None:
    return next((c for c in entity_controls(project.parsed_config) if c.name == name), None)


def _entity_control(project: Project, name: str) -> ControlTag:
    control = entity_control(project, name)
    if control is None:
        names = [c.name for c in entity_controls(project.parsed_config)]
        raise ValidationError({"control": [f"no Labels control on a Text {name!r}: {names}"]})
    return control


def _spans_of(result: Any, control: ControlTag) -> tuple[Span, ...]:
    spans = []
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict) or item.get("from_name") != control.name:
            continue
        value = item.get("value") or {}
        start, end, labels = value.get("start"), value.get("end"), value.get("labels") or []
        if isinstance(start, int) and isinstance(end, int) and end > start and labels:
            spans.append(Span(start, end, str(labels[0])))
    return tuple(sorted(set(spans)))


def entity_examples(*, project: Project, control_name: str) -> list[EntityExample]:
    """One example per task with a finished annotation: the spans of its ground-truth
    annotation, else of its newest one (an annotation without spans says "no entity")."""
    control = _entity_control(project, control_name)
    field = text_field(project, control)
    annotations = (
        Annotation.objects.filter(project=project, was_cancelled=False)
        .order_by("task_id", "-ground_truth", "-id")
        .values_list("task_id", "result")
    )
    spans: dict[int, tuple[Span, ...]] = {}
    for task_id, result in annotations.iterator(chunk_size=2000):
        if task_id not in spans:
            spans[task_id] = _spans_of(result, control)
    examples = []
    tasks = Task.objects.filter(pk__in=list(spans)).values_list("pk", "data")
    for task_id, data in tasks.iterator(chunk_size=2000):
        text = text_of(data, field)
        if text is not None:
            examples.append(EntityExample(task_id, text, spans[task_id]))
    examples.sort(key=lambda e: e.task_id)
    return examples


def entity_model_load(version: ModelVersion) -> EntityRecognizer:
    with default_storage.open(version.artifact, "rb") as handle:
        return EntityRecognizer.from_bytes(handle.read())


def _failed(version: ModelVersion, exc: Exception) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
    )


def entity_version_train(
    *, version: ModelVersion, progress: Progress | None = None, promote: bool = True
) -> ModelVersion:
    """Train an entity version on the project's current annotations, evaluate it on the
    validation split and promote it when its F1 there beats the active version's."""
    started = time.perf_counter()
    report = progress or (lambda _: None)
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelStatus.TRAINING, progress=0.0)
    try:
        seen = Annotation.objects.filter(project_id=version.project_id).aggregate(n=Max("id"))["n"]
        examples = entity_examples(project=version.project, control_name=version.control)
        held = [
            validation_split(project_id=version.project_id, task_id=e.task_id) for e in examples
        ]
        train = [e for e, h in zip(examples, held, strict=True) if not h]
        valid = [e for e, h in zip(examples, held, strict=True) if h]
        if not any(e.spans for e in train):
            raise ValidationError({"annotations": [f"{len(train)} training examples, no span"]})

        def fit_progress(share: float) -> None:
            report(0.9 * share)
            ModelVersion.objects.filter(pk=version.pk).update(progress=round(0.9 * share, 3))

        model = EntityRecognizer.fit(
            [(e.text, e.spans) for e in train],
            lang=project_language(project=version.project),
            valid=[(e.text, e.spans) for e in valid],
            max_epochs=MAX_EPOCHS,
            patience=PATIENCE,
            time_limit=TIME_LIMIT_S,
            progress=fit_progress,
        )
        metrics: dict[str, Any] = {"labels": model.labels, **model.info}
        if valid:
            scores = model.evaluate([e.text for e in valid], [e.spans for e in valid])
            metrics.update(
                entity_f1=scores["f1"],
                precision=scores["precision"],
                recall=scores["recall"],
                per_label=scores["per_label"],
                score_correct=scores["score_correct"],
                score_wrong=scores["score_wrong"],
            )
        artifact = default_storage.save(
            artifact_name(version, "spacy"), ContentFile(model.to_bytes())
        )
    except Exception as exc:  # the version records why; the caller's job is done
        _failed(version, exc)
        raise
    version.status = ModelStatus.READY
    version.progress = 1.0
    version.encoder = model.base
    version.metrics = metrics
    version.artifact = artifact
    version.train_size = len(train)
    version.validation_size = len(valid)
    version.train_seconds = round(time.perf_counter() - started, 2)
    version.annotations_seen = seen or 0
    version.finished_at = timezone.now()
    version.save()
    if promote:
        _promote_if_better(version, valid)
    return version


def _promote_if_better(version: ModelVersion, valid: list[EntityExample]) -> None:
    active = promotion_rival(version=version, has_validation=bool(valid))
    if active is None:
        return
    theirs = entity_model_load(active).evaluate([e.text for e in valid], [e.spans for e in valid])[
        "f1"
    ]
    ours = version.metrics["entity_f1"]
    version.metrics["compared_with"] = {"version": active.name, "entity_f1": theirs}
    if ours >= theirs:
        version.promotion = f"promoted: F1 {ours:.4f} >= {theirs:.4f} of {active.name}"
        version.save(update_fields=["promotion", "metrics"])
        model_version_activate(version=version)
    else:
        version.promotion = f"kept back: F1 {ours:.4f} < {theirs:.4f} of {active.name}"
        version.save(update_fields=["promotion", "metrics"])


def span_results(control: ControlTag, text: str, spans: Iterable[ScoredSpan]) -> list[dict]:
    """Label Studio ``labels`` result items, one per span, each with its score."""
    return [
        {
            "id": f"{control.name}-{i}",
            "from_name": control.name,
            "to_name": control.to_name[0],
            "type": "labels",
            "value": {
                "start": s.start,
                "end": s.end,
                "text": text[s.start : s.end],
                "labels": [s.label],
            },
            "score": s.score,
        }
        for i, s in enumerate(spans)
    ]


def _prediction_score(spans: list[ScoredSpan]) -> float | None:
    # The task's confidence is its least sure span: one doubtful span is worth a look.
    return min(s.score for s in spans) if spans else None


def spans_predictions_write(
    *,
    project: Project,
    control: ControlTag,
    model_version: str,
    items: list[tuple[int, str]],
    spans: list[list[ScoredSpan]],
) -> int:
    """Store one prediction per task for ``model_version`` (replacing its earlier one)."""
    with transaction.atomic():
        Prediction.objects.filter(
            task_id__in=[pk for pk, _ in items], model_version=model_version
        ).delete()
        Prediction.objects.bulk_create(
            [
                Prediction(
                    task_id=pk,
                    project=project,
                    result=span_results(control, text, found),
                    score=_prediction_score(found),
                    model_version=model_version,
                )
                for (pk, text), found in zip(items, spans, strict=True)
            ]
        )
        task_counters_refresh(task_ids=[pk for pk, _ in items])
    return len(items)


def entity_predictions_write(
    *, version: ModelVersion, task_ids: Iterable[int], progress: Progress | None = None
) -> int:
    """Predict ``task_ids`` with an entity version and store the span predictions."""
    project = version.project
    control = _entity_control(project, version.control)
    field = text_field(project, control)
    model = entity_model_load(version)
    ids = list(task_ids)
    written = 0
    for done, items in text_chunks(ids, field):
        if not items:
            continue
        found = model.predict([text for _, text in items])
        written += spans_predictions_write(
            project=project,
            control=control,
            model_version=version.name,
            items=items,
            spans=found,
        )
        if progress is not None:
            progress(done / len(ids))
    return written
