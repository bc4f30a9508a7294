"""Label Studio's official Python SDK (``label-studio-sdk`` 2.x) against our server over HTTP.

The SDK is used exactly as a Label Studio user would: ``LabelStudio(base_url, api_key)`` with a
legacy token (sent as ``Authorization: Token <key>``), its pagers, its response models.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from annotator.models import ApiToken, api_token_hash
from annotator.services import api_token_create
from tasks.models import Annotation, Task
from tests.factories import NER_CONFIG, add_member, choice, make_project, make_user, span

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def owner_key(owner):
    return api_token_create(user=owner, name="sdk").key


@pytest.fixture
def ls(live_server, owner_key):
    return LabelStudio(base_url=live_server.url, api_key=owner_key)


@pytest.fixture
def project(owner):
    return make_project(owner=owner)


def test_projects_create_get_list_update(ls, owner):
    created = ls.projects.create(title="SDK project", label_config=NER_CONFIG)
    assert created.id is not None
    assert created.title == "SDK project"
    assert created.created_by.id == owner.pk

    got = ls.projects.get(id=created.id)
    assert (got.id, got.title) == (created.id, "SDK project")
    assert got.label_config == NER_CONFIG
    assert got.get_label_interface().get_control("label").labels == ["PER", "LOC"]

    other = make_project(owner=owner, title="Made by the factory")
    listed = {p.id: p.title for p in ls.projects.list()}
    assert listed == {created.id: "SDK project", other.pk: "Made by the factory"}

    updated = ls.projects.update(id=created.id, title="Renamed")
    assert (updated.id, updated.title) == (created.id, "Renamed")
    assert ls.projects.get(id=created.id).title == "Renamed"


def test_projects_validate_label_config_and_delete(ls, project):
    checked = ls.projects.validate_label_config(id=project.pk, label_config=NER_CONFIG)
    assert checked.label_config == NER_CONFIG
    assert {c["name"] for c in checked.controls} == {"label", "intent"}
    with pytest.raises(ApiError) as exc:
        ls.projects.validate_label_config(id=project.pk, label_config="<View><Text/></View>")
    assert exc.value.status_code == 400
    assert exc.value.body["validation_errors"]["label_config"] == ["line 1: <Text> needs a name"]

    ls.projects.delete(id=project.pk)
    with pytest.raises(ApiError) as exc:
        ls.projects.get(id=project.pk)
    assert exc.value.status_code == 404


def test_projects_list_pages_through_every_project(ls, owner):
    ids = {make_project(owner=owner).pk for _ in range(5)}
    assert {p.id for p in ls.projects.list(page_size=2)} == ids


def test_import_plain_data_objects(ls, project):
    response = ls.projects.import_tasks(
        id=project.pk,
        request=[{"text": "Hello Alice"}, {"text": "Bonjour Paris"}],
        return_task_ids=True,
    )
    assert response.task_count == 2
    assert response.annotation_count == 0
    assert response.predictions_count == 0
    assert sorted(response.task_ids) == sorted(project.tasks.values_list("id", flat=True))


def test_import_full_tasks_with_annotations_and_predictions(ls, project):
    response = ls.projects.import_tasks(
        id=project.pk,
        request=[
            {
                "data": {"text": "Hello Alice"},
                "annotations": [{"result": [span(6, 11, "Alice")]}],
                "predictions": [{"result": [choice()], "score": 0.4, "model_version": "v1"}],
            },
            {
                "data": {"text": "Bob"},
                "annotations": [{"result": [span(0, 3, "Bob")]}, {"result": [choice("ask")]}],
            },
        ],
    )
    assert (response.task_count, response.annotation_count, response.predictions_count) == (
        2,
        3,
        1,
    )
    assert Annotation.objects.filter(task__project=project).count() == 3


def test_tasks_list_iterates_every_page(ls, project):
    imported = ls.projects.import_tasks(
        id=project.pk, request=[{"text": f"t{i}"} for i in range(250)]
    )
    assert imported.task_count == 250

    pager = ls.tasks.list(project=project.pk, page_size=100)
    first_page = pager.response
    assert (first_page.total, first_page.total_annotations, first_page.total_predictions) == (
        250,
        0,
        0,
    )
    assert len(first_page.tasks) == 100
    texts = [task.data["text"] for task in pager]
    assert texts == [f"t{i}" for i in range(250)]


def test_tasks_list_only_annotated_with_children(ls, project):
    imported = ls.projects.import_tasks(
        id=project.pk,
        request=[
            {"data": {"text": "Hello Alice"}, "annotations": [{"result": [span(6, 11, "Alice")]}]},
            {"data": {"text": "bare"}, "predictions": [{"result": [choice()], "score": 0.5}]},
        ],
    )
    assert (imported.annotation_count, imported.predictions_count) == (1, 1)
    everything = ls.tasks.list(project=project.pk)
    assert (everything.response.total_annotations, everything.response.total_predictions) == (1, 1)
    annotated = list(ls.tasks.list(project=project.pk, only_annotated=True))
    assert [t.data["text"] for t in annotated] == ["Hello Alice"]
    # The SDK asks for fields=all: each task carries its annotations and predictions.
    assert annotated[0].annotations[0]["result"][0]["value"]["text"] == "Alice"
    assert annotated[0].predictions == []


def test_tasks_create_get_update_delete(ls, project):
    created = ls.tasks.create(project=project.pk, data={"text": "Hello Alice"})
    assert created.id is not None
    assert created.project == project.pk
    assert created.data == {"text": "Hello Alice"}

    got = ls.tasks.get(id=str(created.id))
    assert got.id == created.id
    assert got.data == {"text": "Hello Alice"}
    assert got.annotations == []

    updated = ls.tasks.update(id=str(created.id), data={"text": "Hello Bob"}, meta={"src": "sdk"})
    assert updated.data == {"text": "Hello Bob"}
    assert updated.meta == {"src": "sdk"}
    assert Task.objects.get(pk=created.id).data == {"text": "Hello Bob"}

    ls.tasks.delete(id=str(created.id))
    assert not Task.objects.filter(pk=created.id).exists()
    with pytest.raises(ApiError) as exc:
        ls.tasks.get(id=str(created.id))
    assert exc.value.status_code == 404


def test_tasks_delete_all(ls, project):
    imported = ls.projects.import_tasks(id=project.pk, request=[{"text": "a"}, {"text": "b"}])
    assert imported.task_count == 2
    ls.tasks.delete_all_tasks(id=project.pk)
    assert list(ls.tasks.list(project=project.pk)) == []
    assert ls.projects.get(id=project.pk).task_number == 0


def test_annotations_create_list_get_update_delete(ls, project, owner):
    task = ls.tasks.create(project=project.pk, data={"text": "Hello Alice"})

    created = ls.annotations.create(
        id=task.id, result=[span(6, 11, "Alice")], lead_time=2.5, was_cancelled=False
    )
    assert created.id is not None
    assert created.task == task.id
    assert created.completed_by == owner.pk
    assert created.result[0]["value"]["text"] == "Alice"
    assert created.lead_time == 2.5

    listed = ls.annotations.list(id=task.id)
    assert [a.id for a in listed] == [created.id]

    got = ls.annotations.get(id=created.id)
    assert (got.id, got.task, got.result) == (created.id, task.id, created.result)

    updated = ls.annotations.update(id=created.id, result=[span(6, 11, "Alice", "LOC")])
    assert updated.result[0]["value"]["labels"] == ["LOC"]
    assert ls.tasks.get(id=str(task.id)).total_annotations == 1

    ls.annotations.delete(id=created.id)
    assert ls.annotations.list(id=task.id) == []
    assert ls.tasks.get(id=str(task.id)).total_annotations == 0


def test_predictions_create_and_list_by_task_and_project(ls, project):
    first = ls.tasks.create(project=project.pk, data={"text": "Hello"})
    second = ls.tasks.create(project=project.pk, data={"text": "Where"})

    created = ls.predictions.create(
        task=first.id, result=[choice("greet")], score=0.9, model_version="v2"
    )
    assert created.id is not None
    assert (created.task, created.score, created.model_version) == (first.id, 0.9, "v2")
    assert created.result[0]["value"]["choices"] == ["greet"]
    ls.predictions.create(task=second.id, result=[choice("ask")], score=0.1)

    by_task = ls.predictions.list(task=first.id)
    assert [p.id for p in by_task] == [created.id]
    by_project = ls.predictions.list(project=project.pk)
    assert [p.task for p in by_project] == [first.id, second.id]
    assert ls.tasks.get(id=str(first.id)).total_predictions == 1

    assert ls.predictions.get(id=created.id).model_version == "v2"
    updated = ls.predictions.update(id=created.id, result=[choice("ask")], score=0.3)
    assert (updated.result[0]["value"]["choices"], updated.score) == (["ask"], 0.3)
    ls.predictions.delete(id=created.id)
    assert ls.predictions.list(task=first.id) == []
    assert ls.tasks.get(id=str(first.id)).total_predictions == 0


def test_import_predictions_in_bulk(ls, project):
    first = ls.tasks.create(project=project.pk, data={"text": "Hello"})
    second = ls.tasks.create(project=project.pk, data={"text": "Where"})
    response = ls.projects.import_predictions(
        id=project.pk,
        request=[
            {"task": first.id, "result": [choice("greet")], "score": 0.7, "model_version": "m"},
            {"task": second.id, "result": [choice("ask")]},
        ],
    )
    assert response.created == 2
    assert [(p.task, p.model_version) for p in ls.predictions.list(project=project.pk)] == [
        (first.id, "m"),
        (second.id, ""),
    ]


def test_export_json_sync(ls, project):
    imported = ls.projects.import_tasks(
        id=project.pk,
        request=[
            {"data": {"text": "Hello Alice"}, "annotations": [{"result": [span(6, 11, "Alice")]}]},
            {"data": {"text": "not annotated"}},
        ],
    )
    assert (imported.task_count, imported.annotation_count) == (2, 1)
    raw = b"".join(ls.projects.exports.download_sync(id=project.pk, export_type="JSON"))
    exported = json.loads(raw)
    assert [t["data"]["text"] for t in exported] == ["Hello Alice"]
    assert exported[0]["annotations"][0]["result"][0]["value"]["text"] == "Alice"

    everything = ls.projects.exports.as_json(project.pk)
    assert sorted(t["data"]["text"] for t in everything) == ["Hello Alice", "not annotated"]


def test_export_sync_of_chosen_tasks(ls, project):
    response = ls.projects.import_tasks(
        id=project.pk,
        request=[{"text": "one"}, {"text": "two"}, {"text": "three"}],
        return_task_ids=True,
    )
    first, _, third = response.task_ids
    raw = b"".join(
        ls.projects.exports.download_sync(
            id=project.pk, export_type="JSON", download_all_tasks=True, ids=[first, third]
        )
    )
    assert [t["data"]["text"] for t in json.loads(raw)] == ["one", "three"]


def test_export_snapshot_create_get_download(ls, project):
    imported = ls.projects.import_tasks(
        id=project.pk,
        request=[{"data": {"text": "Hello"}, "annotations": [{"result": [choice("greet")]}]}],
    )
    assert imported.annotation_count == 1
    names = [f["name"] for f in ls.projects.exports.list_formats(id=project.pk)]
    assert "JSON" in names
    assert "CSV" in names

    created = ls.projects.exports.create(id=project.pk)
    assert created.id is not None
    snapshot = ls.projects.exports.get(id=project.pk, export_pk=created.id)
    assert (snapshot.id, snapshot.status) == (created.id, "completed")
    assert [e.id for e in ls.projects.exports.list(id=project.pk)] == [created.id]
    raw = b"".join(
        ls.projects.exports.download(id=project.pk, export_pk=created.id, export_type="JSON")
    )
    assert [t["data"]["text"] for t in json.loads(raw)] == ["Hello"]


def test_export_csv_sync_honours_export_type(ls, project):
    imported = ls.projects.import_tasks(
        id=project.pk,
        request=[{"data": {"text": "Hello"}, "annotations": [{"result": [choice("greet")]}]}],
    )
    assert imported.annotation_count == 1
    raw = b"".join(ls.projects.exports.download_sync(id=project.pk, export_type="CSV"))
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert [(r["text"], r["intent"]) for r in rows] == [("Hello", "greet")]


def test_users_whoami_current_user_and_token(ls, owner, owner_key):
    me = ls.users.whoami()
    assert (me.id, me.username, me.email) == (owner.pk, owner.username, owner.email)
    current = ls.users.get_current_user()
    assert (current.id, current.username) == (owner.pk, owner.username)
    # Called with a token, the endpoint answers with that token (keys are stored hashed).
    assert ls.users.get_token().token == owner_key


def test_users_reset_token(ls, owner, owner_key, live_server):
    new_key = ls.users.reset_token().token
    assert new_key not in ("", None, owner_key)
    old = ApiToken.objects.get(key_hash=api_token_hash(owner_key))
    assert old.revoked_at is not None
    assert ApiToken.objects.get(key_hash=api_token_hash(new_key)).user == owner
    fresh = LabelStudio(base_url=live_server.url, api_key=new_key)
    assert fresh.users.whoami().id == owner.pk
    with pytest.raises(ApiError) as refused:
        LabelStudio(base_url=live_server.url, api_key=owner_key).users.whoami()
    assert refused.value.status_code == 401


def test_member_sees_only_their_projects(live_server, project):
    outsider = make_user()
    annotator = make_user()
    add_member(project, annotator)
    key = api_token_create(user=annotator).key
    as_annotator = LabelStudio(base_url=live_server.url, api_key=key)
    assert [p.id for p in as_annotator.projects.list()] == [project.pk]
    key = api_token_create(user=outsider).key
    as_outsider = LabelStudio(base_url=live_server.url, api_key=key)
    assert list(as_outsider.projects.list()) == []
    with pytest.raises(ApiError) as exc:
        as_outsider.projects.get(id=project.pk)
    assert exc.value.status_code == 404


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (
            lambda ls, pk: ls.projects.duplicate(id=pk, mode="settings", title="c", workspace=1),
            404,
        ),
        (lambda ls, pk: ls.projects.list_counts(), 404),
        (lambda ls, pk: list(ls.workspaces.list()), 404),
        (lambda ls, pk: ls.users.get_hotkeys(), 404),
        (lambda ls, pk: ls.users.update_current_user(first_name="Ada"), 405),
    ],
    ids=[
        "projects.duplicate",
        "projects.list_counts",
        "workspaces.list",
        "users.get_hotkeys",
        "users.update_current_user",
    ],
)
def test_unsupported_endpoint_is_a_json_4xx(ls, project, call, status):
    with pytest.raises(ApiError) as exc:
        call(ls, project.pk)
    assert exc.value.status_code == status
    # The SDK keeps the raw text when the body is not JSON; ours is the API's error object.
    assert isinstance(exc.value.body, dict)
    assert exc.value.body["status_code"] == status
    assert exc.value.body["detail"]
