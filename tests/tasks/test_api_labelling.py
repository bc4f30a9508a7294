"""The labelling interface's API: task payload, submit/skip with the next task, drafts with
notes, progress, similar tasks; access like the rest of the API."""

from __future__ import annotations

import pytest

from projects.services import project_update
from tasks.models import Annotation, Draft, Prediction
from tasks.services import annotation_create, tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, hand_task, make_project, make_user, span

pytestmark = pytest.mark.django_db


def _project(texts):
    project = make_project()
    ids = tasks_import(project=project, items=[{"text": t} for t in texts], user=None).task_ids
    return project, [project.tasks.get(pk=pk) for pk in ids]


@pytest.fixture
def setup():
    project, tasks = _project(["Alice in Paris", "Bob in Lyon", "Carol in Paris too"])
    annotator = make_user()
    add_member(project, annotator)
    for task in tasks:
        hand_task(task.pk, annotator)
    return project, tasks, annotator


def test_task_payload_starts_from_the_newest_prediction_with_neighbours(setup):
    project, tasks, annotator = setup
    Prediction.objects.create(
        task=tasks[1], project=project, result=[choice("ask")], model_version="a"
    )
    newest = Prediction.objects.create(
        task=tasks[1], project=project, result=[choice("greet")], score=0.8, model_version="b"
    )
    body = api(annotator).get(f"/api/tasks/{tasks[1].pk}/label").json()
    assert body["task"]["data"] == {"text": "Bob in Lyon"}
    assert body["prediction"]["id"] == newest.pk
    assert body["neighbours"] == {"previous": tasks[0].pk, "next": tasks[2].pk}
    assert body["draft"] is None and body["annotation"] is None


def test_task_payload_prefers_the_projects_active_model_version(setup):
    project, tasks, annotator = setup
    active = Prediction.objects.create(
        task=tasks[0], project=project, result=[choice("ask")], model_version="v1"
    )
    Prediction.objects.create(task=tasks[0], project=project, result=[], model_version="v2")
    project_update(project=project, model_version="v1")
    body = api(annotator).get(f"/api/tasks/{tasks[0].pk}/label").json()
    assert body["prediction"]["id"] == active.pk


def test_task_payload_hides_predictions_when_the_project_says_so(setup):
    project, tasks, annotator = setup
    Prediction.objects.create(task=tasks[0], project=project, result=[choice()])
    project_update(project=project, show_collab_predictions=False)
    assert api(annotator).get(f"/api/tasks/{tasks[0].pk}/label").json()["prediction"] is None


def test_submit_records_lead_time_notes_parent_and_answers_the_next_task(setup):
    project, tasks, annotator = setup
    prediction = Prediction.objects.create(task=tasks[0], project=project, result=[choice()])
    client = api(annotator)
    first = client.get(f"/api/projects/{project.pk}/label/next").json()
    assert first["task"]["id"] == tasks[0].pk
    answer = client.post(
        f"/api/tasks/{tasks[0].pk}/label/submit",
        {
            "result": [choice()],
            "lead_time": 4.5,
            "notes": "easy",
            "parent_prediction": prediction.pk,
        },
        format="json",
    )
    assert answer.status_code == 201
    saved = Annotation.objects.get(pk=answer.json()["annotation"]["id"])
    assert (saved.lead_time, saved.notes, saved.parent_prediction_id) == (
        4.5,
        "easy",
        prediction.pk,
    )
    assert answer.json()["next"]["task"]["id"] == tasks[1].pk


def test_submit_rejects_an_invalid_result_and_saves_nothing(setup):
    _, tasks, annotator = setup
    bad = {"result": [span(0, 5, "Alice", label="NOPE")]}
    answer = api(annotator).post(f"/api/tasks/{tasks[0].pk}/label/submit", bad, format="json")
    assert answer.status_code == 400
    assert not Annotation.objects.exists()


def test_submit_updates_your_annotation_and_refuses_a_stale_version(setup):
    _, tasks, annotator = setup
    own = annotation_create(task=tasks[0], user=annotator, result=[choice("greet")])
    client = api(annotator)
    url = f"/api/tasks/{tasks[0].pk}/label/submit"
    ok = client.post(
        url,
        {"result": [choice("ask")], "annotation": own.pk, "version": 1, "next": False},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["next"] is None
    own.refresh_from_db()
    assert own.result[0]["value"]["choices"] == ["ask"] and own.version == 2
    stale = client.post(url, {"result": [], "annotation": own.pk, "version": 1}, format="json")
    assert stale.status_code == 409


def test_submit_cannot_update_someone_elses_annotation(setup):
    project, tasks, annotator = setup
    theirs = annotation_create(task=tasks[0], user=project.created_by, result=[choice()])
    answer = api(annotator).post(
        f"/api/tasks/{tasks[0].pk}/label/submit",
        {"result": [], "annotation": theirs.pk},
        format="json",
    )
    assert answer.status_code == 400


def test_skip_keeps_notes_and_moves_on(setup):
    project, tasks, annotator = setup
    client = api(annotator)
    client.get(f"/api/projects/{project.pk}/label/next")
    answer = client.post(
        f"/api/tasks/{tasks[0].pk}/label/skip", {"notes": "unclear"}, format="json"
    )
    assert answer.status_code == 201
    skipped = Annotation.objects.get(pk=answer.json()["annotation"]["id"])
    assert skipped.was_cancelled and skipped.notes == "unclear"
    assert answer.json()["next"]["task"]["id"] == tasks[1].pk


def test_draft_is_saved_with_notes_restored_and_versioned(setup):
    _, tasks, annotator = setup
    client = api(annotator)
    url = f"/api/tasks/{tasks[0].pk}/label/draft"
    saved = client.post(
        url, {"result": [choice()], "notes": "wip", "lead_time": 3}, format="json"
    ).json()
    again = client.post(
        url, {"result": [], "notes": "more", "version": saved["version"]}, format="json"
    )
    assert again.status_code == 200 and again.json()["version"] == saved["version"] + 1
    stale = client.post(url, {"result": [], "version": saved["version"]}, format="json")
    assert stale.status_code == 409
    payload = client.get(f"/api/tasks/{tasks[0].pk}/label").json()
    assert payload["draft"]["notes"] == "more" and payload["draft"]["result"] == []
    assert Draft.objects.get().user == annotator


def test_drafts_are_private(setup):
    project, tasks, annotator = setup
    api(project.created_by).post(
        f"/api/tasks/{tasks[0].pk}/label/draft", {"result": [choice()]}, format="json"
    )
    assert api(annotator).get(f"/api/tasks/{tasks[0].pk}/label").json()["draft"] is None


def test_progress_counts_your_work_and_estimates_from_your_median(setup):
    project, tasks, annotator = setup
    annotation_create(task=tasks[0], user=annotator, result=[choice()], lead_time=10)
    annotation_create(task=tasks[1], user=annotator, result=[], was_cancelled=True)
    body = api(annotator).get(f"/api/projects/{project.pk}/label/progress").json()
    assert body == {
        "done": 1,
        "skipped": 1,
        "remaining": 1,
        "remaining_estimated": False,
        "median_lead_time": 10.0,
        "eta_seconds": 10.0,
    }


def test_progress_estimates_what_is_left_above_the_exact_bound(setup, monkeypatch):
    """Above REMAINING_EXACT_UP_TO unlabelled tasks nothing scans the project on every call:
    SQLite counts once per REMAINING_CACHE_SECONDS, PostgreSQL reads its planner's figure."""
    from django.core.cache import cache
    from django.db import connection

    from tasks import label_selectors

    project, tasks, annotator = setup
    monkeypatch.setattr(label_selectors, "REMAINING_EXACT_UP_TO", 1)
    cache.clear()
    annotation_create(task=tasks[1], user=annotator, result=[], was_cancelled=True)
    url = f"/api/projects/{project.pk}/label/progress"
    body = api(annotator).get(url).json()
    assert body["remaining_estimated"] is True
    if connection.vendor == "postgresql":  # an estimate from statistics: at least the bound
        assert isinstance(body["remaining"], int) and body["remaining"] >= 0
        return
    assert body["remaining"] == 2  # 3 unlabelled, less the one you skipped
    annotation_create(task=tasks[0], user=project.created_by, result=[choice()])
    assert api(annotator).get(url).json()["remaining"] == 2  # the cached count, for a while
    cache.clear()
    assert api(annotator).get(url).json()["remaining"] == 1


def test_similar_tasks_rank_by_shared_words_with_their_labels(setup):
    _, tasks, annotator = setup
    annotation_create(
        task=tasks[0], user=annotator, result=[choice("greet"), span(9, 14, "Paris", "LOC")]
    )
    annotation_create(task=tasks[1], user=annotator, result=[choice("ask")])
    body = api(annotator).get(f"/api/tasks/{tasks[2].pk}/label/similar").json()
    assert [s["task"] for s in body["similar"]] == [tasks[0].pk, tasks[1].pk]
    assert body["similar"][0]["choices"] == ["greet"]
    assert body["similar"][0]["entities"] == [["Paris", "LOC"]]


def test_known_entities_are_offered_when_their_text_occurs(setup):
    _, tasks, annotator = setup
    annotation_create(task=tasks[0], user=annotator, result=[span(9, 14, "Paris", "LOC")])
    entities = api(annotator).get(f"/api/tasks/{tasks[2].pk}/label/entities").json()["entities"]
    assert entities == [{"text": "Paris", "label": "LOC", "from_name": "label", "type": "labels"}]
    assert api(annotator).get(f"/api/tasks/{tasks[1].pk}/label/entities").json()["entities"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/tasks/{task}/label"),
        ("post", "/api/tasks/{task}/label/submit"),
        ("post", "/api/tasks/{task}/label/skip"),
        ("post", "/api/tasks/{task}/label/draft"),
        ("get", "/api/tasks/{task}/label/similar"),
        ("get", "/api/tasks/{task}/label/entities"),
        ("get", "/api/projects/{project}/label/next"),
        ("get", "/api/projects/{project}/label/progress"),
    ],
)
def test_outsiders_get_404_and_anonymous_401(setup, method, path):
    project, tasks, _ = setup
    url = path.format(task=tasks[0].pk, project=project.pk)
    outsider = getattr(api(make_user()), method)(url, {}, format="json")
    assert outsider.status_code == 404
    anonymous = getattr(api(), method)(url, {}, format="json")
    assert anonymous.status_code in (401, 403)
    assert not Annotation.objects.exists()


def test_confidence_thresholds_are_project_settings(setup):
    project, _, _ = setup
    client = api(project.created_by)
    answer = client.patch(
        f"/api/projects/{project.pk}",
        {"prediction_confidence_high": 0.8, "prediction_confidence_low": 0.5},
        format="json",
    )
    assert answer.status_code == 200
    assert (
        answer.json()["prediction_confidence_high"],
        answer.json()["prediction_confidence_low"],
    ) == (0.8, 0.5)
    inverted = client.patch(
        f"/api/projects/{project.pk}", {"prediction_confidence_low": 0.95}, format="json"
    )
    assert inverted.status_code == 400


RICH_CONFIG = """<View><HyperText name="html" value="$html"/>
  <HyperTextLabels name="ner" toName="html"><Label value="PER"/></HyperTextLabels>
  <Paragraphs name="dialogue" value="$dialogue"/>
  <ParagraphLabels name="pl" toName="dialogue"><Label value="DATE"/></ParagraphLabels></View>"""


def test_hypertext_is_sent_sanitised_and_its_spans_and_paragraph_spans_are_accepted():
    project = make_project(label_config=RICH_CONFIG)
    raw = (
        '<p onclick="x()">Hi <b>Ada</b></p><script>alert(1)</script>'
        '<img src="https://example.com/p.gif" onerror="alert(2)"><a href="javascript:y()">z</a>'
    )
    dialogue = [{"author": "a", "text": "Call me on May 3"}]
    (pk,) = tasks_import(
        project=project, items=[{"html": raw, "dialogue": dialogue}], user=None
    ).task_ids
    body = api(project.created_by).get(f"/api/tasks/{pk}/label").json()
    assert body["task"]["data"]["html"] == raw  # the data is the data
    assert body["task"]["html"] == {
        "html": '<p>Hi <b>Ada</b></p><a target="_blank" rel="noopener noreferrer">z</a>'
    }
    result = [
        {
            "id": "h1",
            "from_name": "ner",
            "to_name": "html",
            "type": "hypertextlabels",
            "value": {
                "start": "/p[1]/b[1]/text()[1]",
                "end": "/p[1]/b[1]/text()[1]",
                "startOffset": 0,
                "endOffset": 3,
                "globalOffsets": {"start": 3, "end": 6},
                "text": "Ada",
                "hypertextlabels": ["PER"],
            },
        },
        {
            "id": "p1",
            "from_name": "pl",
            "to_name": "dialogue",
            "type": "paragraphlabels",
            "value": {
                "start": "0",
                "end": "0",
                "startOffset": 11,
                "endOffset": 16,
                "text": "May 3",
                "paragraphlabels": ["DATE"],
            },
        },
    ]
    answer = api(project.created_by).post(
        f"/api/tasks/{pk}/label/submit", {"result": result}, format="json"
    )
    assert answer.status_code == 201, answer.json()
