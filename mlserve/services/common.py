"""Pieces shared by the built-in models' loops: the fixed validation split, a control's text
field, activation, and the project's language."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction

from mlserve.models import FinetuneMode, ModelStatus, ModelVersion
from projects.labelconfig.schema import ControlTag
from projects.models import Project
from tasks.models import Task

Progress = Callable[[float], None]
# One task in five is held out, by a hash of the project and task ids: the split never
# changes as annotations arrive, so versions are compared on the same tasks.
VALIDATION_SHARE = 5
PREDICT_CHUNK = 512
# Tasks whose `data.lang` decides a project's language when no setting does.
LANGUAGE_SAMPLE = 2000
DEFAULT_LANGUAGE = "en"


def validation_split(*, project_id: int, task_id: int) -> bool:
    digest = hashlib.sha256(f"{project_id}:{task_id}".encode()).digest()
    return digest[0] % VALIDATION_SHARE == 0


def text_field(project: Project, control: ControlTag) -> str:
    for name in control.to_name:
        obj = project.parsed_config.objects.get(name)
        if obj is not None and obj.value_field:
            return obj.value_field
    raise ValidationError({"control": [f"{control.name} labels no text object"]})


def text_of(data: Any, field: str) -> str | None:
    current = data
    for key in field.split("."):
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current if isinstance(current, str) and current.strip() else None


def project_language(*, project: Project) -> str:
    """The ML settings' ``language`` when set, else the most common ``data.lang`` of the
    project's first tasks (Label Studio tasks often carry one; the demo's do), else English.
    A tie goes to the language seen first."""
    settings = getattr(project, "ml_settings", None)
    if settings is not None and settings.language:
        return str(settings.language)
    langs = (
        Task.objects.filter(project=project)
        .order_by("id")
        .values_list("data__lang", flat=True)[:LANGUAGE_SAMPLE]
    )
    counts = Counter(lang.strip().lower() for lang in langs if isinstance(lang, str) and lang)
    if not counts:
        return DEFAULT_LANGUAGE
    return counts.most_common(1)[0][0]


def finetune_wanted(*, project: Project) -> bool:
    """Whether the project's single-label intent versions fine-tune the transformer:
    ``ProjectMLSettings.finetune`` "on" always, "auto" when torch sees a GPU, "off" never."""
    settings = getattr(project, "ml_settings", None)
    mode = settings.finetune if settings is not None else FinetuneMode.OFF
    if mode == FinetuneMode.AUTO:
        import torch  # only here: the head-only loop never needs torch loaded

        return bool(torch.cuda.is_available())
    return mode == FinetuneMode.ON


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make ``version`` the one whose predictions are pre-filled (promotion or rollback)."""
    if version.status != ModelStatus.READY:
        raise ValidationError({"version": [f"{version.name} is {version.status}, not ready"]})
    ModelVersion.objects.filter(
        project_id=version.project_id, control=version.control, is_active=True
    ).exclude(pk=version.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version


def promotion_rival(*, version: ModelVersion, has_validation: bool) -> ModelVersion | None:
    """The active version a new one must beat on the validation split, or None when the
    gate is settled already: promoted when none is active, kept back when there is nothing
    to compare on (``version.promotion`` says which)."""
    active = ModelVersion.objects.filter(
        project_id=version.project_id, control=version.control, is_active=True
    ).first()
    if active is None:
        version.promotion = "promoted: no active version"
        version.save(update_fields=["promotion"])
        model_version_activate(version=version)
        return None
    if not has_validation:
        version.promotion = "kept back: no validation examples to compare on"
        version.save(update_fields=["promotion"])
        return None
    return active


# The promotion gate's one-sided z (5 %): a new version is kept back only when it is worse
# than the active one beyond what chance explains on the validation split.
PROMOTION_Z = 1.645


def clearly_worse(new_right: Any, old_right: Any, *, z: float = PROMOTION_Z) -> tuple[bool, str]:
    """McNemar's test (one-sided, normal approximation) on the validation examples the two
    versions disagree on: ``lost`` the new one gets wrong and the active one right, ``won``
    the other way. Worse when ``lost - won > z * sqrt(lost + won)``. A plain "accuracy
    lower" gate kept back newer versions, trained on more labels, for a difference of one or
    two validation examples (on BANKING77 about one round in ten of an active-learning run),
    and the queue and the predictions then stayed with the older model. Returns (worse, the
    counts)."""
    new_right, old_right = np.asarray(new_right, dtype=bool), np.asarray(old_right, dtype=bool)
    lost = int((old_right & ~new_right).sum())
    won = int((new_right & ~old_right).sum())
    return lost - won > z * math.sqrt(lost + won), f"lost {lost}, won {won} of the examples"


def artifact_name(version: ModelVersion, extension: str) -> str:
    """Where a version's model is stored: a fresh name every time (a random part), since
    loaded models are cached by it and a deleted project's ids and names can come back."""
    return f"models/project-{version.project_id}/{version.name}-{uuid.uuid4().hex[:12]}.{extension}"


def text_chunks(ids: list[int], field: str) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """(tasks done so far, [(task id, text)]) per PREDICT_CHUNK of ``ids``, leaving out tasks
    without text in ``field``: what both models' prediction writers walk."""
    for start in range(0, len(ids), PREDICT_CHUNK):
        chunk = Task.objects.filter(pk__in=ids[start : start + PREDICT_CHUNK]).values_list(
            "pk", "data"
        )
        items = [(pk, text) for pk, data in chunk if (text := text_of(data, field)) is not None]
        yield min(len(ids), start + PREDICT_CHUNK), items
