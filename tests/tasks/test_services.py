from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tasks.models import Annotation, Draft, Prediction, Task, TaskLock
from tasks.services import (
    AnnotationConflict,
    annotation_create,
    annotation_delete,
    annotation_update,
    prediction_create,
    task_counters_refresh,
    tasks_import,
)
from tests.factories import choice, make_project, make_user, span

pytestmark = pytest.mark.django_db

TEXT = "Hello Alice from Paris"


def _task(project, text=TEXT):
    return tasks_import(project=project, items=[{"text": text}], user=None).task_ids[0]


def test_import_creates_tasks_annotations_and_predictions_with_counters():
    project = make_project()
    summary = tasks_import(
        project=project,
        user=project.created_by,
        items=[
            {
                "data": {"text": TEXT},
                "annotations": [{"result": [span(6, 11, "Alice"), choice()]}],
                "predictions": [{"result": [choice("ask")], "score": 0.4, "model_version": "v1"}],
            },
            {"text": "Bye"},
        ],
    )
    assert (summary.task_count, summary.annotation_count, summary.prediction_count) == (2, 1, 1)
    first, second = Task.objects.filter(pk__in=summary.task_ids).order_by("id")
    assert (first.total_annotations, first.total_predictions, first.is_labeled) == (1, 1, True)
    assert (second.total_annotations, second.is_labeled, second.data) == (0, False, {"text": "Bye"})
    assert Prediction.objects.get().model_version == "v1"


def test_import_keeps_text_that_the_bulk_format_must_escape():
    """COPY's text format gives tab, newline, carriage return and backslash a meaning."""
    project = make_project()
    awkward = 'a\tb\nc\rd \\ e \\N \\. "q" \u00e9\u2028 \U0001f600'
    summary = tasks_import(
        project=project,
        user=project.created_by,
        items=[
            {
                "data": {"text": awkward, "n": None, "ok": True, "x": 1.5},
                "meta": {"path": "C:\\dir\\file"},
                "predictions": [{"result": [choice("ask")], "score": 1e-7, "model_version": "\t"}],
            }
        ],
    )
    task = Task.objects.get(pk=summary.task_ids[0])
    assert task.data == {"text": awkward, "n": None, "ok": True, "x": 1.5}
    assert task.meta == {"path": "C:\\dir\\file"}
    prediction = Prediction.objects.get(task=task)
    assert (prediction.score, prediction.model_version) == (1e-7, "\t")


def test_imported_timestamps_compare_like_orm_written_ones():
    """Bulk-written timestamps are stored in the ORM's form: an exact filter finds them."""
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    assert Task.objects.filter(pk=task.pk, created_at=task.created_at).exists()
    assert Task.objects.filter(pk=task.pk, updated_at__lte=task.updated_at).exists()


def test_import_is_all_or_nothing_and_names_the_bad_rows():
    project = make_project()
    items = [{"text": f"row {i}"} for i in range(200)]
    items[57] = {"data": {"txt": "wrong field"}}
    items[120] = {"data": {"text": "x"}, "annotations": [{"result": [choice("nope")]}]}
    with pytest.raises(ValidationError) as err:
        tasks_import(project=project, items=items, user=None)
    messages = err.value.message_dict["tasks"]
    assert any(m.startswith("row 58 data.text") for m in messages)
    assert any(m.startswith("row 121 annotations[0].result") and "nope" in m for m in messages)
    assert Task.objects.filter(project=project).count() == 0


def test_import_rejects_a_row_that_is_not_an_object():
    project = make_project()
    with pytest.raises(ValidationError) as err:
        tasks_import(project=project, items=[{"text": "ok"}, "just a string"], user=None)
    assert err.value.message_dict["tasks"] == ["row 2: a task must be a JSON object"]


def test_overlap_cohort_spreads_maximum_annotations():
    project = make_project(maximum_annotations=3, overlap_cohort_percentage=20)
    tasks_import(project=project, items=[{"text": str(i)} for i in range(100)], user=None)
    overlaps = list(Task.objects.filter(project=project).values_list("overlap", flat=True))
    assert overlaps.count(3) == 20
    assert overlaps.count(1) == 80


def test_submit_updates_counters_and_marks_task_labelled():
    project = make_project(maximum_annotations=2)
    task = Task.objects.get(pk=_task(project))
    annotation_create(task=task, user=make_user(), result=[choice()])
    task.refresh_from_db()
    assert (task.total_annotations, task.is_labeled) == (1, False)
    annotation_create(task=task, user=make_user(), result=[choice("ask")])
    task.refresh_from_db()
    assert (task.total_annotations, task.is_labeled) == (2, True)


def test_skip_counts_as_cancelled_and_leaves_task_unlabelled():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    annotation_create(task=task, user=make_user(), result=[], was_cancelled=True)
    task.refresh_from_db()
    assert (task.total_annotations, task.cancelled_annotations, task.is_labeled) == (0, 1, False)


def test_submit_rejects_result_outside_the_config():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    with pytest.raises(ValidationError) as err:
        annotation_create(task=task, user=make_user(), result=[span(0, 5, "Hello", label="ORG")])
    assert "ORG" in " ".join(err.value.message_dict["result"])
    assert Annotation.objects.count() == 0


def test_submit_rejects_span_text_that_does_not_match_the_task():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    with pytest.raises(ValidationError):
        annotation_create(task=task, user=make_user(), result=[span(0, 5, "Alice")])


def test_submit_clears_the_users_draft_and_lock():
    from django.utils import timezone

    project = make_project()
    task = Task.objects.get(pk=_task(project))
    user, other = make_user(), make_user()
    Draft.objects.create(task=task, user=user, result=[choice()])
    Draft.objects.create(task=task, user=other, result=[choice()])
    TaskLock.objects.create(task=task, user=user, expires_at=timezone.now())
    annotation_create(task=task, user=user, result=[choice()])
    assert list(Draft.objects.values_list("user", flat=True)) == [other.pk]
    assert not TaskLock.objects.exists()


def test_update_with_current_version_increments_it():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    annotation = annotation_create(task=task, user=make_user(), result=[choice()])
    updated = annotation_update(annotation=annotation, version=1, result=[choice("ask")])
    assert updated.version == 2
    assert updated.result[0]["value"]["choices"] == ["ask"]


def test_update_with_stale_version_conflicts_and_keeps_stored_result():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    annotation = annotation_create(task=task, user=make_user(), result=[choice()])
    annotation_update(annotation=annotation, version=1, result=[choice("ask")])
    with pytest.raises(AnnotationConflict) as err:
        annotation_update(annotation=annotation, version=1, result=[choice("greet")])
    assert err.value.current.version == 2
    annotation.refresh_from_db()
    assert annotation.result[0]["value"]["choices"] == ["ask"]


def test_delete_updates_counters():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    annotation = annotation_create(task=task, user=make_user(), result=[choice()])
    annotation_delete(annotation=annotation)
    task.refresh_from_db()
    assert (task.total_annotations, task.is_labeled) == (0, False)


def test_prediction_create_counts_and_validates():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    prediction_create(task=task, result=[choice("ask")], score=0.7, model_version="m1")
    task.refresh_from_db()
    assert task.total_predictions == 1
    with pytest.raises(ValidationError):
        prediction_create(task=task, result=[{"from_name": "missing", "type": "choices"}])


def test_counters_refresh_repairs_drift():
    project = make_project()
    task = Task.objects.get(pk=_task(project))
    annotation_create(task=task, user=make_user(), result=[choice()])
    Task.objects.filter(pk=task.pk).update(
        total_annotations=7, is_labeled=False, total_predictions=3
    )
    task_counters_refresh(task_ids=[task.pk])
    task.refresh_from_db()
    assert (task.total_annotations, task.is_labeled, task.total_predictions) == (1, True, 0)


def test_bad_row_after_many_batches_leaves_the_project_unchanged():
    project = make_project()
    tasks_import(project=project, items=[{"text": "existing"}], user=None)
    items = ({"text": f"row {i}"} if i != 49_990 else {"nope": 1} for i in range(50_000))
    with pytest.raises(ValidationError) as err:
        tasks_import(project=project, items=items, user=None)
    assert err.value.message_dict["tasks"][0].startswith("row 49991 data.text")
    assert list(Task.objects.filter(project=project).values_list("data", flat=True)) == [
        {"text": "existing"}
    ]


def test_parse_error_mid_stream_rolls_back_written_batches():
    project = make_project()

    def items():
        for i in range(5000):
            yield {"text": str(i)}
        raise ValueError("tasks.jsonl line 5001: not JSON")

    with pytest.raises(ValueError, match="line 5001"):
        tasks_import(project=project, items=items(), user=None)
    assert not Task.objects.filter(project=project).exists()


def test_empty_import_is_refused():
    project = make_project()
    with pytest.raises(ValidationError) as err:
        tasks_import(project=project, items=[], user=None)
    assert err.value.message_dict["tasks"] == ["no task found in the upload"]


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        ("Task", "TASK_COLUMNS"),
        ("Annotation", "ANNOTATION_COLUMNS"),
        ("Prediction", "PREDICTION_COLUMNS"),
    ],
)
def test_raw_import_columns_cover_every_required_field(model, columns):
    """The COPY/executemany path bypasses the ORM: a new NOT NULL column must be added there."""
    from tasks import models
    from tasks.services import imports

    fields = getattr(models, model)._meta.concrete_fields
    required = {
        f.column
        for f in fields
        if not f.null and not f.primary_key and f.db_default is models.models.NOT_PROVIDED
    }
    assert required <= set(getattr(imports, columns))


@pytest.mark.django_db(transaction=True)
def test_statistics_refresh_after_a_large_import_runs_beside_the_request():
    from django.db import connection

    from tasks.services.bulk import table_statistics_refresh_soon

    if connection.vendor != "postgresql":
        pytest.skip("statistics refresh is PostgreSQL's (SQLite plans these without)")

    def analyzed():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'tasks_task'"
            )
            return cursor.fetchone()[0]

    before = analyzed()
    thread = table_statistics_refresh_soon(tables=["tasks_task"])
    thread.join(30)
    assert not thread.is_alive()
    for _ in range(50):  # the statistics views catch up within moments
        if analyzed() > before:
            break
        import time

        time.sleep(0.1)
    assert analyzed() > before
