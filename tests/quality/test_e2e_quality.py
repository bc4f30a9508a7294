"""End to end (issue 8): three annotators of different accuracy label an overlapping project
with gold tasks; the dashboards' numbers (API, CSV, page) match a hand computation, the worst
annotator is flagged, a low-agreement task lands in arbitration, and a rejected annotation
returns to its author with the comment."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from projects.services import project_member_set
from tasks.services import annotation_create, task_next_take, tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project, make_user

pytestmark = pytest.mark.django_db

G, A = "greet", "ask"
TRUTH = [G, A, G, A, G, G, A, A, G, A]  # tasks 0-3 are gold
ANSWERS = {
    "good": list(TRUTH),
    "mid": [G, G, G, A, G, G, A, G, G, A],  # wrong on gold task 1 and on task 7
    "bad": [A, G, A, A, G, A, G, A, G, A],  # wrong on gold tasks 0-2, tasks 5-6
}
LEAD = {"good": 10.0, "mid": 12.0, "bad": 2.0}


def kappa(x: list[str], y: list[str]) -> float:
    """Cohen's kappa by hand: observed agreement against chance agreement."""
    n = len(x)
    po = sum(a == b for a, b in zip(x, y, strict=True)) / n
    pe = sum((x.count(c) / n) * (y.count(c) / n) for c in set(x) | set(y))
    return (po - pe) / (1 - pe)


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    manager = make_user("manager")
    project = make_project(owner=manager, maximum_annotations=3, review_share_junior=0.2)
    expert, reviewer = make_user("expert"), make_user("reviewer")
    project_member_set(project=project, user=expert, role="reviewer", level="expert")
    project_member_set(project=project, user=reviewer, role="reviewer", level="senior")
    users = {}
    for name in ANSWERS:
        users[name] = make_user(name)
        project_member_set(project=project, user=users[name], role="annotator", level="junior")
    ids = tasks_import(
        project=project, items=[{"text": f"utterance {n}"} for n in range(10)], user=None
    ).task_ids
    # The expert labels the gold tasks; a reviewer marks them as ground truth through the API.
    for n in range(4):
        truth = annotation_create(
            task=project.tasks.get(pk=ids[n]), user=expert, result=[choice(TRUTH[n])]
        )
        marked = api(reviewer).post(f"/api/annotations/{truth.pk}/ground-truth")
        assert marked.status_code == 200 and marked.json()["ground_truth"] is True
    annotations = {}
    with django_capture_on_commit_callbacks(execute=True):
        for name, labels in ANSWERS.items():
            for n, label in enumerate(labels):
                annotations[name, n] = annotation_create(
                    task=project.tasks.get(pk=ids[n]),
                    user=users[name],
                    result=[choice(label)],
                    lead_time=LEAD[name],
                )
    return project, users, reviewer, ids, annotations


def test_dashboards_match_a_hand_computation_flag_the_worst_and_return_rejected_work(world):
    project, users, reviewer, ids, annotations = world
    client = api(reviewer)

    # Review: a 0.2 share of a junior's work is their 5th and 10th annotations.
    queue = client.get(f"/api/projects/{project.pk}/review-queue").json()["annotations"]
    expected_queue = sorted(annotations[name, n].pk for name in ANSWERS for n in (4, 9))
    assert sorted(item["id"] for item in queue) == expected_queue
    rejected = annotations["bad", 4]
    answer = client.post(
        f"/api/annotations/{rejected.pk}/review",
        {"action": "reject", "comment": "Read the <b>guidelines</b>"},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["annotation"]["review_status"] == "rejected"
    accepted = client.post(
        f"/api/annotations/{annotations['good', 4].pk}/review", {"action": "accept"}, format="json"
    )
    assert accepted.status_code == 201

    # The dashboards, by hand.
    board = client.get(f"/api/projects/{project.pk}/dashboard").json()
    rows = {row["username"]: row for row in board["annotators"]}
    assert sorted(rows) == ["bad", "good", "mid"]  # the gold's author is not an annotator
    assert [rows[n]["gold_accuracy"] for n in ("good", "mid", "bad")] == [1.0, 0.75, 0.25]
    assert [rows[n]["gold_answers"] for n in ("good", "mid", "bad")] == [4, 4, 4]
    pair = {
        (a, b): kappa(ANSWERS[a], ANSWERS[b])
        for a, b in (("good", "mid"), ("good", "bad"), ("mid", "bad"))
    }
    assert pair["good", "mid"] == pytest.approx(0.6)
    assert rows["good"]["peer_kappa"] == pytest.approx(
        (pair["good", "mid"] + pair["good", "bad"]) / 2
    )
    assert rows["bad"]["peer_kappa"] == pytest.approx(
        (pair["good", "bad"] + pair["mid", "bad"]) / 2
    )
    assert [rows[n]["median_lead_time"] for n in ("good", "mid", "bad")] == [10.0, 12.0, 2.0]
    assert rows["bad"]["rejection_rate"] == 1.0 and rows["good"]["rejection_rate"] == 0.0
    assert rows["mid"]["rejection_rate"] is None
    # The worst annotator: median 2 s < half of median(10, 12); accuracy 0.25 < 0.875 - 0.2.
    assert rows["bad"]["flags"] == ["rushing", "inaccurate"]
    assert rows["good"]["flags"] == [] and rows["mid"]["flags"] == []
    today = timezone.now().date().isoformat()
    assert board["daily"] == [{"day": today, "annotations": 34}]
    assert board["progress"] == {
        "tasks": 10, "labeled": 10, "finished": 34, "skipped": 0, "gold_tasks": 4,
        "review_pending": 4, "review_accepted": 1, "review_rejected": 1,
    }  # fmt: skip
    bins = {(b["from"], b["to"]): b["tasks"] for b in board["agreement_distribution"]}
    assert bins[0.3, 0.4] == 6 and bins[0.9, 1.0] == 4 and sum(bins.values()) == 10
    assert board["label_distribution"] == [
        {"label": "ask", "count": 16},
        {"label": "greet", "count": 18},
    ]

    # The worst annotator's error patterns: against gold on tasks 0-3, else the majority of
    # the two others (task 7 has none: they disagree).
    mine = client.get(f"/api/projects/{project.pk}/dashboard/annotators/{users['bad'].pk}")
    view = mine.json()
    assert view["confusion"] == {"labels": ["ask", "greet"], "matrix": [[2, 2], [3, 2]]}
    assert view["confused_pairs"] == [
        {"reference": "greet", "answer": "ask", "count": 3},
        {"reference": "ask", "answer": "greet", "count": 2},
    ]
    assert view["daily"] == [{"day": today, "annotations": 10}]

    # Every chart's CSV carries the API's numbers.
    text = client.get(f"/api/projects/{project.pk}/dashboard/csv?chart=annotators").content
    table = {r["username"]: r for r in csv.DictReader(io.StringIO(text.decode()))}
    assert float(table["bad"]["gold_accuracy"]) == 0.25
    assert table["bad"]["flags"] == "rushing inaccurate"
    pairs_csv = client.get(
        f"/api/projects/{project.pk}/dashboard/csv?chart=confused_pairs&user={users['bad'].pk}"
    ).content.decode()
    assert pairs_csv.splitlines() == ["reference,answer,count", "greet,ask,3", "ask,greet,2"]
    for chart in ("progress", "daily", "agreement_distribution", "label_distribution"):
        got = client.get(f"/api/projects/{project.pk}/dashboard/csv?chart={chart}")
        assert got.status_code == 200 and got["Content-Type"].startswith("text/csv")

    # The page is a shell over the same API, with the vendored chart library.
    browser = Client()
    browser.force_login(reviewer)
    page = browser.get(f"/projects/{project.pk}/dashboard/").content.decode()
    assert "vendor/chart-4.5.1.js" in page and "quality/dashboard.js" in page

    # Escalation: with a threshold of 0.5 the three disputed tasks without ground truth
    # (5, 6, 7: two against one, agreement 1/3) land in the experts' arbitration queue; the
    # disputed gold tasks (0-2) already have their answer.
    manager = project.created_by
    settings_set = api(manager).put(
        f"/api/projects/{project.pk}/quality-settings", {"agreement_threshold": 0.5}, format="json"
    )
    assert settings_set.status_code == 200, settings_set.content
    assert api(manager).post(f"/api/projects/{project.pk}/agreement/refresh").status_code == 200
    expert = project.members.get(username="expert")
    queue = api(expert).get(f"/api/projects/{project.pk}/arbitration")
    assert queue.status_code == 200, queue.content
    assert sorted(item["task_id"] for item in queue.json()["items"]) == [ids[5], ids[6], ids[7]]

    # The rejected annotation returns to its author first, with the comment.
    bad = users["bad"]
    returned = task_next_take(project=project, user=bad)
    assert returned is not None and returned.pk == ids[4]
    label = api(bad).get(f"/api/projects/{project.pk}/label/next").json()
    assert label["task"]["id"] == ids[4]
    assert label["annotation"]["review_status"] == "rejected"
    assert label["annotation"]["review_comment"] == "Read the <b>guidelines</b>"
    # Resubmitted, it goes back to the reviewers and leaves the author's queue.
    fixed = api(bad).post(
        f"/api/tasks/{ids[4]}/label/submit",
        {
            "result": [choice(G)],
            "annotation": rejected.pk,
            "version": label["annotation"]["version"],
        },
        format="json",
    )
    assert fixed.status_code == 201
    rejected.refresh_from_db()
    assert rejected.review_status == "pending"
    assert task_next_take(project=project, user=bad) is None
