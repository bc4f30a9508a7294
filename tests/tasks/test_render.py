"""The hand-built JSON of the hot endpoints is exactly the documented serializers' JSON."""

import pytest

from tasks import services
from tasks.api import render
from tasks.api import serializers as s
from tasks.models import Task
from tests.factories import choice, make_project, make_user, span

pytestmark = pytest.mark.django_db


def _objects():
    project = make_project()
    task = Task.objects.create(
        project=project, data={"text": "Anna flies to Paris"}, meta={"src": "x"}, priority=2.5
    )
    prediction = services.prediction_create(
        task=task, result=[span(0, 4, "Anna")], score=0.75, model_version="v1"
    )
    annotation = services.annotation_create(
        task=task,
        user=make_user(),
        result=[choice("ask")],
        lead_time=1.5,
        parent_prediction=prediction,
    )
    task.refresh_from_db()
    return task, annotation, prediction


def test_task_annotation_and_prediction_shapes_match_the_serializers():
    task, annotation, prediction = _objects()
    assert render.task_dict(task) == s.TaskOut(task).data
    assert render.annotation_dict(annotation) == s.AnnotationOut(annotation).data
    assert render.prediction_dict(prediction) == s.PredictionOut(prediction).data


def test_fresh_annotation_renders_like_the_stored_one():
    """The submit response renders the object create() returned, before any reload."""
    _, annotation, _ = _objects()
    fresh = render.annotation_dict(annotation)
    annotation.refresh_from_db()
    assert fresh == s.AnnotationOut(annotation).data
