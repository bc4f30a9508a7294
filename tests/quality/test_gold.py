"""Gold tasks: marking ground truth, unannounced mixing into next-task at the project's rate,
and each annotator's accuracy against gold."""

from __future__ import annotations

import pytest

from projects.services import project_member_set
from tasks.models import Annotation
from tasks.services import annotation_create, task_next_take, tasks_import
from tasks.services.certification import gold_answers_list
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold_project():
    manager = make_user()
    project = make_project(owner=manager, gold_rate=0.5)
    expert, annotator = make_user("expert"), make_user("ann")
    project_member_set(project=project, user=expert, role="reviewer", level="expert")
    add_member(project, annotator)
    ids = tasks_import(
        project=project, items=[{"text": f"t{n}"} for n in range(6)], user=None
    ).task_ids
    gold = ids[:2]
    for pk in gold:
        annotation_create(
            task=project.tasks.get(pk=pk), user=expert, result=[choice()], ground_truth=True
        )
    return project, manager, annotator, gold


def test_reviewer_marks_and_unmarks_ground_truth(gold_project):
    project, manager, annotator, gold = gold_project
    task = project.tasks.exclude(pk__in=gold).first()
    answer = annotation_create(task=task, user=annotator, result=[choice("ask")])
    client = api(manager)
    marked = client.post(f"/api/annotations/{answer.pk}/ground-truth")
    assert marked.status_code == 200 and marked.json()["ground_truth"] is True
    unmarked = client.delete(f"/api/annotations/{answer.pk}/ground-truth")
    assert unmarked.status_code == 200 and unmarked.json()["ground_truth"] is False
    answer.refresh_from_db()
    assert answer.ground_truth is False


def test_annotator_may_not_mark_ground_truth(gold_project):
    project, _, annotator, gold = gold_project
    task = project.tasks.exclude(pk__in=gold).first()
    answer = annotation_create(task=task, user=annotator, result=[choice()])
    assert api(annotator).post(f"/api/annotations/{answer.pk}/ground-truth").status_code == 403


def test_a_skip_cannot_be_the_ground_truth(gold_project):
    project, manager, annotator, gold = gold_project
    task = project.tasks.exclude(pk__in=gold).first()
    skip = annotation_create(task=task, user=annotator, result=[], was_cancelled=True)
    answer = api(manager).post(f"/api/annotations/{skip.pk}/ground-truth")
    assert answer.status_code == 400
    assert "ground_truth" in answer.json()["validation_errors"]


def test_gold_tasks_are_mixed_into_next_task_at_the_project_rate(gold_project):
    project, _, annotator, gold = gold_project
    handed = []
    while (task := task_next_take(project=project, user=annotator)) is not None:
        handed.append("gold" if task.pk in gold else "task")
        annotation_create(task=task, user=annotator, result=[choice()])
    # At 0.5: every second hand-out is a gold task while unanswered ones are left.
    assert handed == ["task", "gold", "task", "gold", "task", "task"]


def test_without_a_gold_rate_gold_tasks_are_not_handed_out(gold_project):
    project, _, annotator, gold = gold_project
    project.gold_rate = 0.0
    project.save(update_fields=["gold_rate"])
    handed = []
    while (task := task_next_take(project=project, user=annotator)) is not None:
        handed.append(task.pk)
        annotation_create(task=task, user=annotator, result=[choice()])
    assert len(handed) == 4 and not set(handed) & set(gold)


def test_accuracy_against_gold_is_tracked_per_answer(gold_project):
    project, _, annotator, gold = gold_project
    annotation_create(task=project.tasks.get(pk=gold[0]), user=annotator, result=[choice()])
    annotation_create(task=project.tasks.get(pk=gold[1]), user=annotator, result=[choice("ask")])
    scores = [(a.task_id, a.score) for a in gold_answers_list(project=project, user=annotator)]
    assert scores == [(gold[0], 1.0), (gold[1], 0.0)]
    # The ground truth's author is never scored against their own truth.
    assert {a.user_id for a in gold_answers_list(project=project)} == {annotator.pk}
    assert Annotation.objects.filter(project=project, ground_truth=True).count() == 2
