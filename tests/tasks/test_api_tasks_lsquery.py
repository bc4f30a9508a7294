"""Label Studio's Data Manager parameters on GET /api/tasks: query, selected_items, include."""

from __future__ import annotations

import json

import pytest

from tasks.models import Task
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project()
    words = ["refund please", "card lost", "refund status", "hello", "lost again"]
    tasks_import(project=project, items=[{"text": w} for w in words], user=None)
    first, second = Task.objects.filter(project=project).order_by("id")[:2]
    for task in (first, second):
        annotation_create(task=task, user=project.created_by, result=[choice()])
    annotation_create(task=second, user=project.created_by, result=[choice("ask", "c2")])
    return project


def _ids(project, **params):
    if "query" in params and not isinstance(params["query"], str):
        params["query"] = json.dumps(params["query"])
    response = api(project.created_by).get("/api/tasks", {"project": project.pk, **params})
    assert response.status_code == 200, response.json()
    return [t["id"] for t in response.json()["tasks"]]


def _item(column, operator, value, kind="Number"):
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind, "value": value}


def _all(project):
    return list(Task.objects.filter(project=project).order_by("id").values_list("id", flat=True))


def test_number_filters_and_descending_order(project):
    ids = _all(project)
    annotated = {
        "filters": {"conjunction": "and", "items": [_item("total_annotations", "greater", 0)]}
    }
    assert _ids(project, query=annotated) == ids[:2]
    twice = {"filters": {"items": [_item("total_annotations", "equal", 2)]}}
    assert _ids(project, query=twice) == [ids[1]]
    window = {"filters": {"items": [_item("id", "in", {"min": ids[1], "max": ids[3]})]}}
    assert _ids(project, query=window) == ids[1:4]
    assert _ids(project, query={"ordering": ["-tasks:id"]}) == ids[::-1]
    by_count = {"ordering": ["-tasks:total_annotations"]}
    assert _ids(project, query=by_count) == [ids[1], ids[0], *ids[4:1:-1]]


def test_data_text_filters_with_and_or(project):
    ids = _all(project)
    refund = _item("data.text", "contains", "REFUND", "String")
    lost = _item("data.text", "contains", "lost", "String")
    assert _ids(project, query={"filters": {"conjunction": "or", "items": [refund, lost]}}) == [
        ids[0],
        ids[1],
        ids[2],
        ids[4],
    ]
    both = {
        "filters": {"conjunction": "and", "items": [refund, _item("total_annotations", "equal", 0)]}
    }
    assert _ids(project, query=both) == [ids[2]]
    exact = _item("data.text", "equal", "hello", "String")
    assert _ids(project, query={"filters": {"items": [exact]}}) == [ids[3]]


def test_selected_items_and_include(project):
    ids = _all(project)
    chosen = {"all": False, "included": [ids[0], ids[3]]}
    assert _ids(project, selected_items=json.dumps(chosen)) == [ids[0], ids[3]]
    rest = {"selectedItems": {"all": True, "excluded": [ids[0]]}}
    assert _ids(project, query=rest) == ids[1:]
    response = api(project.created_by).get(
        "/api/tasks", {"project": project.pk, "include": "data", "page_size": 1}
    )
    assert response.json()["tasks"] == [{"id": ids[0], "data": {"text": "refund please"}}]


def test_the_sdks_filters_helper_reads_the_same(project):
    from label_studio_sdk.data_manager import Column, Filters, Operator, Type

    filters = Filters.create(
        Filters.AND,
        [Filters.item(Column.total_annotations, Operator.GREATER, Type.Number, Filters.value(0))],
    )
    assert _ids(project, query={"filters": filters}) == _all(project)[:2]


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"query": "{not json"}, "query", "not valid JSON"),
        (
            {"query": {"filters": {"items": [_item("agreement", "equal", 1)]}}},
            "query.filters.items[0]",
            "unsupported filter column 'agreement'",
        ),
        (
            {"query": {"filters": {"items": [_item("id", "regex", 1)]}}},
            "query.filters.items[0]",
            "unsupported operator 'regex'",
        ),
        (
            {"query": {"filters": {"items": [_item("id", "in", 3)]}}},
            "query.filters.items[0]",
            "'min'",
        ),
        (
            {"query": {"ordering": ["tasks:agreement"]}},
            "query.ordering",
            "cannot sort by 'agreement'",
        ),
        ({"query": {"ordering": ["-tasks:id"]}, "after": 1}, "after", "keyset"),
        (
            {"selected_items": json.dumps({"all": False, "included": ["x"]})},
            "selected_items",
            "task ids",
        ),
        ({"view": 3}, "view", "not kept here"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(project, params, field, words):
    if "query" in params and not isinstance(params["query"], str):
        params = {**params, "query": json.dumps(params["query"])}
    response = api(project.created_by).get("/api/tasks", {"project": project.pk, **params})
    assert response.status_code == 400
    problems = response.json()["validation_errors"][field]
    assert any(words in p for p in problems), problems
