from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import close_old_connections

from tasks.models import Task, TaskLock
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, hand_task, make_project, make_user

pytestmark = pytest.mark.django_db


def _project_with_tasks(n, **settings):
    project = make_project(**settings)
    tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(n)], user=None)
    return project


def _annotators(project, count):
    users = [make_user() for _ in range(count)]
    for user in users:
        add_member(project, user)
    return users


def test_next_gives_highest_priority_then_import_order():
    project = _project_with_tasks(5)
    ids = list(project.tasks.order_by("id").values_list("id", flat=True))
    Task.objects.filter(pk=ids[3]).update(priority=5.0)
    client = api(project.created_by)
    assert client.get(f"/api/projects/{project.pk}/next").json()["id"] == ids[3]


def test_asking_again_returns_the_task_you_hold():
    project = _project_with_tasks(3)
    client = api(project.created_by)
    first = client.get(f"/api/projects/{project.pk}/next").json()["id"]
    assert client.get(f"/api/projects/{project.pk}/next/").json()["id"] == first
    assert TaskLock.objects.count() == 1


def test_two_annotators_get_different_tasks_and_submit_moves_on():
    project = _project_with_tasks(3)
    a, b = _annotators(project, 2)
    ta = api(a).get(f"/api/projects/{project.pk}/next").json()["id"]
    tb = api(b).get(f"/api/projects/{project.pk}/next").json()["id"]
    assert ta != tb
    assert (
        api(a)
        .post(f"/api/tasks/{ta}/annotations", {"result": [choice()]}, format="json")
        .status_code
        == 201
    )
    assert not TaskLock.objects.filter(task_id=ta).exists()
    tc = api(a).get(f"/api/projects/{project.pk}/next").json()["id"]
    assert tc not in (ta, tb)


def test_overlap_hands_a_task_to_k_annotators():
    project = _project_with_tasks(1, maximum_annotations=2)
    users = [make_user() for _ in range(3)]
    for u in users:
        add_member(project, u)
    got = [api(u).get(f"/api/projects/{project.pk}/next") for u in users]
    assert [r.status_code for r in got] == [200, 200, 404]
    assert got[2].json()["detail"] == "No more tasks for you in this project."


def test_skip_is_never_handed_out_again_to_that_user():
    project = _project_with_tasks(2)
    client = api(project.created_by)
    first = client.get(f"/api/projects/{project.pk}/next").json()["id"]
    assert client.post(f"/api/tasks/{first}/skip").status_code == 201
    second = client.get(f"/api/projects/{project.pk}/next").json()["id"]
    assert second != first
    client.post(f"/api/tasks/{second}/skip")
    assert client.get(f"/api/projects/{project.pk}/next").status_code == 404


def test_release_frees_the_task_for_others():
    project = _project_with_tasks(1)
    a, b = _annotators(project, 2)
    task_id = api(a).get(f"/api/projects/{project.pk}/next").json()["id"]
    assert api(b).get(f"/api/projects/{project.pk}/next").status_code == 404
    assert api(a).delete(f"/api/tasks/{task_id}/lock").status_code == 204
    assert api(b).get(f"/api/projects/{project.pk}/next").json()["id"] == task_id


def test_expired_lease_is_handed_out_again():
    from datetime import timedelta

    from django.utils import timezone

    project = _project_with_tasks(1)
    a, b = _annotators(project, 2)
    task_id = api(a).get(f"/api/projects/{project.pk}/next").json()["id"]
    TaskLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api(b).get(f"/api/projects/{project.pk}/next").json()["id"] == task_id


def test_heartbeat_on_a_task_held_by_someone_else_is_refused():
    project = _project_with_tasks(1)
    a, b = _annotators(project, 2)
    task_id = api(a).get(f"/api/projects/{project.pk}/next").json()["id"]
    assert api(a).post(f"/api/tasks/{task_id}/lock").status_code == 200
    # Not handed to b: b does not see it at all.
    assert api(b).post(f"/api/tasks/{task_id}/lock").status_code == 404
    hand_task(task_id, b)
    assert api(b).post(f"/api/tasks/{task_id}/lock").status_code == 400


def test_predictions_come_with_the_next_task_when_the_project_shows_them():
    project = make_project()
    tasks_import(
        project=project,
        items=[{"data": {"text": "x"}, "predictions": [{"result": [choice()], "score": 0.5}]}],
        user=None,
    )
    body = api(project.created_by).get(f"/api/projects/{project.pk}/next").json()
    assert body["predictions"][0]["score"] == 0.5
    project.show_collab_predictions = False
    project.save()
    TaskLock.objects.all().delete()
    assert (
        api(project.created_by).get(f"/api/projects/{project.pk}/next").json()["predictions"] == []
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_annotators_never_get_the_same_task():
    project = _project_with_tasks(60)
    users = [make_user() for _ in range(8)]
    for u in users:
        add_member(project, u)
    handed: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(user):
        client = api(user)
        try:
            for _ in range(6):
                response = client.get(f"/api/projects/{project.pk}/next")
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.content[:200]!r}")
                    return
                task_id = response.json()["id"]
                with lock:
                    handed.append(task_id)
                submitted = client.post(
                    f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json"
                )
                if submitted.status_code != 201:
                    errors.append(f"submit {submitted.status_code} {submitted.content[:200]!r}")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(handed) == 48
    assert Counter(handed).most_common(1)[0][1] == 1
    assert Task.objects.filter(project=project, is_labeled=True).count() == 48


@pytest.mark.django_db(transaction=True)
def test_next_task_under_contention_hands_each_task_to_one_annotator():
    """Service-level stress (more contention than over HTTP): 8 threads take and submit as
    fast as they can; with overlap 1 no task may be handed out twice."""
    from tasks.services import annotation_create, task_next_take

    project = _project_with_tasks(300)
    users = [make_user() for _ in range(8)]
    for u in users:
        add_member(project, u)
    handed: list[int] = []
    failures: list[str] = []
    barrier = threading.Barrier(len(users))

    def work(user):
        try:
            barrier.wait()
            for _ in range(30):
                task = task_next_take(project=project, user=user)
                if task is None:
                    return
                handed.append(task.pk)
                annotation_create(task=task, user=user, result=[choice()])
        except Exception as exc:  # reported below: a thread must not die silently
            failures.append(repr(exc))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(handed) == 240
    assert [task for task, n in Counter(handed).items() if n > 1] == []


def test_the_periodic_clean_up_drops_only_expired_leases():
    from datetime import timedelta

    from django.utils import timezone

    from tasks.jobs import locks_expire

    project = _project_with_tasks(5)
    users = _annotators(project, 5)
    held = [api(u).get(f"/api/projects/{project.pk}/next").json()["id"] for u in users]
    past = timezone.now() - timedelta(seconds=1)
    TaskLock.objects.filter(task_id__in=held[:3]).update(expires_at=past)
    assert locks_expire.delay().get() == 3
    assert sorted(TaskLock.objects.values_list("task_id", flat=True)) == sorted(held[3:])
    # The job is scheduled for the beat process.
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["expired-leases"]["task"] == "tasks.jobs.locks_expire"
