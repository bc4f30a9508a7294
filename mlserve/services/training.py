"""Training, evaluation, promotion and predictions of the built-in intent model; the entity
recogniser's twin loop lives in ``entities.py`` and these entry points dispatch to it by the
version's kind.

The loop (DESIGN §6): annotations -> examples (one per task: its newest finished
annotation, ground truth first) -> a fixed validation split -> embeddings (cached per task)
-> a new ``ModelVersion`` -> promoted only if it beats the active one on the same split ->
predictions stored as Label Studio predictions, with the full probability vector beside.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotator.jobs_runtime import job_kind, job_retry
from mlserve.builtin.encoders import ENCODERS
from mlserve.models import (
    ModelKind,
    ModelStatus,
    ModelVersion,
    PredictionProbabilities,
)
from mlserve.selectors import active_versions
from mlserve.services import entities
from mlserve.services.common import (
    Progress,
    artifact_name,
    clearly_worse,
    finetune_wanted,
    model_version_activate,
    promotion_rival,
    text_chunks,
    text_field,
    text_of,
    validation_split,
)
from mlserve.services.embeddings import project_encoder, task_embeddings
from mlserve.services.intents import (
    head_fit,
    intent_correct,
    intent_evaluate,
    intent_result,
    labels_of,
    model_load,
    score_key,
    transformer_finetune,
)
from projects.labelconfig import LabelConfig
from projects.labelconfig.schema import ControlTag
from projects.models import Project
from tasks.models import Annotation, Prediction, Task
from tasks.services.bulk import as_json, insert_rows, reserve_ids
from tasks.services.common import task_counters_refresh
from tasks.services.labelling import PredictionFetch

INTENT_TAGS = ("Choices", "Taxonomy")


@dataclass(frozen=True)
class TrainingExample:
    task_id: int
    text: str
    label: str  # a single-label control's label; a multi-label one's labels, joined by " + "
    labels: tuple[str, ...] = ()

    @property
    def label_set(self) -> tuple[str, ...]:
        return self.labels or (self.label,)


def intent_controls(config: LabelConfig) -> list[ControlTag]:
    """Choices and Taxonomy controls on a text object, single- or multi-label: what the
    intent model learns."""
    found = []
    for control in config.controls.values():
        if control.tag not in INTENT_TAGS:
            continue
        objects = [config.objects.get(name) for name in control.to_name]
        if any(obj is not None and obj.value_field for obj in objects):
            found.append(control)
    return found


def trainable_controls(config: LabelConfig) -> list[ControlTag]:
    """Every control a built-in model can learn: intent controls, then entity controls."""
    return intent_controls(config) + entities.entity_controls(config)


def _kind_of(project: Project, control: str) -> ModelKind:
    if entities.entity_control(project, control) is not None:
        return ModelKind.ENTITIES
    _intent_control(project, control)
    return ModelKind.INTENT


def _intent_control(project: Project, name: str) -> ControlTag:
    for control in intent_controls(project.parsed_config):
        if control.name == name:
            return control
    names = [c.name for c in trainable_controls(project.parsed_config)]
    raise ValidationError(
        {"control": [f"no Choices, Taxonomy or Labels control {name!r} on a text; "
                     f"trainable: {names}"]}
    )  # fmt: skip


def task_texts(*, project: Project, task_ids: list[int]) -> list[tuple[int, str]]:
    """(id, text) of tasks, in the given order, the text being what the project's first
    intent control reads ("" where a task has none)."""
    controls = intent_controls(project.parsed_config)
    if not controls:
        return [(i, "") for i in task_ids]
    field = text_field(project, controls[0])
    data = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "data"))
    return [(i, text_of(data.get(i), field) or "") for i in task_ids]


def training_examples(*, project: Project, control_name: str) -> list[TrainingExample]:
    """One example per annotated task: the label(s) of its ground-truth annotation, else of
    its newest finished one (skips, and results without a value for the control, or with
    several for a single-label control, are left out)."""
    control = _intent_control(project, control_name)
    field = text_field(project, control)
    annotations = (
        Annotation.objects.filter(project=project, was_cancelled=False)
        .order_by("task_id", "-ground_truth", "-id")
        .values_list("task_id", "result")
    )
    labels: dict[int, tuple[str, ...]] = {}
    for task_id, result in annotations.iterator(chunk_size=2000):
        if task_id not in labels:
            found = labels_of(result, control)
            if found is not None:
                labels[task_id] = found
    examples = []
    tasks = Task.objects.filter(pk__in=list(labels)).values_list("pk", "data")
    for task_id, data in tasks.iterator(chunk_size=2000):
        text = text_of(data, field)
        if text is None:
            continue
        found = labels[task_id]
        if control.is_single:
            examples.append(TrainingExample(task_id, text, found[0]))
        else:
            examples.append(TrainingExample(task_id, text, " + ".join(found), found))
    examples.sort(key=lambda e: e.task_id)
    return examples


@transaction.atomic
def model_version_create(
    *, project: Project, control: str, encoder: str | None = None
) -> ModelVersion:
    """A queued version of ``control``'s model; an intent model's encoder is ``encoder``
    when given (``ml_evaluate --encoder``), else the project language's."""
    kind = _kind_of(project, control)
    if encoder is not None and encoder not in ENCODERS:
        raise ValidationError(
            {"encoder": [f"unknown encoder {encoder!r}; known: {list(ENCODERS)}"]}
        )
    if kind == ModelKind.INTENT and encoder is None:
        encoder = project_encoder(project=project)
    Project.objects.select_for_update().filter(pk=project.pk).first()  # numbers in order
    last = ModelVersion.objects.filter(project=project, control=control).aggregate(n=Max("number"))
    number = (last["n"] or 0) + 1
    return ModelVersion.objects.create(
        project=project,
        control=control,
        kind=kind,
        number=number,
        name=f"{control}-v{number}",
        encoder=(encoder or "") if kind == ModelKind.INTENT else "",
    )


def model_version_retry(*, version: ModelVersion) -> ModelVersion:
    """Queue a failed version's training again (its worker kept dying, or the annotations
    lacked a label then); the same version, its number kept."""
    if version.status != ModelStatus.FAILED:
        raise ValidationError(
            {"status": [f"the version is {version.status}: only a failed one can be retried"]}
        )
    if not job_retry(job_kind(ModelVersion), version.pk, reset={"error": "", "progress": 0.0}):
        raise ValidationError({"status": ["the version is no longer failed"]})
    version.refresh_from_db()
    return version


def builtin_task_predict(task: Task) -> PredictionFetch | None:
    """The labelling page's fetcher (registered in apps.py, before the external backends'):
    a task opened without a prediction is predicted by the project's active built-in intent
    version, if any (one embedding and one head: tens of milliseconds once warm)."""
    versions = active_versions(project_id=task.project_id)
    version = versions[0] if versions else None
    if version is None:
        return None
    try:
        predictions_write(version=version, task_ids=[task.pk])
    except (ValidationError, OSError, ValueError) as exc:
        return PredictionFetch(prediction=None, notice=f"No prediction from {version.name}: {exc}")
    found = Prediction.objects.filter(task=task, model_version=version.name).order_by("-id").first()
    return PredictionFetch(prediction=found) if found is not None else None


def model_version_train(
    *, version: ModelVersion, progress: Progress | None = None, promote: bool = True
) -> ModelVersion:
    """Train ``version`` on the project's current annotations, evaluate it on the validation
    split and promote it when it beats the active version there (or none is active).

    A head (logistic regression on cached embeddings and n-grams) warm-starts from the
    previous version's; a single-label control of a project whose ``finetune`` setting asks
    for it (``finetune_wanted``) fine-tunes the transformer instead."""
    if version.kind == ModelKind.ENTITIES:
        return entities.entity_version_train(version=version, progress=progress, promote=promote)
    started = time.perf_counter()
    report = progress or (lambda _: None)
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelStatus.TRAINING, progress=0.0)
    try:
        seen = Annotation.objects.filter(project_id=version.project_id).aggregate(n=Max("id"))["n"]
        control = _intent_control(version.project, version.control)
        examples = training_examples(project=version.project, control_name=version.control)
        held = [
            validation_split(project_id=version.project_id, task_id=e.task_id) for e in examples
        ]
        train = [e for e, h in zip(examples, held, strict=True) if not h]
        valid = [e for e, h in zip(examples, held, strict=True) if h]
        if len({label for e in train for label in e.label_set}) < 2:
            raise ValidationError(
                {"annotations": [f"{len(train)} training examples with fewer than 2 labels"]}
            )

        def embed_progress(share: float) -> None:
            report(0.7 * share)
            ModelVersion.objects.filter(pk=version.pk).update(progress=round(0.7 * share, 3))

        valid_vectors = None
        if control.is_single and finetune_wanted(project=version.project):
            model = transformer_finetune(
                version=version, texts=[e.text for e in train], labels=[e.label for e in train]
            )
        else:
            vectors = task_embeddings(
                [(e.task_id, e.text) for e in examples],
                encoder=version.encoder,
                progress=embed_progress,
            )
            train_rows = [i for i, h in enumerate(held) if not h]
            valid_vectors = vectors[[i for i, h in enumerate(held) if h]]
            model = head_fit(
                version=version, control=control, texts=[e.text for e in train],
                label_sets=[e.label_set for e in train], vectors=vectors[train_rows],
            )  # fmt: skip
        report(0.85)
        metrics: dict[str, Any] = {"classes": model.classes}
        if valid:
            texts, label_sets = [e.text for e in valid], [e.label_set for e in valid]
            model.calibrate(texts, valid_vectors, label_sets if model.multi_label else
                            [e.label for e in valid])  # fmt: skip
            metrics.update(intent_evaluate(model, texts, valid_vectors, label_sets))
        metrics.update(model.info)
        artifact = default_storage.save(
            artifact_name(version, "joblib"), ContentFile(model.to_bytes())
        )
    except Exception as exc:  # the version records why; the caller's job is done
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    version.status = ModelStatus.READY
    version.progress = 1.0
    version.metrics = metrics
    version.artifact = artifact
    version.train_size = len(train)
    version.validation_size = len(valid)
    version.train_seconds = round(time.perf_counter() - started, 2)
    version.annotations_seen = seen or 0
    version.finished_at = timezone.now()
    version.save()
    if promote:
        _promote_if_better(version, model, valid, valid_vectors)
    return version


def _promote_if_better(
    version: ModelVersion, model: Any, valid: list[TrainingExample], vectors: Any
) -> None:
    active = promotion_rival(version=version, has_validation=bool(valid))
    if active is None:
        return
    theirs_model = model_load(active)
    key = score_key(model)
    if theirs_model.multi_label != model.multi_label:
        key = "accuracy"  # the control changed from one label to several (or back)
    texts, label_sets = [e.text for e in valid], [e.label_set for e in valid]
    theirs_vectors = None
    if theirs_model.needs_embeddings:  # its own encoder's: the language may have changed
        items = [(e.task_id, e.text) for e in valid]
        theirs_vectors = task_embeddings(items, encoder=active.encoder)
    theirs = intent_evaluate(theirs_model, texts, theirs_vectors, label_sets)[key]
    ours = version.metrics[key]
    worse, counts = clearly_worse(
        intent_correct(model, texts, vectors, label_sets),
        intent_correct(theirs_model, texts, theirs_vectors, label_sets),
    )
    version.metrics["compared_with"] = {"version": active.name, key: theirs}
    compared = f"{key} {ours:.4f} against {theirs:.4f} of {active.name} ({counts} they disagree on)"
    if not worse:
        version.promotion = f"promoted: {compared}"
        version.save(update_fields=["promotion", "metrics"])
        model_version_activate(version=version)
    else:
        version.promotion = f"kept back, worse beyond chance: {compared}"
        version.save(update_fields=["promotion", "metrics"])


def predictions_write(
    *, version: ModelVersion, task_ids: Iterable[int], progress: Progress | None = None
) -> int:
    """Predict ``task_ids`` with ``version`` and store the predictions (replacing its
    earlier ones on those tasks) with their probability vectors (intent: one per class, or
    per label for a multi-label control) or span scores (entities). Returns how many."""
    if version.kind == ModelKind.ENTITIES:
        return entities.entity_predictions_write(
            version=version, task_ids=task_ids, progress=progress
        )
    project = version.project
    control = _intent_control(project, version.control)
    field = text_field(project, control)
    model = model_load(version)
    ids = list(task_ids)
    written = 0
    for done, items in text_chunks(ids, field):
        if not items:
            continue
        vectors = (
            task_embeddings(items, encoder=version.encoder) if model.needs_embeddings else None
        )
        probabilities = model.predict_proba([t for _, t in items], vectors)
        results = [intent_result(control, model, row) for row in probabilities]
        with transaction.atomic():
            Prediction.objects.filter(
                task_id__in=[pk for pk, _ in items], model_version=version.name
            ).delete()
            _predictions_insert(version, items, results, probabilities)
            task_counters_refresh(task_ids=[pk for pk, _ in items])
        written += len(items)
        if progress is not None:
            progress(done / len(ids))
    return written


def _predictions_insert(
    version: ModelVersion, items: list[tuple[int, str]], results: list[Any], probabilities: Any
) -> None:
    """The prediction rows and their probability vectors, ids reserved first and written
    through COPY (PostgreSQL) or executemany (SQLite): ``bulk_create`` spent 3.6 s of a 7 s
    predictions round over a 10k pool preparing and quoting parameters (al_simulate's
    profile), the COPY a fraction of it."""
    now = timezone.now()
    ids = reserve_ids(Prediction, len(items))
    insert_rows(
        Prediction,
        ("id", "task_id", "project_id", "result", "score", "model_version", "created_at",
         "updated_at"),
        [
            (pk, task_id, version.project_id, as_json(result), round(score, 4), version.name,
             now, now)
            for pk, (task_id, _), (result, score) in zip(ids, items, results, strict=True)
        ],
    )  # fmt: skip
    insert_rows(
        PredictionProbabilities,
        ("prediction_id", "version_id", "probabilities"),
        [
            (pk, version.pk, row.astype(np.float32).tobytes())
            for pk, row in zip(ids, probabilities, strict=True)
        ],
    )


def retrain_due(*, project: Project) -> list[str]:
    """The trainable controls whose model is due for retraining: ``retrain_every`` finished
    annotations (or more) arrived since their newest version saw the annotations."""
    settings = getattr(project, "ml_settings", None)
    if settings is None or settings.retrain_every == 0:
        return []
    controls = [c.name for c in trainable_controls(project.parsed_config)]
    if settings.control:
        controls = [c for c in controls if c == settings.control]
    due = []
    for control in controls:
        newest = (
            ModelVersion.objects.filter(project=project, control=control)
            .order_by("-number")
            .first()
        )
        if newest is not None and newest.status in (ModelStatus.QUEUED, ModelStatus.TRAINING):
            continue
        since = newest.annotations_seen if newest is not None else 0
        fresh = Annotation.objects.filter(
            project=project, id__gt=since, was_cancelled=False
        ).count()
        if fresh >= settings.retrain_every:
            due.append(control)
    return due
