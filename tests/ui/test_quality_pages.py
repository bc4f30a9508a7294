"""The quality pages in headless Chromium: the dashboard draws its charts with user content as
text, and a rejection made on the review page reaches the annotator's labelling page."""

from __future__ import annotations

import pytest

from projects.services import project_member_set
from tasks.services import annotation_create, tasks_import
from tests.factories import choice, make_project, make_user
from tests.ui.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "<img src=x onerror=alert(1)>"


def test_dashboard_charts_and_a_rejection_back_to_its_author(browser_page, page_events):
    project = make_project(title="Support intents", maximum_annotations=2, review_share_junior=1.0)
    reviewer, annotator, peer = make_user("rita"), make_user(HOSTILE), make_user("paul")
    project_member_set(project=project, user=reviewer, role="reviewer", level="senior")
    project_member_set(project=project, user=annotator, role="annotator", level="junior")
    project_member_set(project=project, user=peer, role="annotator", level="senior")
    ids = tasks_import(
        project=project, items=[{"text": f"message {n}"} for n in range(3)], user=None
    ).task_ids
    for n, pk in enumerate(ids):
        task = project.tasks.get(pk=pk)
        annotation_create(task=task, user=annotator, result=[choice("greet")], lead_time=3 + n)
        annotation_create(task=task, user=peer, result=[choice("ask" if n else "greet")])

    page = browser_page
    login(page, reviewer)
    page.goto(f"/projects/{project.pk}/dashboard/")
    page.wait_for_selector("body[data-dashboard='ready']")
    assert page.locator("#qd-charts canvas").count() == 5
    assert page.locator("#qd-annotators tbody a", has_text=HOSTILE).count() == 1
    assert page.locator("#qd-charts a.qd-csv").count() == 5
    screenshot(page, "quality-dashboard")

    page.goto(f"/projects/{project.pk}/review/")
    first = page.locator(".rv-item").first
    first.wait_for()
    assert page.locator(".rv-item", has_text=HOSTILE).count() == 3  # junior's work, all of it
    first.locator("textarea[aria-label='Comment']").fill("Greeting only when they say hello")
    first.locator(".rv-reject").click()
    page.wait_for_selector("#rv-status:has-text('rejected')")

    login(page, annotator)
    page.goto(f"/projects/{project.pk}/label/")
    notice = page.locator("#lbl-review-notice")
    notice.wait_for()
    assert notice.text_content() == "Returned by a reviewer: Greeting only when they say hello"
    assert page_events.dialogs == []
