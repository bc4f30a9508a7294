"""Certification: gold tasks first, production tasks once the accuracy reaches the threshold,
instant feedback on each gold answer; and the accuracy rule itself."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import ProjectMember
from projects.services import project_update
from tasks.accuracy import result_accuracy
from tasks.services import annotation_create, task_next_take, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user, span

pytestmark = pytest.mark.django_db


# --- the accuracy rule ------------------------------------------------------------------------
def test_choices_score_by_exact_match_whatever_the_order():
    both = {"from_name": "intent", "to_name": "text", "type": "choices"}
    expected = [{**both, "value": {"choices": ["a", "b"]}}]
    assert result_accuracy(expected=expected, answer=[{**both, "value": {"choices": ["b", "a"]}}])
    assert result_accuracy(expected=expected, answer=[{**both, "value": {"choices": ["a"]}}]) == 0
    assert result_accuracy(expected=expected, answer=[]) == 0


def test_spans_score_by_f1_of_start_end_label():
    expected = [span(0, 5, "Alice", "PER", "a"), span(9, 14, "Paris", "LOC", "b")]
    assert result_accuracy(expected=expected, answer=expected) == 1.0
    # One right, one with a wrong label: precision 1/2, recall 1/2.
    answer = [span(0, 5, "Alice", "PER", "x"), span(9, 14, "Paris", "PER", "y")]
    assert result_accuracy(expected=expected, answer=answer) == 0.5
    # One right, one missed: 2 * 1 / (2 + 1).
    assert result_accuracy(expected=expected, answer=[span(0, 5, "Alice")]) == pytest.approx(2 / 3)
    # A wrong boundary is a miss.
    assert result_accuracy(expected=[span(0, 5, "Alice")], answer=[span(0, 4, "Alic")]) == 0.0


def test_task_score_is_the_mean_over_controls_and_two_empty_results_agree():
    expected = [span(0, 5, "Alice"), choice("greet")]
    assert result_accuracy(expected=expected, answer=[span(0, 5, "Alice"), choice("ask")]) == 0.5
    assert result_accuracy(expected=[], answer=[]) == 1.0


# --- the flow ---------------------------------------------------------------------------------
TEXT = "Alice in Paris"


@pytest.fixture
def cert():
    project = make_project(certification_tasks=2, certification_threshold=0.8)
    items = [{"text": f"{TEXT} gold {n}"} for n in range(3)]
    items += [{"text": f"{TEXT} production {n}"} for n in range(3)]
    ids = tasks_import(project=project, items=items, user=None).task_ids
    gold, production = ids[:3], ids[3:]
    for pk in gold:
        annotation_create(
            task=project.tasks.get(pk=pk),
            user=project.created_by,
            result=[choice("greet")],
            ground_truth=True,
        )
    annotator = make_user()
    add_member(project, annotator)
    return project, gold, production, annotator


def _answer(client, task_id, value):
    response = client.post(
        f"/api/tasks/{task_id}/label/submit", {"result": [choice(value)]}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_annotator_gets_gold_tasks_first_with_feedback(cert):
    project, gold, _production, annotator = cert
    client = api(annotator)
    first = client.get(f"/api/projects/{project.pk}/label/next").json()
    assert first["task"]["id"] == gold[0]
    # Asking again gives the same gold task (the lease is held).
    assert client.get(f"/api/projects/{project.pk}/next").json()["id"] == gold[0]
    body = _answer(client, gold[0], "ask")
    feedback = body["certification"]
    assert feedback["task"] == gold[0]
    assert feedback["answer"] == [choice("ask")]
    assert feedback["expected"] == [choice("greet")]
    assert feedback["score"] == 0.0
    assert (feedback["done"], feedback["required"], feedback["threshold"]) == (1, 2, 0.8)
    assert feedback["passed"] is None and feedback["certified"] is False
    assert body["next"]["task"]["id"] == gold[1]


def _take(client, project, expected_id):
    assert client.get(f"/api/projects/{project.pk}/next").json()["id"] == expected_id


def test_under_the_threshold_no_production_task_is_handed_out(cert):
    project, gold, production, annotator = cert
    client = api(annotator)
    _take(client, project, gold[0])
    _answer(client, gold[0], "ask")
    after_two = _answer(client, gold[1], "greet")
    assert after_two["certification"]["accuracy"] == 0.5
    assert after_two["certification"]["passed"] is False
    # Another gold task, judged with the last two answers.
    assert after_two["next"]["task"]["id"] == gold[2]
    last = _answer(client, gold[2], "ask")
    assert last["certification"]["accuracy"] == 0.5 and last["next"] is None
    assert client.get(f"/api/projects/{project.pk}/next").status_code == 404
    assert not annotator.annotations.filter(task_id__in=production).exists()
    status = client.get(f"/api/projects/{project.pk}/certification").json()
    assert status["certified"] is False and status["done"] == 3


def test_over_the_threshold_production_tasks_flow(cert):
    project, gold, production, annotator = cert
    client = api(annotator)
    _take(client, project, gold[0])
    _answer(client, gold[0], "greet")
    passed = _answer(client, gold[1], "greet")
    assert passed["certification"]["passed"] is True
    assert passed["certification"]["certified"] is True
    assert passed["next"]["task"]["id"] == production[0]
    member = ProjectMember.objects.get(project=project, user=annotator)
    assert member.certified_at is not None
    # Certified: further answers get no certification feedback, tasks keep flowing.
    more = _answer(client, production[0], "ask")
    assert more["certification"] is None and more["next"]["task"]["id"] == production[1]


def test_a_skipped_gold_task_scores_zero(cert):
    project, gold, _production, annotator = cert
    client = api(annotator)
    _take(client, project, gold[0])
    _answer(client, gold[0], "greet")
    skipped = client.post(f"/api/tasks/{gold[1]}/label/skip", {}, format="json").json()
    assert skipped["certification"]["score"] == 0.0
    assert skipped["certification"]["accuracy"] == 0.5


def test_reviewers_and_managers_are_never_certified(cert):
    project, _gold, production, _annotator = cert
    reviewer = make_user()
    add_member(project, reviewer, "reviewer")
    task = task_next_take(project=project, user=reviewer)
    assert task is not None and task.pk == production[0]
    assert task_next_take(project=project, user=project.created_by).pk in production


def test_without_certification_next_task_reads_no_membership(cert):
    project, _gold, production, annotator = cert
    project_update(project=project, certification_tasks=0)
    with CaptureQueriesContext(connection) as queries:
        task = task_next_take(project=project, user=annotator)
    assert task.pk == production[0]
    assert not any("projects_projectmember" in q["sql"] for q in queries)


def test_certification_settings_are_validated(cert):
    project, *_ = cert
    client = api(project.created_by)
    bad = client.patch(
        f"/api/projects/{project.pk}", {"certification_threshold": 1.5}, format="json"
    )
    assert bad.status_code == 400
    assert "certification_threshold" in bad.json()["validation_errors"]
    ok = client.patch(f"/api/projects/{project.pk}", {"certification_tasks": 5}, format="json")
    assert ok.json()["certification_tasks"] == 5


def test_annotators_cannot_mark_ground_truth(cert):
    project, _gold, production, annotator = cert
    ProjectMember.objects.filter(user=annotator).update(certified_at="2026-01-01T00:00:00Z")
    client = api(annotator)
    task_id = client.get(f"/api/projects/{project.pk}/next").json()["id"]
    denied = client.post(
        f"/api/tasks/{task_id}/annotations",
        {"result": [choice()], "ground_truth": True},
        format="json",
    )
    assert denied.status_code == 403
    own = client.post(f"/api/tasks/{task_id}/annotations", {"result": [choice()]}, format="json")
    url = f"/api/annotations/{own.json()['id']}"
    assert client.patch(url, {"ground_truth": True}, format="json").status_code == 403
    assert (
        api(project.created_by)
        .patch(url, {"ground_truth": True}, format="json")
        .json()["ground_truth"]
    )
    assert production  # the fixture's production tasks exist


def test_answers_through_label_studios_api_certify_at_the_next_request(cert):
    project, gold, production, annotator = cert
    client = api(annotator)
    for expected_gold in gold[:2]:
        assert client.get(f"/api/projects/{project.pk}/next").json()["id"] == expected_gold
        created = client.post(
            f"/api/tasks/{expected_gold}/annotations", {"result": [choice("greet")]}, format="json"
        )
        assert created.status_code == 201
    assert client.get(f"/api/projects/{project.pk}/next").json()["id"] == production[0]
    assert ProjectMember.objects.get(project=project, user=annotator).certified_at is not None


def test_the_newest_ground_truth_of_a_task_is_the_expected_answer(cert):
    project, gold, _production, annotator = cert
    reviewer = make_user()
    add_member(project, reviewer, "reviewer")
    annotation_create(
        task=project.tasks.get(pk=gold[0]), user=reviewer, result=[choice("ask")], ground_truth=True
    )
    client = api(annotator)
    _take(client, project, gold[0])
    assert _answer(client, gold[0], "ask")["certification"]["score"] == 1.0
