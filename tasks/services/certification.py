"""Certification: a new annotator's first tasks are gold tasks, production tasks come once
their accuracy on them reaches the project's threshold.

A gold task is a task of the project with a ground-truth annotation (``ground_truth=True``)
by someone else. With ``Project.certification_tasks`` = N > 0, next-task hands an annotator
whose membership has no ``certified_at`` the gold tasks they have not answered, in id order.
After each answer the score (tasks/accuracy.py) of their last N gold answers is averaged
(a skipped gold task scores 0); once they have N answers and that accuracy reaches
``certification_threshold``, ``certified_at`` is set and next-task hands production tasks.
Below it they get further gold tasks, judged on their last N, until none is left; then
next-task has nothing for them until a manager changes the settings or certifies them.

Only annotators are certified; reviewers, managers and organization admins never are.
Next-task pays for this only in projects with certification on (one membership read);
everywhere else the branch is a test of a column of the already loaded project.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from annotator.models import User
from projects.models import Project, ProjectMember, ProjectRole
from tasks.accuracy import result_accuracy
from tasks.models import Annotation, Task, TaskLock


def certification_pending(*, project: Project, user: User) -> ProjectMember | None:
    """The user's membership when they still have to be certified in ``project`` (one query,
    only in projects with certification on)."""
    if not project.certification_tasks:
        return None
    return ProjectMember.objects.filter(
        project=project, user=user, role=ProjectRole.ANNOTATOR, certified_at__isnull=True
    ).first()


def _gold_tasks(project: Project, user: User) -> QuerySet[Task]:
    # Driven from the ground-truth annotations (partial index annotation_gold_idx), never by
    # walking the project's tasks.
    truth = Annotation.objects.filter(project=project, ground_truth=True).exclude(completed_by=user)
    return Task.objects.filter(pk__in=truth.values("task_id"), project=project)


def _answered(user: User) -> Q:
    return Q(Exists(Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)))


@transaction.atomic
def certification_task_take(*, project: Project, user: User) -> Task | None:
    """The next gold task for an annotator in certification, leased to them like any task
    next-task hands out (the lease also makes it visible to them)."""
    now = timezone.now()
    gold = _gold_tasks(project, user).exclude(_answered(user))
    held = gold.filter(locks__user=user, locks__expires_at__gt=now).order_by("id").first()
    task = held or gold.order_by("id").first()
    if task is None:
        return None
    TaskLock.objects.update_or_create(
        task=task,
        user=user,
        defaults={"expires_at": now + timedelta(seconds=project.task_lock_ttl)},
    )
    return task


@dataclass(frozen=True)
class CertificationStatus:
    required: int
    done: int
    accuracy: float | None
    threshold: float
    certified_at: Any
    # None while fewer than ``required`` answers; then whether the window passes.
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "required": self.required,
            "done": self.done,
            "accuracy": self.accuracy,
            "threshold": self.threshold,
            "certified": self.certified_at is not None,
            "certified_at": self.certified_at.isoformat() if self.certified_at else None,
            "passed": self.passed,
        }


def _expected(task_id: int, user: User) -> Annotation | None:
    return (
        Annotation.objects.filter(task_id=task_id, ground_truth=True)
        .exclude(completed_by=user)
        .order_by("-updated_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class GoldAnswer:
    """One answer to a gold task, scored against its ground truth (a skip scores 0)."""

    annotation_id: int
    task_id: int
    user_id: int
    score: float
    expected: Any
    answer: Any


def gold_answers_list(*, project: Project, user: User | None = None) -> list[GoldAnswer]:
    """Every answer to the project's gold tasks (or ``user``'s), in answer order, scored with
    tasks/accuracy.py: each annotator's accuracy against gold, read by certification and by
    quality's dashboards. Two queries: the ground truth (from its partial index) and the
    answers to it. An author's own ground truth is never the reference for their answer."""
    truth = Annotation.objects.filter(project=project, ground_truth=True)
    newest: dict[int, list[tuple[int | None, Any]]] = {}
    rows = truth.order_by("updated_at", "id").values_list("task_id", "completed_by_id", "result")
    for task_id, author, result in rows:
        newest.setdefault(task_id, []).append((author, result))
    answers = Annotation.objects.filter(
        project=project, task_id__in=list(newest), ground_truth=False, completed_by__isnull=False
    )
    if user is not None:
        answers = answers.filter(completed_by=user)
    out = []
    for answer in answers.order_by("id").only(
        "task_id", "completed_by_id", "was_cancelled", "result"
    ):
        # The newest ground truth of a task by someone else wins.
        refs = [r for a, r in newest[answer.task_id] if a != answer.completed_by_id]
        if not refs:
            continue
        score = (
            0.0
            if answer.was_cancelled
            else result_accuracy(expected=refs[-1], answer=answer.result)
        )
        out.append(
            GoldAnswer(
                annotation_id=answer.pk,
                task_id=answer.task_id,
                user_id=int(answer.completed_by_id or 0),
                score=score,
                expected=refs[-1],
                answer=[] if answer.was_cancelled else answer.result,
            )
        )
    return out


def _scores(project: Project, user: User) -> list[float]:
    """The user's gold answers in answer order, each scored (a skip scores 0)."""
    return [a.score for a in gold_answers_list(project=project, user=user)]


def gold_task_due(*, project: Project, user: User) -> bool:
    """Whether the user's next hand-out is a gold task: gold tasks mixed into their queue at
    ``project.gold_rate`` (0.2: their 5th, 10th, 15th... task), counted over their answers in
    the project, so the share holds whatever they skipped. Two indexed counts."""
    done = Annotation.objects.filter(project=project, completed_by=user).count()
    gold = _gold_tasks(project, user).filter(_answered(user)).count()
    return math.floor((done + 1) * project.gold_rate + 1e-9) > gold


def certification_status(*, project: Project, user: User) -> CertificationStatus:
    member = ProjectMember.objects.filter(project=project, user=user).first()
    required = project.certification_tasks
    scores = _scores(project, user) if required else []
    window = scores[-required:] if required else []
    accuracy = sum(window) / len(window) if window else None
    passed = None
    if required and len(scores) >= required and accuracy is not None:
        passed = accuracy >= project.certification_threshold
    return CertificationStatus(
        required=required,
        done=len(scores),
        accuracy=accuracy,
        threshold=project.certification_threshold,
        certified_at=member.certified_at if member else None,
        passed=passed,
    )


@transaction.atomic
def certification_passed(*, project: Project, user: User, member: ProjectMember) -> bool:
    """Certify ``member`` when their gold answers pass (whichever API they answered through);
    whether they are certified now."""
    if not certification_status(project=project, user=user).passed:
        return False
    member.certified_at = timezone.now()
    member.save(update_fields=["certified_at"])
    return True


@transaction.atomic
def certification_answer_record(
    *, project: Project, user: User, annotation: Annotation
) -> dict[str, Any] | None:
    """After a submit: when it answered a gold task during the user's certification, the
    instant feedback (their answer beside the expected one, the score, the progress), and
    the certification itself once passed. None otherwise (the common case costs nothing in
    projects without certification)."""
    member = certification_pending(project=project, user=user)
    if member is None:
        return None
    expected = _expected(annotation.task_id, user)
    if expected is None:
        return None
    certification_passed(project=project, user=user, member=member)
    status = certification_status(project=project, user=user)
    score = 0.0 if annotation.was_cancelled else None
    if score is None:
        score = result_accuracy(expected=expected.result, answer=annotation.result)
    return {
        "task": annotation.task_id,
        "answer": annotation.result,
        "expected": expected.result,
        "score": score,
        **status.to_dict(),
    }
