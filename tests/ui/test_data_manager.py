"""The data manager page in headless Chromium: bulk actions and safe rendering of task text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tasks.models import Annotation, Task, TaskAssignment
from tests.factories import add_member, choice, make_user
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import project_with_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "data-manager.png"
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def _open(page, project):
    page.goto(f"/projects/{project.pk}/data/")
    page.locator("#dm-rows tr").first.wait_for()


def _project_with_tasks(texts, **item):
    items = [{"data": {"text": t}, **item} for t in texts]
    project, tasks = project_with_tasks(items, title="Support tickets")
    return project, [t.pk for t in tasks]


def test_bulk_label_a_selection(browser_page, page_events):
    project, ids = _project_with_tasks(
        ["Hello, my parcel is late", "Where is my refund?", "Hi there", "Cancel my order"],
        predictions=[{"result": [choice("ask")], "score": 0.62}],
    )
    annotator = make_user(username="nadia")
    add_member(project, annotator, "annotator")
    TaskAssignment.objects.create(project=project, task_id=ids[3], user=annotator)
    # Varied columns, for the README's screenshot.
    columns = zip(ids, [0.62, 0.91, None, 0.34], [0.5, 0.2, 0.9, 0.1], strict=True)
    for task_id, score, priority in columns:
        Task.objects.filter(pk=task_id).update(prediction_score=score, priority=priority)
    Task.objects.filter(pk=ids[1]).update(agreement=0.83)
    manager = project.created_by
    page = browser_page
    login(page, manager)
    _open(page, project)
    assert page.locator("#dm-rows tr").count() == 4

    for task_id in ids[:2]:
        page.get_by_label(f"Select task {task_id}").check()
    page.locator("#dm-selected").filter(has_text="2 selected").wait_for()
    page.select_option("#dm-action", "label")
    page.select_option("#dm-control", "intent")
    page.select_option("#dm-value", "ask")
    page.click("#dm-apply")
    page.locator("#dm-status").filter(has_text="Done: 2 changed").wait_for()

    annotations = Annotation.objects.filter(project=project).order_by("task_id")
    assert [a.task_id for a in annotations] == ids[:2]
    assert {a.completed_by_id for a in annotations} == {manager.pk}
    assert [a.result[0]["value"] for a in annotations] == [{"choices": ["ask"]}] * 2
    # The table reloads with the new counts.
    first_row = page.locator(f'#dm-rows tr[data-id="{ids[0]}"]')
    first_row.locator("td", has_text="1/1").wait_for()
    link = first_row.get_by_role("link", name=str(ids[0]))
    assert f"/projects/{project.pk}/label/{ids[0]}/?" in link.get_attribute("href")
    assert "from=datamanager" in link.get_attribute("href")
    screenshot(page, "data-manager-bulk-label")
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot(page, "data-manager"), DOCS_SHOT)
    assert page_events.dialogs == []


def test_task_text_is_shown_as_text(browser_page, page_events):
    project, ids = _project_with_tasks([f"{XSS[0]} and {XSS[1]}"])
    page = browser_page
    login(page, project.created_by)
    _open(page, project)
    cell = page.locator(f'#dm-rows tr[data-id="{ids[0]}"] td.data')
    assert cell.inner_text() == f"{XSS[0]} and {XSS[1]}"
    assert page.locator("#dm-rows img, #dm-rows script").count() == 0
    # The search box echoes into the address bar and the request: still text only.
    page.fill('input[name="search"]', XSS[1])
    page.click("#dm-filters button[type=submit]")
    page.locator("#dm-rows tr").first.wait_for()
    assert page.locator("#dm-rows tr").count() == 1
    screenshot(page, "data-manager-escaped-text")
    assert page_events.dialogs == []


def test_select_all_matching_then_delete_after_confirming(browser_page, page_events):
    project, ids = _project_with_tasks([f"ticket {i}" for i in range(5)])
    page = browser_page
    login(page, project.created_by)
    _open(page, project)
    page.get_by_label(f"Select task {ids[0]}").check()
    page.click("#dm-select-all")
    page.locator("#dm-selected").filter(has_text="All 5 matching tasks selected").wait_for()
    page.get_by_label(f"Select task {ids[4]}").uncheck()  # excluded from "all"
    page.select_option("#dm-action", "delete")
    page.click("#dm-apply")
    assert Task.objects.filter(project=project).count() == 5  # nothing before confirming
    page.click("#dm-confirm")
    page.locator("#dm-status").filter(has_text="Done: 4 changed").wait_for()
    assert list(Task.objects.filter(project=project).values_list("id", flat=True)) == [ids[4]]
    screenshot(page, "data-manager-delete")
    assert page_events.dialogs == []


def test_annotators_see_the_table_without_bulk_actions(browser_page):
    project, ids = _project_with_tasks(["a", "b"])
    annotator = make_user()
    add_member(project, annotator, "annotator")
    # Annotators see the tasks handed to them only (projects/permissions.py).
    TaskAssignment.objects.create(project=project, task_id=ids[1], user=annotator)
    page = browser_page
    login(page, annotator)
    _open(page, project)
    assert page.locator("#dm-rows tr").count() == 1
    assert page.locator("#dm-bulk").count() == 0
    assert page.locator(".dm-check").count() == 0
    screenshot(page, "data-manager-annotator")


def test_a_task_opened_from_the_table_labels_the_table_in_its_order(browser_page):
    """Submitting a task opened from the data manager moves to the next task of the table's
    filter and sort (here: not annotated, newest first), not to the queue's next task."""
    project, ids = _project_with_tasks(["one", "two", "three", "four"])
    Task.objects.filter(pk=ids[2]).update(priority=9)  # the queue would pick this one first
    page = browser_page
    login(page, project.created_by)
    query = "from=datamanager&sort=-id&annotated=false"
    page.goto(f"/projects/{project.pk}/label/{ids[3]}/?{query}")
    page.wait_for_selector(f"#label-app[data-state=ready][data-task='{ids[3]}']")
    for expected_next in (ids[2], ids[1]):
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#label-app[data-state=ready][data-task='{expected_next}']")
        assert "from=datamanager" in page.url and f"/label/{expected_next}/" in page.url
    done = Annotation.objects.filter(project=project).values_list("task_id", flat=True)
    assert sorted(done) == sorted([ids[3], ids[2]])
    # In order, nothing was leased from the queue on the way.
    from tasks.models import TaskLock

    assert not TaskLock.objects.filter(task__project=project).exists()
    screenshot(page, "label-in-data-manager-order")


def test_a_task_leased_before_the_page_opened_is_marked(browser_page):
    """next-task leased a task to someone before the manager opened the table: its row says
    who is on it (the socket only reports leases taken while the page is open)."""
    from tasks.services.next import task_next_take

    project, _ = _project_with_tasks(["one", "two", "three"])
    annotator = make_user(username="nadia")
    add_member(project, annotator, "annotator")
    taken = task_next_take(project=project, user=annotator)
    page = browser_page
    login(page, project.created_by)
    _open(page, project)
    row = page.locator(f'#dm-rows tr[data-id="{taken.pk}"]')
    page.locator(f'#dm-rows tr.dm-locked[data-id="{taken.pk}"]').wait_for()
    assert row.get_attribute("title") == "Being labelled by nadia"
    assert page.locator("#dm-rows tr.dm-locked").count() == 1
    # The manager's own lease does not mark a row for the manager.
    mine = task_next_take(project=project, user=project.created_by)
    page.reload()
    page.locator(f'#dm-rows tr[data-id="{mine.pk}"]').wait_for()
    assert "dm-locked" not in (
        page.locator(f'#dm-rows tr[data-id="{mine.pk}"]').get_attribute("class") or ""
    )
    assert page.locator("#dm-rows tr.dm-locked").count() == 1
