"""GET /api/projects/{id}/productivity: work per member from the annotations."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    project = make_project()
    ids = tasks_import(project=project, items=[{"text": f"t{n}"} for n in range(4)], user=None)
    task = project.tasks.get
    ann, idle, reviewer = make_user("ann"), make_user("idle"), make_user("rev")
    add_member(project, ann)
    add_member(project, idle)
    add_member(project, reviewer, "reviewer")
    t = ids.task_ids
    annotation_create(task=task(pk=t[0]), user=ann, result=[choice()], lead_time=10)
    annotation_create(task=task(pk=t[1]), user=ann, result=[choice()], lead_time=20)
    annotation_create(task=task(pk=t[2]), user=ann, result=[choice()])  # no lead time
    annotation_create(task=task(pk=t[3]), user=ann, result=[], was_cancelled=True, lead_time=3)
    annotation_create(task=task(pk=t[3]), user=reviewer, result=[choice()], lead_time=5)
    # Work in another project does not count.
    other = make_project()
    other_task = tasks_import(project=other, items=[{"text": "x"}], user=None).task_ids[0]
    add_member(other, ann)
    annotation_create(task=other.tasks.get(pk=other_task), user=ann, result=[choice()])
    return project, ann, idle, reviewer


def test_managers_see_every_member_with_done_skips_and_time(work):
    project, *_ = work
    rows = api(project.created_by).get(f"/api/projects/{project.pk}/productivity").json()
    by_name = {r["username"]: r for r in rows["members"]}
    assert set(by_name) == {"ann", "idle", "rev", project.created_by.username}
    a = by_name["ann"]
    assert (a["tasks_done"], a["skips"], a["time_spent"], a["mean_lead_time"]) == (3, 1, 33.0, 15.0)
    assert (a["role"], a["level"]) == ("annotator", "junior")
    assert a["first_at"] is not None and a["last_at"] >= a["first_at"]
    assert by_name["idle"]["tasks_done"] == 0 and by_name["idle"]["mean_lead_time"] is None
    assert by_name["rev"]["tasks_done"] == 1 and by_name["rev"]["time_spent"] == 5.0


def test_an_annotator_sees_only_their_own_row(work):
    project, ann, _idle, _ = work
    rows = api(ann).get(f"/api/projects/{project.pk}/productivity").json()["members"]
    assert [r["username"] for r in rows] == ["ann"] and rows[0]["tasks_done"] == 3


def test_reviewers_see_everyone(work):
    project, _, _, reviewer = work
    rows = api(reviewer).get(f"/api/projects/{project.pk}/productivity").json()["members"]
    assert len(rows) == 4


def test_non_members_get_404(work):
    project, *_ = work
    assert api(make_user()).get(f"/api/projects/{project.pk}/productivity").status_code == 404


def test_query_count_does_not_grow_with_members(work):
    project, *_ = work
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/productivity"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        add_member(project, make_user())
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
