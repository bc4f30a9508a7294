"""The data manager API: table pages, count, next-after and the bulk actions."""

from __future__ import annotations

import pytest

from tasks.models import Annotation, Task, TaskAssignment
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, hand_task, make_project, make_user, span

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return make_project()


@pytest.fixture
def ids(project):
    items = [{"text": f"Hello {name}"} for name in ("Alice", "Bob", "Carol", "Dan", "Eve")]
    return tasks_import(project=project, items=items, user=None).task_ids


@pytest.fixture
def manager(project):
    return project.created_by


@pytest.fixture
def annotator(project):
    user = make_user()
    add_member(project, user, "annotator")
    return user


def _url(project, tail=""):
    return f"/api/projects/{project.pk}/data{tail}"


def _act(user, project, action, body):
    return api(user).post(_url(project, f"/actions/{action}"), body, format="json")


# --- table ----------------------------------------------------------------------------------
def test_members_read_the_table_page_by_page(project, ids, annotator):
    for task_id in ids:
        hand_task(task_id, annotator)
    client = api(annotator)
    first = client.get(_url(project), {"page_size": 3}).json()
    assert [t["id"] for t in first["tasks"]] == ids[:3]
    assert first["tasks"][0]["preview"] == "Hello Alice"
    assert first["tasks"][0]["agreement"] is None
    second = client.get(_url(project), {"page_size": 3, "cursor": first["next"]}).json()
    assert [t["id"] for t in second["tasks"]] == ids[3:]
    assert second["next"] is None
    assert client.get(_url(project, "/count"), {"search": "alice"}).json() == {"count": 1}


def test_outsiders_get_404_everywhere(project, ids):
    client = api(make_user())
    for tail in ("", "/count", f"/next-after?task={ids[0]}"):
        response = client.get(_url(project, tail))
        assert response.status_code == 404, tail
        assert response.json()["detail"].startswith(f"Project {project.pk}")
    for action in ("assign", "label", "delete", "review"):
        assert _act(make_user(), project, action, {}).status_code == 404


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
@pytest.mark.parametrize("action", ["assign", "label", "delete", "review"])
def test_only_managers_act_in_bulk(project, ids, role, action):
    user = make_user()
    add_member(project, user, role)
    response = _act(user, project, action, {"selection": {"ids": ids}})
    assert response.status_code == 403
    assert Task.objects.filter(project=project).count() == 5


def test_organization_admins_act_in_bulk(project, ids):
    from projects.models import OrganizationMember

    admin = make_user()
    OrganizationMember.objects.create(organization=project.organization, user=admin, role="admin")
    response = _act(admin, project, "review", {"selection": {"ids": ids}})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "data"}, "sort"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"score_min": "0.9", "score_max": "0.1"}, "score_min"),
        ({"score_min": "nan"}, "score_min"),
        ({"assignee": "bob"}, "assignee"),
        ({"review": "maybe"}, "review"),
        ({"page_size": "5000"}, "page_size"),
        ({"annotated": "perhaps"}, "annotated"),
    ],
)
def test_bad_table_parameters_are_400_naming_the_field(project, ids, params, field):
    response = api(project.created_by).get(_url(project), params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["validation_errors"], body


def test_a_forged_cursor_past_the_last_segment_is_refused(project, ids):
    from tasks.keyset import Cursor

    forged = Cursor(sort="id", segment=1, key=None, id=3).encode()
    response = api(project.created_by).get(_url(project), {"cursor": forged})
    assert response.status_code == 400
    assert "cursor" in response.json()["validation_errors"]


def test_a_cursor_of_another_sort_is_refused(project, ids):
    client = api(project.created_by)
    first = client.get(_url(project), {"page_size": 2, "sort": "-priority"}).json()
    response = client.get(_url(project), {"cursor": first["next"], "sort": "priority"})
    assert response.status_code == 400
    assert "cursor" in response.json()["validation_errors"]


def test_table_query_count_does_not_grow_with_the_page(project, django_assert_num_queries):
    many = tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(60)], user=None)
    member = make_user()
    add_member(project, member)
    for task_id in many.task_ids:
        TaskAssignment.objects.create(project=project, task_id=task_id, user=member)
    client = api(project.created_by)
    # token, project with role, page, assignees, leases, review states
    with django_assert_num_queries(6):
        first = client.get(_url(project), {"page_size": 5, "sort": "-annotations"}).json()
    with django_assert_num_queries(6):
        client.get(
            _url(project), {"page_size": 50, "sort": "-annotations", "cursor": first["next"]}
        )


def test_next_after_in_the_table_order(project, ids):
    Task.objects.filter(pk=ids[2]).update(priority=5)
    client = api(project.created_by)
    params = {"sort": "-priority", "task": ids[2]}
    # after the top task come the ties, in descending id order too
    assert client.get(_url(project, "/next-after"), params).json() == {"task": ids[4]}
    params = {"task": ids[4]}
    assert client.get(_url(project, "/next-after"), params).json() == {"task": None}
    missing = client.get(_url(project, "/next-after"), {})
    assert missing.status_code == 400
    assert "task" in missing.json()["validation_errors"]


# --- label ----------------------------------------------------------------------------------
def test_bulk_label_annotates_the_selection_as_the_caller(project, ids, manager):
    response = _act(
        manager, project, "label",
        {"selection": {"ids": ids[:3]}, "from_name": "intent", "value": "ask"},
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json() == {"tasks": 3, "changed": 3, "skipped": 0}
    annotations = Annotation.objects.filter(task_id__in=ids).order_by("task_id")
    assert [a.task_id for a in annotations] == ids[:3]
    assert {a.completed_by_id for a in annotations} == {manager.pk}
    assert annotations[0].result[0]["value"] == {"choices": ["ask"]}
    assert list(
        Task.objects.filter(pk__in=ids).order_by("id").values_list("total_annotations", flat=True)
    ) == [1, 1, 1, 0, 0]
    # Again on all tasks: the three already answered by the caller are skipped.
    again = _act(
        manager, project, "label",
        {"selection": {"all": True}, "from_name": "intent", "value": "greet"},
    )  # fmt: skip
    assert again.json() == {"tasks": 5, "changed": 2, "skipped": 3}


def test_bulk_label_with_a_value_the_config_lacks_writes_nothing(project, ids, manager):
    response = _act(
        manager, project, "label",
        {"selection": {"ids": ids}, "from_name": "intent", "value": "shout"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "value" in response.json()["validation_errors"]
    assert not Annotation.objects.exists()


def test_bulk_label_is_all_or_nothing_across_tasks(project, ids, manager):
    # "Hello" spans 0-5 in every task but the last, whose text differs.
    Task.objects.filter(pk=ids[4]).update(data={"text": "Goodbye"})
    response = _act(
        manager, project, "label",
        {"selection": {"all": True}, "result": [span(0, 5, "Hello")]},
    )  # fmt: skip
    assert response.status_code == 400
    errors = response.json()["validation_errors"]["result"]
    assert len(errors) == 1 and errors[0].startswith(f"task {ids[4]} ")
    assert not Annotation.objects.exists()
    assert not Task.objects.filter(total_annotations__gt=0).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from_name": "label", "value": "PER"}, "from_name"),  # spans need positions
        ({"from_name": "nope", "value": "x"}, "from_name"),
        ({"from_name": "intent"}, "value"),
        ({}, "from_name"),
        ({"from_name": "intent", "value": "ask", "result": []}, "result"),
        ({"result": []}, "result"),
    ],
)
def test_bulk_label_input_errors_name_the_field(project, ids, manager, body, field):
    response = _act(manager, project, "label", {"selection": {"ids": ids}, **body})
    assert response.status_code == 400
    assert field in response.json()["validation_errors"], response.json()


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        ({}, "selection"),
        ({"ids": []}, "selection"),
        ({"ids": [1], "all": True}, "selection"),
        ({"ids": ["x"]}, "selection"),
        ({"all": True, "filters": {"score_min": "high"}}, "selection"),
    ],
)
def test_bad_selections_are_400(project, ids, manager, selection, field):
    response = _act(manager, project, "review", {"selection": selection})
    assert response.status_code == 400
    assert field in response.json()["validation_errors"], response.json()


def test_ids_of_another_project_are_refused_and_nothing_changes(project, ids, manager):
    other = tasks_import(project=make_project(), items=[{"text": "x"}], user=None).task_ids[0]
    response = _act(manager, project, "delete", {"selection": {"ids": [ids[0], other]}})
    assert response.status_code == 400
    assert str(other) in response.json()["validation_errors"]["selection"][0]
    assert Task.objects.filter(pk__in=[ids[0], other]).count() == 2


def test_selection_size_is_capped(project, ids, manager, monkeypatch):
    from tasks import selectors_datamanager

    monkeypatch.setattr(selectors_datamanager, "BULK_MAX", 4)
    response = _act(manager, project, "delete", {"selection": {"all": True}})
    assert response.status_code == 400
    assert "selection" in response.json()["validation_errors"]
    assert Task.objects.filter(project=project).count() == 5


# --- assign, delete, review -----------------------------------------------------------------
def test_assign_replace_and_unassign(project, ids, manager, annotator):
    other = make_user()
    add_member(project, other)
    client = api(manager)
    body = {"selection": {"ids": ids[:2]}, "user": annotator.pk}
    assert _act(manager, project, "assign", body).json()["changed"] == 2
    assert _act(manager, project, "assign", body).json()["changed"] == 0  # already theirs
    _act(manager, project, "assign", {"selection": {"ids": ids[:1]}, "user": other.pk})
    table = client.get(_url(project)).json()["tasks"]
    assert [len(t["assignees"]) for t in table] == [2, 1, 0, 0, 0]
    _act(
        manager, project, "assign",
        {"selection": {"ids": ids[:1]}, "user": other.pk, "replace": True},
    )  # fmt: skip
    assert list(TaskAssignment.objects.filter(task_id=ids[0]).values_list("user", flat=True)) == [
        other.pk
    ]
    mine = client.get(_url(project), {"assignee": annotator.pk}).json()["tasks"]
    assert [t["id"] for t in mine] == [ids[1]]
    _act(manager, project, "assign", {"selection": {"all": True}, "user": None, "replace": True})
    assert not TaskAssignment.objects.exists()
    unassigned = client.get(_url(project, "/count"), {"assignee": "none"}).json()
    assert unassigned == {"count": 5}


def test_assign_to_a_non_member_is_refused(project, ids, manager):
    outsider = make_user()
    response = _act(manager, project, "assign", {"selection": {"ids": ids}, "user": outsider.pk})
    assert response.status_code == 400
    assert "user" in response.json()["validation_errors"]
    assert not TaskAssignment.objects.exists()


def test_delete_all_matching_but_the_excluded(project, ids, manager):
    annotation_create(task=Task.objects.get(pk=ids[0]), user=manager, result=[choice()])
    body = {
        "selection": {"all": True, "filters": {"annotated": "false"}, "excluded": [ids[1]]},
    }
    response = _act(manager, project, "delete", body)
    assert response.json() == {"tasks": 3, "changed": 3, "skipped": 0}
    assert sorted(Task.objects.values_list("id", flat=True)) == ids[:2]


def test_send_to_review_queues_finished_annotations(project, ids, manager):
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=ids)}
    done = annotation_create(task=tasks[ids[0]], user=manager, result=[choice()])
    Annotation.objects.filter(pk=done.pk).update(review_status="rejected")
    annotation_create(task=tasks[ids[1]], user=manager, result=[choice()])
    skipped = annotation_create(task=tasks[ids[2]], user=manager, result=[], was_cancelled=True)
    response = _act(manager, project, "review", {"selection": {"ids": ids[:3]}})
    assert response.json() == {"tasks": 3, "changed": 2, "skipped": 0}
    assert Annotation.objects.get(pk=skipped.pk).review_status == ""
    pending = api(manager).get(_url(project), {"review": "pending"}).json()["tasks"]
    assert [(t["id"], t["review_state"]) for t in pending] == [
        (ids[0], "pending"),
        (ids[1], "pending"),
    ]


def test_the_schema_documents_the_data_manager(project):
    schema = api(project.created_by).get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/projects/{id}/data/",
        "/api/projects/{id}/data/count/",
        "/api/projects/{id}/data/next-after/",
        "/api/projects/{id}/data/actions/assign/",
        "/api/projects/{id}/data/actions/label/",
        "/api/projects/{id}/data/actions/delete/",
        "/api/projects/{id}/data/actions/review/",
    ):
        assert path in schema["paths"], path
    label = schema["paths"]["/api/projects/{id}/data/actions/label/"]["post"]
    assert "requestBody" in label and "400" in label["responses"]


# --- the page -------------------------------------------------------------------------------
def test_the_page_is_for_members_and_linked_from_the_project(client, project, ids, annotator):
    client.force_login(annotator)
    page = client.get(f"/projects/{project.pk}/data/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="dm-page"' in html and "datamanager/main.js" in html
    assert 'id="dm-bulk"' not in html  # annotators get no bulk actions
    assert (
        f"/projects/{project.pk}/data/" in client.get(f"/projects/{project.pk}/").content.decode()
    )
    client.force_login(project.created_by)
    assert 'id="dm-bulk"' in client.get(f"/projects/{project.pk}/data/").content.decode()
    client.force_login(make_user())
    assert client.get(f"/projects/{project.pk}/data/").status_code == 404
