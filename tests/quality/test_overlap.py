"""Overlap: a share of each import (and every task flagged ambiguous) silently needs several
annotators; next-task honours it; annotators are not told."""

from __future__ import annotations

import pytest

from quality.services import overlap_apply, quality_settings_update
from tasks.models import Task
from tasks.services import annotation_create, task_next_take, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_overlap(settings):
    settings.QUALITY_OVERLAP_PERCENTAGE = 10


def _import(project, n, **meta):
    items = [{"data": {"text": f"t{i}"}, "meta": dict(meta)} for i in range(n)]
    return tasks_import(project=project, items=items, user=None).task_ids


def test_a_new_project_sends_about_ten_percent_of_imported_tasks_to_two_annotators():
    project = make_project()
    _import(project, 1000)
    overlaps = list(project.tasks.values_list("overlap", flat=True))
    assert set(overlaps) == {1, 2}
    assert 80 <= overlaps.count(2) <= 120


def test_the_sample_is_spread_over_the_import_not_its_first_rows():
    project = make_project()
    ids = _import(project, 1000)
    overlapped = list(project.tasks.filter(overlap=2).values_list("id", flat=True))
    assert min(overlapped) < ids[200] and max(overlapped) > ids[800]


def test_tasks_flagged_ambiguous_all_go_to_k_annotators():
    project = make_project()
    quality_settings_update(project=project, user=project.created_by, overlap_annotators=3)
    _import(project, 30, ambiguous=True)
    assert set(project.tasks.values_list("overlap", flat=True)) == {3}


def test_a_second_import_keeps_the_first_imports_sample():
    project = make_project()
    _import(project, 300)
    before = dict(project.tasks.values_list("id", "overlap"))
    _import(project, 300)
    after = dict(project.tasks.values_list("id", "overlap"))
    assert all(after[t] == o for t, o in before.items())
    assert 40 <= sum(1 for o in after.values() if o == 2) <= 80


def test_changing_the_share_resamples_only_tasks_nobody_started():
    project = make_project()
    ids = _import(project, 200)
    annotator = make_user()
    add_member(project, annotator)
    started = project.tasks.filter(overlap=1).first()
    annotation_create(task=started, user=annotator, result=[choice()])
    quality_settings_update(project=project, user=project.created_by, overlap_percentage=100)
    started.refresh_from_db()
    assert started.overlap == 1 and started.is_labeled
    fresh = project.tasks.exclude(pk=started.pk)
    assert set(fresh.values_list("overlap", flat=True)) == {2}
    quality_settings_update(project=project, user=project.created_by, overlap_percentage=0)
    assert set(project.tasks.filter(id__in=ids).values_list("overlap", flat=True)) == {1}


def test_label_studios_own_overlap_setting_takes_precedence():
    project = make_project(maximum_annotations=3, overlap_cohort_percentage=100)
    _import(project, 50)
    assert overlap_apply(project=project) == 0
    assert set(project.tasks.values_list("overlap", flat=True)) == {3}


def test_next_task_hands_an_overlapped_task_to_two_annotators_and_no_third():
    project = make_project()
    quality_settings_update(project=project, user=project.created_by, overlap_percentage=100)
    (task_id,) = _import(project, 1)
    users = [make_user() for _ in range(3)]
    for user in users:
        add_member(project, user)
    first = task_next_take(project=project, user=users[0])
    second = task_next_take(project=project, user=users[1])
    assert first.pk == second.pk == task_id
    assert task_next_take(project=project, user=users[2]) is None


def test_annotators_are_not_told_a_task_overlaps():
    project = make_project()
    quality_settings_update(project=project, user=project.created_by, overlap_percentage=100)
    (task_id,) = _import(project, 1)
    annotator = make_user()
    add_member(project, annotator)
    client = api(annotator)
    nxt = client.get(f"/api/projects/{project.pk}/next").json()
    assert nxt["id"] == task_id and nxt["overlap"] == 1
    assert client.get(f"/api/tasks/{task_id}").json()["overlap"] == 1
    listed = client.get(f"/api/projects/{project.pk}/tasks").json()["tasks"]
    assert [t["overlap"] for t in listed] == [1]
    assert client.get(f"/api/projects/{project.pk}/quality-settings").status_code == 403
    # The manager sees the real value.
    assert api(project.created_by).get(f"/api/tasks/{task_id}").json()["overlap"] == 2
    assert Task.objects.get(pk=task_id).overlap == 2
