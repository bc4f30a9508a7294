"""Review: per-level sampling of submitted work, the reviewer queue, accept / reject with a
comment / fix-and-accept, audit events, and rejected work coming back to its author."""

from __future__ import annotations

import pytest

from annotator.models import AuditEvent
from projects.services import project_member_set
from quality.models import ReviewDecision
from quality.services_workflow import review_sampled
from tasks.models import Annotation
from tasks.services import annotation_create, task_next_take, tasks_import
from tests.api_helpers import api
from tests.factories import choice, make_project, make_user

pytestmark = pytest.mark.django_db


def test_a_share_picks_every_nth_annotation():
    picked = [n for n in range(1, 41) if review_sampled(count=n, share=0.2)]
    assert picked == [5, 10, 15, 20, 25, 30, 35, 40]
    assert [n for n in range(1, 41) if review_sampled(count=n, share=0.05)] == [20, 40]
    assert not any(review_sampled(count=n, share=0.0) for n in range(1, 10))


@pytest.fixture
def review(django_capture_on_commit_callbacks):
    project = make_project(review_share_junior=0.5, review_share_senior=0.0)
    junior, senior, reviewer = make_user("junior"), make_user("senior"), make_user("rev")
    project_member_set(project=project, user=junior, role="annotator", level="junior")
    project_member_set(project=project, user=senior, role="annotator", level="senior")
    project_member_set(project=project, user=reviewer, role="reviewer", level="senior")
    ids = tasks_import(
        project=project, items=[{"text": f"t{n}"} for n in range(4)], user=None
    ).task_ids
    work = {}
    with django_capture_on_commit_callbacks(execute=True):
        for user in (junior, senior):
            for pk in ids:
                task = project.tasks.get(pk=pk)
                work[user.username, pk] = annotation_create(task=task, user=user, result=[choice()])
    return project, junior, senior, reviewer, ids, work


def test_review_shares_follow_the_authors_level(review):
    project, _junior, _senior, _, ids, work = review
    pending = set(
        Annotation.objects.filter(project=project, review_status="pending").values_list(
            "pk", flat=True
        )
    )
    assert pending == {work["junior", ids[1]].pk, work["junior", ids[3]].pk}


def test_the_queue_lists_pending_work_oldest_first(review):
    project, _junior, _, reviewer, ids, work = review
    queue = api(reviewer).get(f"/api/projects/{project.pk}/review-queue").json()["annotations"]
    assert [item["id"] for item in queue] == [work["junior", ids[1]].pk, work["junior", ids[3]].pk]
    assert queue[0]["author_username"] == "junior" and queue[0]["author_level"] == "junior"


def test_accept_is_recorded_and_audited(review):
    _project, junior, _, reviewer, ids, work = review
    target = work["junior", ids[1]]
    answer = api(reviewer).post(
        f"/api/annotations/{target.pk}/review", {"action": "accept"}, format="json"
    )
    assert answer.status_code == 201
    target.refresh_from_db()
    assert target.review_status == "accepted"
    decision = ReviewDecision.objects.get(annotation=target)
    assert (decision.action, decision.reviewer, decision.author) == ("accept", reviewer, junior)
    event = AuditEvent.objects.get(action="annotation.review.accept", object_id=target.pk)
    assert event.actor_id == reviewer.pk and event.after["review_status"] == "accepted"


def test_a_rejection_needs_a_comment(review):
    _, _, _, reviewer, ids, work = review
    answer = api(reviewer).post(
        f"/api/annotations/{work['junior', ids[1]].pk}/review", {"action": "reject"}, format="json"
    )
    assert answer.status_code == 400
    assert "comment" in answer.json()["validation_errors"]


def test_an_unknown_action_is_refused_naming_the_field(review):
    _, _, _, reviewer, ids, work = review
    answer = api(reviewer).post(
        f"/api/annotations/{work['junior', ids[1]].pk}/review", {"action": "shrug"}, format="json"
    )
    assert answer.status_code == 400 and "action" in answer.json()["validation_errors"]


def test_a_rejected_task_returns_to_its_author_first_with_the_comment(review):
    project, junior, senior, reviewer, ids, work = review
    target = work["junior", ids[3]]
    api(reviewer).post(
        f"/api/annotations/{target.pk}/review",
        {"action": "reject", "comment": "PER, not LOC"},
        format="json",
    )
    assert task_next_take(project=project, user=junior).pk == ids[3]
    assert task_next_take(project=project, user=senior) is None  # only its author's
    payload = api(junior).get(f"/api/projects/{project.pk}/label/next").json()
    assert payload["annotation"]["review_comment"] == "PER, not LOC"
    assert AuditEvent.objects.filter(action="annotation.review.reject").count() == 1


def test_fix_and_accept_replaces_the_result(review):
    _, _, _, reviewer, ids, work = review
    target = work["junior", ids[1]]
    answer = api(reviewer).post(
        f"/api/annotations/{target.pk}/review",
        {"action": "fix", "result": [choice("ask")]},
        format="json",
    )
    assert answer.status_code == 201
    target.refresh_from_db()
    assert target.review_status == "accepted"
    assert target.result[0]["value"]["choices"] == ["ask"]
    decision = ReviewDecision.objects.get(annotation=target)
    assert decision.before[0]["value"]["choices"] == ["greet"]


def test_fix_needs_a_result_and_nobody_reviews_their_own_work(review):
    project, _junior, _, reviewer, ids, work = review
    fix = api(reviewer).post(
        f"/api/annotations/{work['junior', ids[1]].pk}/review", {"action": "fix"}, format="json"
    )
    assert fix.status_code == 400 and "result" in fix.json()["validation_errors"]
    own = annotation_create(task=project.tasks.get(pk=ids[0]), user=reviewer, result=[choice()])
    mine = api(reviewer).post(
        f"/api/annotations/{own.pk}/review", {"action": "accept"}, format="json"
    )
    assert mine.status_code == 400 and "annotation" in mine.json()["validation_errors"]


def test_annotators_cannot_review(review):
    _, _junior, senior, _, ids, work = review
    answer = api(senior).post(
        f"/api/annotations/{work['junior', ids[1]].pk}/review", {"action": "accept"}, format="json"
    )
    assert answer.status_code in (403, 404)
    assert ReviewDecision.objects.count() == 0


def test_the_review_page_is_for_reviewers(review, client):
    project, junior, _, reviewer, *_ = review
    client.force_login(reviewer)
    page = client.get(f"/projects/{project.pk}/review/")
    assert page.status_code == 200 and b"quality/review.js" in page.content
    client.force_login(junior)
    assert client.get(f"/projects/{project.pk}/review/").status_code == 403
