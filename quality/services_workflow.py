"""Writes of the quality workflow: gold marks, review sampling and decisions, confidence
routing. (Gold tasks are mixed into next-task by tasks/services/next.py, which reads the
project's ``gold_rate``; the rejected work it hands back first is written here.)"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.audit import audit_record
from annotator.models import User
from projects.models import AnnotatorLevel, Project, ProjectMember
from projects.services import project_broadcast
from quality.models_workflow import ReviewAction, ReviewDecision
from tasks.models import Annotation, Task
from tasks.services import annotation_update

# --- gold ------------------------------------------------------------------------------------


@transaction.atomic
def annotation_ground_truth_set(*, annotation: Annotation, ground_truth: bool) -> Annotation:
    """Mark (or unmark) an annotation as the ground truth of its task: the task becomes a
    gold task, mixed into annotators' queues at the project's ``gold_rate``. A skip has no
    answer to be the truth. Audited as an annotation update."""
    if ground_truth and annotation.was_cancelled:
        raise ValidationError({"ground_truth": ["a skipped annotation cannot be the ground truth"]})
    if annotation.ground_truth == ground_truth:
        return annotation
    return annotation_update(
        annotation=annotation, version=annotation.version, ground_truth=ground_truth
    )


# --- review ----------------------------------------------------------------------------------


def _share(project: Project, level: str | None) -> float:
    shares: dict[str, float] = {
        AnnotatorLevel.JUNIOR.value: project.review_share_junior,
        AnnotatorLevel.SENIOR.value: project.review_share_senior,
        AnnotatorLevel.EXPERT.value: project.review_share_expert,
    }
    return shares.get(level or "", 0.0)


def review_sampled(*, count: int, share: float) -> bool:
    """Whether the author's ``count``-th finished annotation enters review at ``share``: the
    one that crosses the next multiple of 1/share (0.2: the 5th, 10th...; 0.05: the 20th,
    40th...), so exactly the share of a member's work goes to review, predictably."""
    if share <= 0 or count <= 0:
        return False
    return math.floor(count * share + 1e-9) > math.floor((count - 1) * share + 1e-9)


@transaction.atomic
def annotation_review_sample(*, annotation_id: int) -> bool:
    """Queue a freshly submitted annotation for review when its author's level's share says
    so (run after the submit commits). Whether it was queued."""
    annotation = Annotation.objects.select_related("project").filter(pk=annotation_id).first()
    if annotation is None or annotation.was_cancelled or annotation.review_status:
        return False
    if annotation.completed_by_id is None:
        return False
    project = annotation.project
    level = (
        ProjectMember.objects.filter(project=project, user_id=annotation.completed_by_id)
        .values_list("level", flat=True)
        .first()
    )
    # Its rank among the author's finished annotations (by id, so a late run counts the same).
    count = Annotation.objects.filter(
        project=project,
        completed_by_id=annotation.completed_by_id,
        was_cancelled=False,
        id__lte=annotation.pk,
    ).count()
    if not review_sampled(count=count, share=_share(project, level)):
        return False
    Annotation.objects.filter(pk=annotation.pk, review_status="").update(review_status="pending")
    return True


def annotation_saved_receiver(sender: Any, annotation: Annotation, created: bool, **_: Any) -> None:
    """tasks' ``annotation_saved``: O(1) on the submit path. A new annotation in a project
    with review sampling is sampled after the commit; a resubmitted rejected one goes back to
    the reviewers."""
    if created:
        if annotation.task.project.review_sampling_on:
            transaction.on_commit(lambda: annotation_review_sample(annotation_id=annotation.pk))
        return
    if annotation.review_status == "rejected":
        Annotation.objects.filter(pk=annotation.pk, review_status="rejected").update(
            review_status="pending"
        )
        annotation.review_status = "pending"


_STATUS = {
    ReviewAction.ACCEPT: "accepted",
    ReviewAction.FIX: "accepted",
    ReviewAction.REJECT: "rejected",
}


@transaction.atomic
def annotation_review(
    *,
    annotation: Annotation,
    reviewer: User,
    action: str,
    comment: str = "",
    result: Any = None,
) -> ReviewDecision:
    """A reviewer's decision. ``accept``; ``reject`` with a comment (the annotation goes back
    to its author, who gets the task first from next-task with the comment shown); ``fix``:
    the reviewer's corrected ``result`` replaces the annotation's, accepted. Audited, and
    announced on the project's socket group."""
    if action not in ReviewAction.values:
        raise ValidationError({"action": [f"one of {', '.join(ReviewAction.values)}"]})
    if annotation.was_cancelled:
        raise ValidationError({"annotation": ["a skipped task has no answer to review"]})
    if annotation.completed_by_id == reviewer.pk:
        raise ValidationError({"annotation": ["nobody reviews their own annotation"]})
    if action == ReviewAction.REJECT and not comment.strip():
        raise ValidationError({"comment": ["a rejection needs a comment for the annotator"]})
    if action == ReviewAction.FIX and result is None:
        raise ValidationError({"result": ["fix-and-accept needs the corrected result"]})
    before_status, before_result = annotation.review_status, annotation.result
    if action == ReviewAction.FIX:
        annotation = annotation_update(
            annotation=annotation, version=annotation.version, result=result
        )
    status = _STATUS[ReviewAction(action)]
    annotation.review_status = status
    annotation.review_comment = comment if action == ReviewAction.REJECT else ""
    annotation.save(update_fields=["review_status", "review_comment"])
    decision = ReviewDecision.objects.create(
        annotation=annotation,
        project_id=annotation.project_id,
        author_id=annotation.completed_by_id,
        reviewer=reviewer,
        action=action,
        comment=comment,
        before=before_result if action == ReviewAction.FIX else None,
        after=annotation.result if action == ReviewAction.FIX else None,
    )
    audit_record(
        action=f"annotation.review.{action}",
        actor=reviewer,
        object_type="annotation",
        object_id=annotation.pk,
        organization_id=annotation.project.organization_id,
        project_id=annotation.project_id,
        before={"review_status": before_status},
        after={"review_status": status, "comment": comment},
        detail={"task": annotation.task_id, "author": annotation.completed_by_id},
    )
    project_broadcast(
        project_id=annotation.project_id,
        event={
            "type": "annotation.reviewed",
            "task": annotation.task_id,
            "annotation": annotation.pk,
            "review_status": status,
        },
    )
    return decision


# --- confidence routing ----------------------------------------------------------------------


@dataclass
class RouteCounts:
    senior: int = 0
    junior: int = 0
    consensus: int = 0
    anyone: int = 0
    changed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "senior": self.senior,
            "junior": self.junior,
            "consensus": self.consensus,
            "anyone": self.anyone,
            "changed": self.changed,
        }


def route_of(*, project: Project, score: float | None, margin: float | None) -> tuple[str, str]:
    """(route, reason) of a task from its prediction's score and the gap between its top two
    class probabilities. Ambiguity first (a near tie is what consensus settles), then the
    low threshold, then the high one."""
    if (
        project.routing_margin is not None
        and margin is not None
        and margin < project.routing_margin
    ):
        k = project.routing_consensus_k
        return (
            "consensus",
            f"top-2 margin {margin:.2f} < {project.routing_margin:.2f}: {k} annotators",
        )
    if score is None:
        return "", ""
    if project.routing_low is not None and score < project.routing_low:
        return "senior", f"score {score:.2f} < low {project.routing_low:.2f}: seniors"
    if project.routing_high is not None and score > project.routing_high:
        return "junior", f"score {score:.2f} > high {project.routing_high:.2f}: quick check"
    if project.routing_on or project.routing_margin is not None:
        return "", f"score {score:.2f} between thresholds: anyone"
    return "", ""


def _margins(project: Project) -> dict[int, float]:
    """Gap between the two highest class probabilities of each task's newest probability
    vector (mlserve's table, reached by name: quality does not import mlserve)."""
    try:
        model = apps.get_model("mlserve", "PredictionProbabilities")
    except LookupError:
        return {}
    margins: dict[int, float] = {}
    rows = (
        model._default_manager.filter(prediction__project=project)
        .order_by("prediction_id")
        .values_list("prediction__task_id", "probabilities")
    )
    for task_id, blob in rows.iterator(chunk_size=2000):
        vector = np.frombuffer(bytes(blob), dtype=np.float32)
        if vector.size >= 2:
            top = np.sort(vector)[-2:]
            margins[task_id] = float(top[1] - top[0])
        else:
            margins.pop(task_id, None)
    return margins


@transaction.atomic
def task_routes_refresh(*, project: Project) -> RouteCounts:
    """Route every unfinished task of the project from its prediction (score and margin) by
    the project's thresholds, and say why in ``route_reason`` (the data manager shows both).
    Consensus raises the task's overlap to ``routing_consensus_k``. Run when thresholds
    change or new predictions arrive (``POST /api/projects/{id}/routing``)."""
    margins = _margins(project) if project.routing_margin is not None else {}
    counts = RouteCounts()
    changed: list[Task] = []
    tasks = Task.objects.filter(project=project, is_labeled=False).only(
        "id", "prediction_score", "route", "route_reason", "overlap", "total_annotations"
    )
    for task in tasks.iterator(chunk_size=2000):
        route, reason = route_of(
            project=project, score=task.prediction_score, margin=margins.get(task.pk)
        )
        setattr(counts, route or "anyone", getattr(counts, route or "anyone") + 1)
        overlap = task.overlap
        if route == "consensus":
            overlap = max(overlap, project.routing_consensus_k)
        if (route, reason, overlap) != (task.route, task.route_reason, task.overlap):
            task.route, task.route_reason, task.overlap = route, reason, overlap
            task.is_labeled = task.total_annotations >= overlap
            changed.append(task)
    if changed:
        Task.objects.bulk_update(
            changed, ["route", "route_reason", "overlap", "is_labeled"], batch_size=1000
        )
    counts.changed = len(changed)
    audit_record(
        action="project.routing.refresh",
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        after=counts.to_dict(),
    )
    return counts
