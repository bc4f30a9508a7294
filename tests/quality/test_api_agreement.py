"""GET /api/projects/{id}/agreement and Task.agreement (the data manager's column)."""

from __future__ import annotations

import numpy as np
import pytest
from krippendorff import alpha
from sklearn.metrics import cohen_kappa_score

from quality.services import project_agreement_refresh
from tasks.models import Task
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user, span

pytestmark = pytest.mark.django_db

TAXONOMY_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Taxonomy name="topic" toName="text">
    <Choice value="Animal"><Choice value="Cat"/><Choice value="Dog"/></Choice>
    <Choice value="Plant"/>
  </Taxonomy>
</View>"""
BOX_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="car"/></RectangleLabels>
</View>"""


def _world(n_tasks=6, config=None):
    project = make_project(**({"label_config": config} if config else {}))
    items = [{"text": f"Alice met Bob {i}", "image": "/x.png"} for i in range(n_tasks)]
    ids = tasks_import(project=project, items=items, user=None).task_ids
    users = [make_user(f"a{i}") for i in range(3)]
    for u in users:
        add_member(project, u)
    reviewer = make_user("rev")
    add_member(project, reviewer, "reviewer")
    return project, ids, users, reviewer


def _annotate(project, task_id, user, result, capture=None):
    task = Task.objects.get(pk=task_id)
    if capture is None:
        return annotation_create(task=task, user=user, result=result)
    with capture(execute=True):
        return annotation_create(task=task, user=user, result=result)


INTENTS = [
    ("greet", "greet", "ask"),
    ("ask", "ask", "ask"),
    ("greet", "ask", "greet"),
    ("greet", "greet", None),
    ("ask", "greet", "ask"),
    ("ask", "ask", "greet"),
]


@pytest.fixture
def choices_world():
    project, ids, users, reviewer = _world()
    for task_id, row in zip(ids, INTENTS, strict=True):
        for user, value in zip(users, row, strict=True):
            if value is not None:
                _annotate(project, task_id, user, [choice(value)])
    return project, ids, users, reviewer


def test_project_krippendorff_alpha_equals_the_reference(choices_world):
    project, *_ = choices_world
    body = (
        api(project.created_by).get(f"/api/projects/{project.pk}/agreement?control=intent").json()
    )
    assert (body["control"], body["kind"], body["metric"]) == (
        "intent",
        "categorical",
        "krippendorff",
    )
    codes = {"greet": 0, "ask": 1, None: np.nan}
    data = np.array([[codes[r[i]] for r in INTENTS] for i in range(3)], dtype=float)
    expected = alpha(reliability_data=data, level_of_measurement="nominal")
    assert body["project"]["value"] == pytest.approx(expected, abs=1e-9)
    assert body["project"]["units"] == 6
    assert body["metrics"] == ["krippendorff", "fleiss", "cohen", "gwet"]


def test_the_default_control_is_the_configs_first_supported_one(choices_world):
    project, *_ = choices_world
    body = api(project.created_by).get(f"/api/projects/{project.pk}/agreement").json()
    assert (body["control"], body["metric"]) == ("label", "span_f1")
    assert body["project"]["reason"] == "no unit has two ratings"  # nobody marked a span


def test_pairs_carry_cohens_kappa_on_shared_tasks(choices_world):
    project, _, users, _ = choices_world
    body = (
        api(project.created_by)
        .get(f"/api/projects/{project.pk}/agreement?control=intent&metric=cohen")
        .json()
    )
    pair = next(p for p in body["pairs"] if p["annotators"] == [users[0].pk, users[2].pk])
    a = [r[0] for r in INTENTS if r[2] is not None]
    c = [r[2] for r in INTENTS if r[2] is not None]
    assert pair["tasks"] == 5 and pair["usernames"] == ["a0", "a2"]
    assert pair["value"] == pytest.approx(cohen_kappa_score(a, c), abs=1e-9)
    annotators = {a["username"]: a for a in body["annotators"]}
    assert set(annotators) == {"a0", "a1", "a2"}


def test_per_label_and_macro_and_lowest_tasks_first(choices_world):
    project, ids, *_ = choices_world
    body = (
        api(project.created_by)
        .get(f"/api/projects/{project.pk}/agreement?control=intent&metric=gwet")
        .json()
    )
    assert {label["name"] for label in body["per_label"]} == {"greet", "ask"}
    assert body["macro"] is not None
    values = [t["value"] for t in body["tasks"]]
    assert values == sorted(values) and body["task_count"] == 6
    assert {t["id"]: t["value"] for t in body["tasks"]}[ids[1]] == 1.0


def test_an_undefined_coefficient_is_null_with_a_reason():
    project, ids, users, _ = _world(3)
    for task_id in ids:
        for user in users[:2]:
            _annotate(project, task_id, user, [choice("greet")])
    body = (
        api(project.created_by)
        .get(f"/api/projects/{project.pk}/agreement?control=intent&metric=fleiss")
        .json()
    )
    assert body["project"]["value"] is None
    assert "one label only" in body["project"]["reason"]
    assert body["project"]["observed"] == 1.0


def test_a_project_without_overlap_answers_no_pairs():
    project, ids, users, _ = _world(2)
    _annotate(project, ids[0], users[0], [choice()])
    body = (
        api(project.created_by).get(f"/api/projects/{project.pk}/agreement?control=intent").json()
    )
    assert body["project"] == {
        "value": None,
        "reason": "no unit has two ratings",
        "units": 0,
        "observed": None,
    }


def test_span_agreement_with_nested_spans():
    project, ids, users, _ = _world(1)
    outer, inner = span(0, 13, "Alice met Bob"), span(0, 5, "Alice", item_id="s2")
    _annotate(project, ids[0], users[0], [outer, inner])
    _annotate(project, ids[0], users[1], [outer])
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/agreement?control=label"
    assert client.get(url).json()["project"]["value"] == pytest.approx(2 / 3)
    exact = client.get(url + "&metric=span_f1_exact").json()
    assert exact["metric"] == "span_f1_exact" and exact["project"]["value"] == pytest.approx(2 / 3)


def test_taxonomy_agreement_per_level():
    project, ids, users, _ = _world(1, TAXONOMY_CONFIG)

    def topic(*path):
        return [{"id": "t", "from_name": "topic", "to_name": "text", "type": "taxonomy",
                 "value": {"taxonomy": [list(path)]}}]  # fmt: skip

    _annotate(project, ids[0], users[0], topic("Animal", "Cat"))
    _annotate(project, ids[0], users[1], topic("Animal", "Dog"))
    body = api(project.created_by).get(f"/api/projects/{project.pk}/agreement").json()
    assert body["kind"] == "taxonomy" and body["project"]["value"] == 0.0
    assert body["per_level"] == [{"level": 1, "value": 1.0}, {"level": 2, "value": 0.0}]


def test_box_agreement_matches_by_iou():
    project, ids, users, _ = _world(1, BOX_CONFIG)

    def box(x):
        return {"id": f"b{x}", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
                "original_width": 100, "original_height": 100,
                "value": {"x": x, "y": 10, "width": 20, "height": 20, "rotation": 0,
                          "rectanglelabels": ["car"]}}  # fmt: skip

    _annotate(project, ids[0], users[0], [box(10), box(60)])
    _annotate(project, ids[0], users[1], [box(12)])
    body = api(project.created_by).get(f"/api/projects/{project.pk}/agreement").json()
    assert (body["kind"], body["metric"]) == ("boxes", "box_f1")
    assert body["project"]["value"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("metric=nope", "metric"),
        ("control=missing", "control"),
        ("metric=box_f1", "metric"),
        ("tasks=-1", "tasks"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(choices_world, query, field):
    project, *_ = choices_world
    response = api(project.created_by).get(f"/api/projects/{project.pk}/agreement?{query}")
    assert response.status_code == 400
    assert field in response.json()["validation_errors"]


def test_reviewers_read_agreement_and_annotators_do_not(choices_world):
    project, _, users, reviewer = choices_world
    url = f"/api/projects/{project.pk}/agreement"
    assert api(reviewer).get(url).status_code == 200
    assert api(users[0]).get(url).status_code == 403


def test_each_submit_on_an_overlapped_task_writes_its_agreement(django_capture_on_commit_callbacks):
    project, ids, users, _ = _world(1)
    _annotate(project, ids[0], users[0], [choice("greet")], django_capture_on_commit_callbacks)
    assert Task.objects.get(pk=ids[0]).agreement is None
    _annotate(project, ids[0], users[1], [choice("greet")], django_capture_on_commit_callbacks)
    assert Task.objects.get(pk=ids[0]).agreement == 1.0
    _annotate(project, ids[0], users[2], [choice("ask")], django_capture_on_commit_callbacks)
    assert Task.objects.get(pk=ids[0]).agreement == pytest.approx(1 / 3)


def test_the_data_manager_shows_agreement_to_managers(choices_world):
    project, ids, *_ = choices_world
    assert project_agreement_refresh(project=project) == 6
    rows = api(project.created_by).get(f"/api/projects/{project.pk}/data").json()
    shown = (
        {r["id"]: r["agreement"] for r in rows["rows"]}
        if "rows" in rows
        else {r["id"]: r["agreement"] for r in rows["tasks"]}
    )
    assert shown[ids[1]] == 1.0 and shown[ids[0]] == pytest.approx(1 / 3)


def test_refresh_is_for_managers(choices_world):
    project, _, _users, reviewer = choices_world
    url = f"/api/projects/{project.pk}/agreement/refresh"
    assert api(reviewer).post(url).status_code == 403
    assert api(project.created_by).post(url).json() == {"tasks": 6}
