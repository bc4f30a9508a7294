from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from projects.models import Project
from tasks import selectors_datamanager as dm
from tasks.models import Annotation, Task, TaskAssignment
from tasks.selectors_datamanager import (
    Cursor,
    ReviewState,
    TaskFilter,
    TaskSort,
    datamanager_count,
    datamanager_next_after,
    datamanager_page,
    review_state_of,
    text_field_of,
)
from tasks.services import annotation_create, tasks_import
from tests.factories import add_member, choice, make_project, make_user

pytestmark = pytest.mark.django_db


def _import(project: Project, items: list) -> list[int]:
    return tasks_import(project=project, items=items, user=None).task_ids


ANY = TaskFilter()
BY_ID = TaskSort()


def _walk(project, flt=ANY, sort=BY_ID, size=5) -> list[int]:
    """Every id of the table, page after page, as a client would read it."""
    ids: list[int] = []
    cursor = None
    for _ in range(1000):
        page = datamanager_page(project=project, flt=flt, sort=sort, cursor=cursor, size=size)
        ids += [r.id for r in page.rows]
        if page.next is None:
            return ids
        cursor = page.next
    raise AssertionError("pagination does not end")


@pytest.fixture
def project():
    return make_project()


@pytest.fixture
def tied(project):
    """23 tasks: priorities and annotation counts with many ties, scores on some only."""
    ids = _import(project, [{"text": f"task {i}"} for i in range(23)])
    for n, task_id in enumerate(ids):
        Task.objects.filter(pk=task_id).update(
            priority=float(n % 3),
            total_annotations=n % 2,
            prediction_score=None if n % 4 == 0 else round((n % 5) / 5, 1),
        )
    return ids


def _expected(ids, sort: TaskSort) -> list[int]:
    values = {t["id"]: t for t in Task.objects.filter(pk__in=ids).values()}
    column = sort.column
    scored = [i for i in ids if values[i][column] is not None]
    unscored = [i for i in ids if values[i][column] is None]
    scored.sort(key=lambda i: (values[i][column], i), reverse=sort.descending)
    unscored.sort(reverse=sort.descending)
    return scored + unscored  # nulls last both ways


@pytest.mark.parametrize("name", ["id", "priority", "annotations", "prediction_score"])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_are_complete_and_in_order_across_ties(project, tied, name, descending):
    sort = TaskSort(name=name, descending=descending)
    walked = _walk(project, sort=sort, size=4)
    assert walked == _expected(tied, sort)
    assert len(set(walked)) == 23


def test_tasks_without_a_score_come_last_in_both_directions(project):
    ids = _import(
        project,
        [
            {"data": {"text": "a"}, "predictions": [{"result": [choice()], "score": 0.2}]},
            {"data": {"text": "b"}},
            {"data": {"text": "c"}, "predictions": [{"result": [choice()], "score": 0.9}]},
        ],
    )
    up = _walk(project, sort=TaskSort("prediction_score"))
    down = _walk(project, sort=TaskSort("prediction_score", descending=True))
    assert up == [ids[0], ids[2], ids[1]]
    assert down == [ids[2], ids[0], ids[1]]


def test_a_page_short_of_the_scored_tasks_still_leads_to_the_unscored(project, tied):
    sort = TaskSort("prediction_score")
    scored = Task.objects.filter(project=project, prediction_score__isnull=False).count()
    first = datamanager_page(project=project, flt=TaskFilter(), sort=sort, size=scored + 1)
    assert len(first.rows) == scored
    assert first.next is not None and first.next.segment == 1


def test_rows_inserted_before_the_cursor_do_not_shift_later_pages(project, tied):
    first = datamanager_page(project=project, flt=TaskFilter(), sort=TaskSort(), size=5)
    _import(project, [{"text": "late"}])
    Task.objects.filter(data__text="late").update(id=0)  # sorts before everything
    second = datamanager_page(
        project=project, flt=TaskFilter(), sort=TaskSort(), cursor=first.next, size=5
    )
    assert [r.id for r in second.rows] == tied[5:10]


def test_filters_combine(project):
    member = make_user()
    add_member(project, member, "annotator")
    ids = _import(
        project,
        [
            {
                "data": {"text": "Hello Alice"},
                "predictions": [{"result": [choice()], "score": 0.9}],
            },
            {"data": {"text": "hello bob"}, "predictions": [{"result": [choice()], "score": 0.4}]},
            {"data": {"text": "nothing"}},
        ],
    )
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=ids)}
    annotation_create(task=tasks[ids[0]], user=project.created_by, result=[choice()])
    TaskAssignment.objects.create(project=project, task_id=ids[1], user=member)

    def matching(**kw):
        return _walk(project, flt=TaskFilter(**kw))

    assert matching(annotated=True) == [ids[0]]
    assert matching(annotated=False) == [ids[1], ids[2]]
    assert matching(has_predictions=True) == [ids[0], ids[1]]
    assert matching(has_predictions=False) == [ids[2]]
    assert matching(score_min=0.5) == [ids[0]]
    assert matching(score_min=0.3, score_max=0.5) == [ids[1]]
    assert matching(assignee=member.pk) == [ids[1]]
    assert matching(unassigned=True) == [ids[0], ids[2]]
    assert matching(search="HELLO") == [ids[0], ids[1]]
    assert matching(search="hello", has_predictions=True, score_max=0.5) == [ids[1]]
    assert matching(search="%") == []  # LIKE wildcards are matched literally
    assert datamanager_count(project=project, flt=TaskFilter(search="hello")) == 2


def test_review_filter_and_state(project):
    ids = _import(project, [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=ids)}
    a = annotation_create(task=tasks[ids[0]], user=project.created_by, result=[choice()])
    b = annotation_create(task=tasks[ids[1]], user=project.created_by, result=[choice()])
    Annotation.objects.filter(pk=a.pk).update(review_status="pending")
    Annotation.objects.filter(pk=b.pk).update(review_status="rejected")

    def matching(state):
        return _walk(project, flt=TaskFilter(review=state))

    assert matching(ReviewState.PENDING) == [ids[0]]
    assert matching(ReviewState.REJECTED) == [ids[1]]
    assert matching(ReviewState.ACCEPTED) == []
    assert matching(ReviewState.NOT_REVIEWED) == []
    annotation_create(task=tasks[ids[2]], user=project.created_by, result=[choice()])
    assert matching(ReviewState.NOT_REVIEWED) == [ids[2]]
    rows = datamanager_page(project=project, flt=TaskFilter(), sort=TaskSort()).rows
    assert [r.review_state for r in rows] == ["pending", "rejected", "not_reviewed"]


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        (set(), ""),
        ({""}, "not_reviewed"),
        ({"accepted"}, "accepted"),
        ({"accepted", ""}, "not_reviewed"),
        ({"accepted", "pending"}, "pending"),
        ({"pending", "rejected"}, "rejected"),
    ],
)
def test_review_state_of_a_task(statuses, state):
    assert review_state_of(statuses) == state


def test_row_shows_preview_scores_and_assignees(project):
    member = make_user(username="zoe")
    long_text = "<script>alert(1)</script>" + "x" * 300
    ids = _import(
        project,
        [{"data": {"text": long_text}, "predictions": [{"result": [choice()], "score": 0.25}]}],
    )
    TaskAssignment.objects.create(project=project, task_id=ids[0], user=member)
    Task.objects.filter(pk=ids[0]).update(agreement=0.5)
    row = datamanager_page(project=project, flt=TaskFilter(), sort=TaskSort()).rows[0]
    # Plain text: escaping is the page's job (it renders text nodes).
    assert row.preview == long_text[:200] + "…"
    assert (row.prediction_score, row.uncertainty, row.agreement) == (0.25, 0.75, 0.5)
    assert row.assignees == [{"id": member.pk, "username": "zoe"}]
    Task.objects.filter(pk=ids[0]).update(uncertainty=0.1)
    row = datamanager_page(project=project, flt=TaskFilter(), sort=TaskSort()).rows[0]
    assert row.uncertainty == 0.1  # the stored value wins


def test_prediction_score_is_the_newest_scored_prediction(project):
    from tasks.services import prediction_update, predictions_create_many

    ids = _import(project, [{"text": "a"}])
    created = predictions_create_many(
        project=project,
        items=[
            {"task": ids[0], "result": [choice()], "score": 0.9},
            {"task": ids[0], "result": [choice()], "score": 0.2},
            {"task": ids[0], "result": [choice()]},
        ],
    )
    assert Task.objects.get(pk=ids[0]).prediction_score == 0.2
    prediction_update(prediction=created[1], score=0.6)
    assert Task.objects.get(pk=ids[0]).prediction_score == 0.6


def test_search_scans_a_bounded_window_and_continues(project, monkeypatch):
    monkeypatch.setattr(dm, "SEARCH_WINDOW", 4)
    ids = _import(project, [{"text": "match" if i % 5 == 0 else "other"} for i in range(20)])
    first = datamanager_page(
        project=project, flt=TaskFilter(search="match"), sort=TaskSort(), size=10
    )
    assert [r.id for r in first.rows] == [ids[0]]  # only the first 4 tasks were read
    assert first.next is not None
    assert _walk(project, flt=TaskFilter(search="match"), size=10) == ids[::5]


def test_next_after_follows_the_filter_and_sort(project, tied):
    sort = TaskSort("priority", descending=True)
    order = _expected(tied, sort)
    for current, following in itertools.pairwise(order):
        got = datamanager_next_after(project=project, flt=TaskFilter(), sort=sort, task_id=current)
        assert got == following
    assert (
        datamanager_next_after(project=project, flt=TaskFilter(), sort=sort, task_id=order[-1])
        is None
    )


def test_next_after_a_task_that_left_the_filter(project):
    ids = _import(project, [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    task = Task.objects.get(pk=ids[0])
    annotation_create(task=task, user=project.created_by, result=[choice()])
    flt = TaskFilter(annotated=False)
    assert (
        datamanager_next_after(project=project, flt=flt, sort=TaskSort(), task_id=ids[0]) == ids[1]
    )


def test_next_after_crosses_to_unscored_tasks(project, tied):
    sort = TaskSort("prediction_score")
    order = _expected(tied, sort)
    last_scored = max(
        i for i, t in enumerate(order) if Task.objects.get(pk=t).prediction_score is not None
    )
    got = datamanager_next_after(
        project=project, flt=TaskFilter(), sort=sort, task_id=order[last_scored]
    )
    assert got == order[last_scored + 1]


def test_next_after_a_task_of_another_project_is_refused(project):
    other = _import(make_project(), [{"text": "x"}])[0]
    with pytest.raises(ValidationError) as info:
        datamanager_next_after(project=project, flt=TaskFilter(), sort=TaskSort(), task_id=other)
    assert "task" in info.value.message_dict


def test_cursor_round_trip_and_refusals():
    sort = TaskSort("prediction_score", descending=True)
    cursor = Cursor(sort=sort.text, segment=0, key=0.1 + 0.2, id=42)
    assert Cursor.decode(cursor.encode(), sort.text) == cursor
    with pytest.raises(ValidationError) as info:
        Cursor.decode(cursor.encode(), "prediction_score")
    assert "cursor" in info.value.message_dict
    for bad in ("", "!!", "bm90IGpzb24", Cursor(sort="id", segment=7, key=None, id=1).encode()):
        with pytest.raises(ValidationError):
            Cursor.decode(bad, "id")


@pytest.mark.parametrize("name", ["id", "priority", "prediction_score"])
def test_query_count_per_page_is_constant(project, tied, name, django_assert_num_queries):
    member = make_user()
    add_member(project, member)
    for task_id in tied:
        TaskAssignment.objects.create(project=project, task_id=task_id, user=member)
    sort = TaskSort(name)
    # page, assignees, leases, review states
    with django_assert_num_queries(4):
        first = datamanager_page(project=project, flt=TaskFilter(), sort=sort, size=3)
    with django_assert_num_queries(4):
        datamanager_page(project=project, flt=TaskFilter(), sort=sort, cursor=first.next, size=10)
    # a short page of a search also reads where its scanned window ends
    with django_assert_num_queries(5):
        datamanager_page(project=project, flt=TaskFilter(search="task 1"), sort=sort, size=20)


def test_preview_field_comes_from_the_config():
    project = make_project(
        label_config='<View><Image name="img" value="$image"/><Text name="t" value="$body"/>'
        '<Choices name="c" toName="t"><Choice value="a"/></Choices></View>'
    )
    assert text_field_of(project.parsed_config) == "body"


def test_rows_carry_the_leases_still_running():
    """A lease taken before the data manager opened marks its row; expired ones do not."""
    from datetime import timedelta

    from django.utils import timezone

    from tasks.models import TaskLock
    from tasks.services.next import task_next_take

    project = make_project()
    ids = _import(project, [{"text": f"t{i}"} for i in range(3)])
    nadia, omar = make_user(username="nadia"), make_user(username="omar")
    for user in (nadia, omar):
        add_member(project, user)
    taken = task_next_take(project=project, user=nadia)
    stale = Task.objects.exclude(pk=taken.pk).order_by("id").first()
    TaskLock.objects.create(task=stale, user=omar, expires_at=timezone.now() - timedelta(seconds=1))

    rows = {
        r.id: r for r in datamanager_page(project=project, flt=TaskFilter(), sort=TaskSort()).rows
    }
    assert set(rows) == set(ids)
    held = rows[taken.pk].leases
    assert [(lease["id"], lease["username"]) for lease in held] == [(nadia.pk, "nadia")]
    assert held[0]["expires_at"] > timezone.now()
    assert rows[stale.pk].leases == []
