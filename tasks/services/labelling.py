"""Writes of the labelling interface: submit (create or update the user's annotation) and
skip with the annotator's notes, and the auto-saved draft. They build on the annotation and
draft services, which keep the counters, leases and optimistic concurrency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from annotator.models import User
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.services.annotations import annotation_create, annotation_update, task_skip
from tasks.services.edits import draft_save


@transaction.atomic
def label_submit(
    *,
    task: Task,
    user: User,
    result: list[dict[str, Any]],
    lead_time: float | None,
    notes: str = "",
    parent_prediction: Prediction | None = None,
    annotation: Annotation | None = None,
    version: int | None = None,
) -> Annotation:
    """Submit the user's work on a task: a new annotation, or an update of their own
    ``annotation`` at ``version`` (409 when stale). The draft of the task goes."""
    if annotation is None:
        saved = annotation_create(
            task=task,
            user=user,
            result=result,
            lead_time=lead_time,
            parent_prediction=parent_prediction,
        )
    else:
        saved = annotation_update(
            annotation=annotation,
            version=version or annotation.version,
            result=result,
            lead_time=lead_time,
        )
        Draft.objects.filter(task=task, user=user).delete()
    return _with_notes(saved, notes)


@transaction.atomic
def label_skip(*, task: Task, user: User, notes: str = "") -> Annotation:
    return _with_notes(task_skip(task=task, user=user), notes)


@transaction.atomic
def label_draft_save(
    *,
    task: Task,
    user: User,
    result: list[dict[str, Any]],
    lead_time: float | None,
    notes: str = "",
    version: int | None = None,
    annotation: Annotation | None = None,
) -> Draft:
    draft = draft_save(
        task=task,
        user=user,
        result=result,
        lead_time=lead_time,
        annotation=annotation,
        version=version,
    )
    if draft.notes != notes:
        Draft.objects.filter(pk=draft.pk).update(notes=notes)
        draft.notes = notes
    return draft


def _with_notes(annotation: Annotation, notes: str) -> Annotation:
    if annotation.notes != notes:
        Annotation.objects.filter(pk=annotation.pk).update(notes=notes)
        annotation.notes = notes
    return annotation


@dataclass(frozen=True)
class PredictionFetch:
    """A prediction fetched for a task as it is opened, or why there is none (shown on the
    page)."""

    prediction: Prediction | None
    notice: str | None = None


# Apps above tasks (mlserve's external ML backends) register how to fetch a prediction for a
# task opened without one; tasks never imports them (DESIGN §2).
PredictionFetcher = Callable[[Task], PredictionFetch | None]
_PREDICTION_FETCHERS: list[PredictionFetcher] = []


def label_prediction_fetcher_register(fetcher: PredictionFetcher) -> None:
    if fetcher not in _PREDICTION_FETCHERS:
        _PREDICTION_FETCHERS.append(fetcher)


def label_prediction_fetch(*, task: Task) -> PredictionFetch:
    """A prediction for ``task``, which has none, from the first registered fetcher that has
    one; else the fetchers' notices (a backend that failed or timed out). Never inside a
    transaction: a fetcher may wait on the network for its timeout."""
    notices: list[str] = []
    for fetch in _PREDICTION_FETCHERS:
        fetched = fetch(task)
        if fetched is None:
            continue
        if fetched.prediction is not None:
            return fetched
        if fetched.notice:
            notices.append(fetched.notice)
    return PredictionFetch(prediction=None, notice=" ".join(notices) or None)
