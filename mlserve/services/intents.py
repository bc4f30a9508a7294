"""The intent model's pieces: what it reads from annotations and writes as predictions, for
single-label controls (``<Choices>``, ``choice="single"``) and multi-label ones (``<Choices
choice="multiple">``, ``<Taxonomy>``), how a version is scored, loaded, and fitted (a head
warm-started from the previous version's, or the fine-tuned transformer).

A taxonomy path is one label, its parts joined by ``PATH_SEPARATOR`` ("Food / Drinks /
Tea"); predictions split it back into Label Studio's ``{"taxonomy": [[part, ...], ...]}``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from django.core.files.storage import default_storage
from sklearn.metrics import accuracy_score, classification_report, f1_score

from mlserve.builtin.finetune import FINETUNE_ENCODER, FineTunedIntentClassifier
from mlserve.builtin.intent import IntentClassifier, MultiLabelIntentClassifier, model_from_bytes
from mlserve.models import ModelKind, ModelStatus, ModelVersion
from projects.labelconfig.schema import ControlTag

PATH_SEPARATOR = " / "


def labels_of(result: Any, control: ControlTag) -> tuple[str, ...] | None:
    """The labels ``result`` gives ``control``: exactly one for a single-label control,
    one or more (sorted, distinct) for a multi-label one; None when it gives none that fit."""
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict) or item.get("from_name") != control.name:
            continue
        value = item.get("value") or {}
        if control.tag == "Taxonomy":
            paths = value.get("taxonomy") or []
            found = [
                PATH_SEPARATOR.join(str(p) for p in path)
                for path in paths
                if isinstance(path, list) and path
            ]
        else:
            found = [str(c) for c in value.get("choices") or [] if isinstance(c, str)]
        if not found:
            continue
        if control.is_single:
            return (found[0],) if len(found) == 1 else None
        return tuple(sorted(set(found)))
    return None


def intent_result(
    control: ControlTag, model: Any, probabilities: Any
) -> tuple[list[dict[str, Any]], float]:
    """A Label Studio result for one text's probability row, and its score: the likeliest
    class's probability (single label), or the least sure chosen label's (multi-label)."""
    if model.multi_label:
        [chosen] = model.decide(probabilities[None, :])
    else:
        chosen = [int(probabilities.argmax())]
    labels = [model.classes[j] for j in chosen]
    score = float(min(probabilities[j] for j in chosen))
    value: dict[str, Any]
    if control.tag == "Taxonomy":
        value = {"taxonomy": [label.split(PATH_SEPARATOR) for label in labels]}
    else:
        value = {"choices": labels}
    item = {
        "id": f"{control.name}-0",
        "from_name": control.name,
        "to_name": control.to_name[0],
        "type": control.tag.lower(),
        "value": value,
        "score": round(score, 4),
    }
    return [item], score


def score_key(model: Any) -> str:
    """The metric versions are compared on: accuracy, or micro F1 for several labels."""
    return "micro_f1" if model.multi_label else "accuracy"


def _rounded_report(report: dict[str, Any]) -> dict[str, Any]:
    return {
        label: {k: round(float(v), 4) for k, v in row.items()}
        for label, row in report.items()
        if isinstance(row, dict)
    }


def intent_evaluate(
    model: Any, texts: list[str], vectors: Any, label_sets: list[tuple[str, ...]]
) -> dict[str, Any]:
    """Validation metrics of ``model`` on ``texts`` whose truth is ``label_sets``."""
    probabilities = model.predict_proba(texts, vectors)
    if not model.multi_label:
        labels = [given[0] for given in label_sets]
        guesses = [model.classes[i] for i in probabilities.argmax(axis=1)]
        report = classification_report(labels, guesses, output_dict=True, zero_division=0)
        return {
            "accuracy": round(float(accuracy_score(labels, guesses)), 4),
            "macro_f1": round(
                float(f1_score(labels, guesses, average="macro", zero_division=0)), 4
            ),
            "report": _rounded_report(report),
        }
    classes = list(model.classes)
    index = {label: j for j, label in enumerate(classes)}
    truth = np.zeros((len(texts), len(classes)), dtype=int)
    for i, given in enumerate(label_sets):
        truth[i, [index[label] for label in given if label in index]] = 1
    predicted = np.zeros_like(truth)
    for i, chosen in enumerate(model.decide(probabilities)):
        predicted[i, chosen] = 1
    report = classification_report(
        truth, predicted, target_names=classes, output_dict=True, zero_division=0
    )
    return {
        "multi_label": True,
        "threshold": model.threshold,
        # exact match: every label of the text right, none extra
        "accuracy": round(float((truth == predicted).all(axis=1).mean()), 4),
        "micro_f1": round(float(f1_score(truth, predicted, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "report": _rounded_report(report),
    }


def intent_correct(
    model: Any, texts: list[str], vectors: Any, label_sets: list[tuple[str, ...]]
) -> Any:
    """Per text, whether ``model`` gets it exactly right (its top class is the label; with
    several labels, the chosen set is the given set): what the promotion gate pairs up."""
    probabilities = model.predict_proba(texts, vectors)
    classes = list(model.classes)
    if not model.multi_label:
        return np.array(
            [
                classes[i] == given[0]
                for i, given in zip(probabilities.argmax(axis=1), label_sets, strict=True)
            ],
            dtype=bool,
        )
    return np.array(
        [
            {classes[j] for j in chosen} == set(given)
            for chosen, given in zip(model.decide(probabilities), label_sets, strict=True)
        ],
        dtype=bool,
    )


def model_load(version: ModelVersion) -> Any:
    """The version's trained model (``IntentClassifier``, ``MultiLabelIntentClassifier`` or
    ``FineTunedIntentClassifier``), kept in memory per process: an artifact never changes,
    and its name is never reused (``artifact_name``), so its path identifies it."""
    return _model_at(version.artifact)


@functools.lru_cache(maxsize=8)
def _model_at(artifact: str) -> Any:
    with default_storage.open(artifact, "rb") as handle:
        return model_from_bytes(handle.read())


def _warm_source(version: ModelVersion, *, multi_label: bool) -> tuple[str, Any] | None:
    """(name, model) a retrain starts from: the control's active version, else its newest
    ready one, when it is a head of the same kind (single or multi-label) on the same
    encoder (a fine-tuned transformer is no start for a head)."""
    previous = (
        ModelVersion.objects.filter(
            project_id=version.project_id,
            control=version.control,
            kind=ModelKind.INTENT,
            status=ModelStatus.READY,
            encoder=version.encoder,
            number__lt=version.number,
        )
        .exclude(artifact="")
        .exclude(metrics__has_key="finetuned")
        .order_by("-is_active", "-number")
        .first()
    )
    if previous is None:
        return None
    try:
        model = model_load(previous)
    except (OSError, ValueError):
        return None  # its artifact is gone: train from scratch
    if not model.needs_embeddings or model.multi_label != multi_label:
        return None
    return previous.name, model


def head_fit(
    *,
    version: ModelVersion,
    control: ControlTag,
    texts: list[str],
    label_sets: list[tuple[str, ...]],
    vectors: Any,
) -> Any:
    """A head for ``control`` (one label per text, or several), warm-started from the
    previous version's head when there is one to start from."""
    source = _warm_source(version, multi_label=not control.is_single)
    model: Any
    if control.is_single:
        model = IntentClassifier.fit(
            texts, vectors, [labels[0] for labels in label_sets], encoder=version.encoder,
            warm_from=source[1] if source else None,
        )  # fmt: skip
    else:
        model = MultiLabelIntentClassifier.fit(
            texts, vectors, label_sets, encoder=version.encoder,
            warm_from=source[1] if source else None,
        )  # fmt: skip
    if source is not None and "warm_start" in model.info:
        model.info["warm_start"] = {"from": source[0], **model.info["warm_start"]}
    return model


def transformer_finetune(*, version: ModelVersion, texts: list[str], labels: list[str]) -> Any:
    """The transformer fine-tuned on ``texts``; the version records MiniLM, its start."""
    ModelVersion.objects.filter(pk=version.pk).update(encoder=FINETUNE_ENCODER)
    version.encoder = FINETUNE_ENCODER
    return FineTunedIntentClassifier.fit(texts, labels)
