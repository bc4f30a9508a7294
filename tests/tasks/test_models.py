from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tasks.models import Annotation, Draft, Task, TaskLock
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    return Task.objects.create(project=make_project(), data={"text": "hi"})


def _fails(**create):
    model = create.pop("model")
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**create)


def test_task_overlap_must_be_positive():
    _fails(model=Task, project=make_project(), data={}, overlap=0)


def test_annotation_version_must_be_positive(task):
    _fails(model=Annotation, task=task, project=task.project, version=0)


def test_annotation_lead_time_cannot_be_negative(task):
    _fails(model=Annotation, task=task, project=task.project, lead_time=-1.0)


def test_one_draft_per_user_and_task(task):
    user = make_user()
    Draft.objects.create(task=task, user=user)
    _fails(model=Draft, task=task, user=user)


def test_draft_of_an_annotation_is_separate_from_the_task_draft(task):
    user = make_user()
    annotation = Annotation.objects.create(task=task, project=task.project, completed_by=user)
    Draft.objects.create(task=task, user=user)
    Draft.objects.create(task=task, user=user, annotation=annotation)
    _fails(model=Draft, task=task, user=user, annotation=annotation)


def test_one_lock_per_user_and_task(task):
    user = make_user()
    TaskLock.objects.create(task=task, user=user, expires_at=timezone.now())
    _fails(model=TaskLock, task=task, user=user, expires_at=timezone.now())


def test_next_task_query_walks_the_next_task_index_without_sorting(task):
    """The real next-task query: index order is the ORDER BY, so LIMIT stops early at any
    project size (no sort of every task of the project)."""
    from django.db import connection
    from django.utils import timezone

    from tasks.services.next import task_next_sql

    sql, params = task_next_sql(
        project_id=task.project_id, user_id=task.project.created_by_id, now=timezone.now()
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A one-row table makes any plan cheapest; ask whether the index can serve
            # the ORDER BY at all (it must, for LIMIT to stop early at a million tasks).
            for knob in ("seqscan", "bitmapscan", "sort"):
                cursor.execute(f"SET LOCAL enable_{knob} = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "task_next_idx" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan
