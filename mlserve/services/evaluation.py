"""Held-out evaluation of the built-in models on a public data set, through the real loop:
a throwaway project whose config comes from the data set's labels, the training rows
imported with Label Studio annotations, the test rows imported bare (nothing of them can
leak into training), ``model_version_train``, ``predictions_write`` on the test tasks, and
metrics of the stored predictions against the held-out truth.

Two layouts are read: ``train.csv``/``test.csv`` with ``text,category`` (BANKING77) and
``train.jsonl``/``test.jsonl`` with ``text``, ``intent`` and ``entities`` (character
offsets; SNIPS).
"""

from __future__ import annotations

import csv
import json
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from sklearn.metrics import accuracy_score, f1_score

from annotator.models import User
from mlserve.builtin.entities import Span, entity_scores
from mlserve.models import ModelVersion
from mlserve.services.training import model_version_create, model_version_train, predictions_write
from projects.models import Organization, Project
from projects.services import organization_create, project_create
from tasks.models import Prediction, Task
from tasks.services import tasks_import

EVALUATION_USER = "ml-evaluate"
INTENT_CONTROL = "intent"
ENTITY_CONTROL = "entities"


@dataclass
class Row:
    text: str
    intent: str
    entities: list[Span] | None  # None: the data set has no entity annotation


@dataclass
class DataSet:
    name: str
    train: list[Row]
    test: list[Row]
    has_entities: bool
    notes: list[str] = field(default_factory=list)


def _read_csv(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [Row(r["text"], r["category"], None) for r in csv.DictReader(handle) if r["text"]]


def _read_jsonl(path: Path) -> list[Row]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            entities = [Span(e["start"], e["end"], e["label"]) for e in item.get("entities") or []]
            rows.append(Row(item["text"], item["intent"], entities))
    return rows


def dataset_read(folder: Path, *, limit: int | None = None, seed: int = 0) -> DataSet:
    """The train and test splits of ``folder``; with ``limit``, a seeded random sample of at
    most ``limit`` rows of each (the files may be sorted by class)."""
    if (folder / "train.jsonl").is_file():
        train, test = _read_jsonl(folder / "train.jsonl"), _read_jsonl(folder / "test.jsonl")
    elif (folder / "train.csv").is_file():
        train, test = _read_csv(folder / "train.csv"), _read_csv(folder / "test.csv")
    else:
        raise FileNotFoundError(f"{folder}: no train.jsonl/test.jsonl nor train.csv/test.csv")
    if limit is not None:
        rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not security
        train = rng.sample(train, min(limit, len(train)))
        test = rng.sample(test, min(limit, len(test)))
    has_entities = any(r.entities is not None for r in train)
    return DataSet(folder.resolve().name, train, test, has_entities)


def evaluation_config(data: DataSet) -> str:
    view = ET.Element("View")
    ET.SubElement(view, "Text", name="text", value="$text")
    if data.has_entities:
        labels = ET.SubElement(view, "Labels", name=ENTITY_CONTROL, toName="text")
        names = sorted({s.label for r in data.train + data.test for s in r.entities or []})
        for name in names:
            ET.SubElement(labels, "Label", value=name)
    choices = ET.SubElement(view, "Choices", name=INTENT_CONTROL, toName="text", choice="single")
    for intent in sorted({r.intent for r in data.train + data.test}):
        ET.SubElement(choices, "Choice", value=intent)
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode")


def _task(row: Row, ref: int, *, annotated: bool) -> dict[str, Any]:
    task: dict[str, Any] = {"data": {"text": row.text, "ref": ref}}
    if not annotated:
        return task
    result: list[dict[str, Any]] = [
        {
            "from_name": ENTITY_CONTROL,
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": s.start,
                "end": s.end,
                "text": row.text[s.start : s.end],
                "labels": [s.label],
            },
        }
        for s in row.entities or []
    ]
    result.append(
        {
            "from_name": INTENT_CONTROL,
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [row.intent]},
        }
    )
    task["annotations"] = [{"result": result}]
    return task


def _project(data: DataSet) -> Project:
    user, created = User.objects.get_or_create(
        username=EVALUATION_USER, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    organization = organization_create(title=f"ml_evaluate {data.name}", owner=user)
    return project_create(
        organization=organization,
        title=f"ml_evaluate {data.name}",
        created_by=user,
        label_config=evaluation_config(data),
    )


def _test_predictions(version: ModelVersion, test_ids: list[int]) -> tuple[dict[int, Any], float]:
    started = time.perf_counter()
    predictions_write(version=version, task_ids=test_ids)
    seconds = time.perf_counter() - started
    results = dict(
        Prediction.objects.filter(task_id__in=test_ids, model_version=version.name).values_list(
            "task_id", "result"
        )
    )
    return results, seconds


def _train(
    project: Project, control: str, say: Callable[[str], None], encoder: str | None = None
) -> ModelVersion:
    version = model_version_create(
        project=project, control=control, encoder=encoder if control == INTENT_CONTROL else None
    )
    last = [-1]

    def progress(share: float) -> None:
        if int(share * 10) > last[0]:
            last[0] = int(share * 10)
            say(f"{control}: training {share:.0%}")

    return model_version_train(version=version, progress=progress)


def dataset_evaluate(
    *,
    folder: Path,
    limit: int | None = None,
    keep: bool = False,
    encoder: str | None = None,
    say: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Train the built-in models on ``folder``'s train split and score their stored
    predictions on its test split. The project is deleted at the end unless ``keep``. The
    intent model uses ``encoder`` when given, else the one of the project's language (the
    tasks carry none, so English)."""
    data = dataset_read(folder, limit=limit)
    project = _project(data)
    report: dict[str, Any] = {
        "data": data.name,
        "project": project.pk if keep else None,
        "train_tasks": len(data.train),
        "test_tasks": len(data.test),
        "encoder": None,
        "intent_accuracy": None,
        "intent_macro_f1": None,
        "entity_f1": None,
        "train_seconds": {},
        "predict_per_second": {},
        "validation": {},
    }
    try:
        say(f"importing {len(data.train)} training and {len(data.test)} test tasks")
        tasks_import(
            project=project,
            items=[_task(r, i, annotated=True) for i, r in enumerate(data.train)],
            user=project.created_by,
        )
        summary = tasks_import(
            project=project,
            items=[_task(r, i, annotated=False) for i, r in enumerate(data.test)],
            user=project.created_by,
        )
        test_ids = list(summary.task_ids)
        refs = dict(Task.objects.filter(pk__in=test_ids).values_list("pk", "data__ref"))
        truth = {pk: data.test[int(ref)] for pk, ref in refs.items()}
        controls = [INTENT_CONTROL] + ([ENTITY_CONTROL] if data.has_entities else [])
        for control in controls:
            version = _train(project, control, say, encoder)
            say(f"{control}: trained in {version.train_seconds} s, predicting the test split")
            results, seconds = _test_predictions(version, test_ids)
            report["train_seconds"][control] = version.train_seconds
            report["predict_per_second"][control] = round(len(test_ids) / seconds, 1)
            report["validation"][control] = {
                k: version.metrics.get(k)
                for k in ("accuracy", "macro_f1", "entity_f1", "epochs", "best_epoch")
                if k in version.metrics
            } | {"size": version.validation_size}
            if control == INTENT_CONTROL:
                report["encoder"] = version.encoder
                report.update(_intent_scores(results, truth))
            else:
                report.update(_entity_report(results, truth))
    finally:
        if not keep:
            _discard(project)
    return report


def _intent_scores(results: dict[int, Any], truth: dict[int, Row]) -> dict[str, Any]:
    ids = sorted(truth)
    gold = [truth[pk].intent for pk in ids]
    guess = [
        next(
            (
                i["value"]["choices"][0]
                for i in results.get(pk, [])
                if i.get("from_name") == INTENT_CONTROL
            ),
            "",
        )
        for pk in ids
    ]
    return {
        "intent_accuracy": round(float(accuracy_score(gold, guess)), 4),
        "intent_macro_f1": round(
            float(
                f1_score(gold, guess, average="macro", labels=sorted(set(gold)), zero_division=0)
            ),
            4,
        ),
    }


def _entity_report(results: dict[int, Any], truth: dict[int, Row]) -> dict[str, Any]:
    ids = sorted(truth)
    gold = [truth[pk].entities or [] for pk in ids]
    guess = []
    right: list[float] = []
    wrong: list[float] = []
    for pk, gold_spans in zip(ids, gold, strict=True):
        gold_set = {tuple(s) for s in gold_spans}
        spans = []
        for item in results.get(pk, []):
            if item.get("from_name") != ENTITY_CONTROL:
                continue
            value = item["value"]
            span = (value["start"], value["end"], value["labels"][0])
            spans.append(span)
            (right if span in gold_set else wrong).append(float(item.get("score") or 0.0))
        guess.append(spans)
    scores = entity_scores(gold, guess)
    return {
        "entity_f1": scores["f1"],
        "entity_precision": scores["precision"],
        "entity_recall": scores["recall"],
        "entity_score_correct": round(sum(right) / len(right), 4) if right else None,
        "entity_score_wrong": round(sum(wrong) / len(wrong), 4) if wrong else None,
        "entity_labels": len(scores["per_label"]),
    }


@transaction.atomic
def _discard(project: Project) -> None:
    organization = Organization.objects.get(pk=project.organization_id)
    for artifact in ModelVersion.objects.filter(project=project).values_list("artifact", flat=True):
        if artifact:
            default_storage.delete(artifact)
    project.delete()
    organization.delete()
