"""Our built-in models behind Label Studio's ML-backend protocol (the server side).

``/api/ml-backend/<project id>/{health,setup,predict,webhook}`` answers as a backend made
with ``label-studio-ml-backend`` does, with the project's active built-in versions, so a
Label Studio instance or another Annotator can connect to it like to any external backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction

from mlserve.builtin.encoders import encode
from mlserve.models import ModelVersion
from mlserve.selectors import active_versions
from mlserve.services.common import text_field, text_of
from mlserve.services.intents import intent_result, model_load
from mlserve.services.training import _intent_control, intent_controls, model_version_create
from projects.models import Project

MODEL_CLASS = "AnnotatorBuiltinModels"
WEBHOOK_ACTIONS = frozenset(
    {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED", "START_TRAINING"}
)


@dataclass(frozen=True)
class _Serving:
    version: ModelVersion
    model: Any  # any of mlserve.builtin's intent models
    field: str


def served_model_version(*, project: Project) -> str:
    """What predictions carry as ``model_version``: the active versions' names, joined."""
    return "+".join(v.name for v in active_versions(project_id=project.pk))


def served_health(*, project: Project) -> dict[str, Any]:
    return {
        "status": "UP",
        "model_class": MODEL_CLASS,
        "model_version": served_model_version(project=project),
    }


def served_setup(*, project: Project) -> dict[str, Any]:
    return {"model_version": served_model_version(project=project)}


def served_predict(*, project: Project, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One prediction per task (``{"result", "score", "model_version"}``), each result item
    from an active intent version; a task without the text an item needs gets none."""
    servings = []
    for version in active_versions(project_id=project.pk):
        control = _intent_control(project, version.control)
        servings.append(
            _Serving(version=version, model=model_load(version), field=text_field(project, control))
        )
    name = "+".join(s.version.name for s in servings)
    answers: list[dict[str, Any]] = [
        {"result": [], "score": 0.0, "model_version": name} for _ in tasks
    ]
    for serving in servings:
        control = _intent_control(project, serving.version.control)
        texts = [
            (i, text)
            for i, task in enumerate(tasks)
            if (
                text := text_of(task.get("data") if isinstance(task, dict) else None, serving.field)
            )
        ]
        if not texts:
            continue
        vectors = (
            encode([t for _, t in texts], encoder=serving.version.encoder)
            if serving.model.needs_embeddings
            else None
        )
        probabilities = serving.model.predict_proba([t for _, t in texts], vectors)
        for (i, _), row in zip(texts, probabilities, strict=True):
            answers[i]["result"].extend(intent_result(control, serving.model, row)[0])
    for answer in answers:
        scores = [item["score"] for item in answer["result"]]
        answer["score"] = round(min(scores), 4) if scores else 0.0
    return answers


def served_webhook(*, project: Project, action: str) -> dict[str, Any]:
    """START_TRAINING queues a new version of each intent control (trained by a job);
    annotation events are accepted (the retrain trigger counts annotations itself)."""
    if action != "START_TRAINING":
        return {"action": action, "accepted": True}
    from mlserve.jobs import train_run  # jobs import the services: imported at call time

    queued = []
    for control in intent_controls(project.parsed_config):
        version = model_version_create(project=project, control=control.name)
        transaction.on_commit(partial(train_run.delay, version.pk))
        queued.append(version.name)
    return {"action": action, "accepted": True, "queued": queued}
