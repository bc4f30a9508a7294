"""The first-visit tour of the labelling page and the guidelines one key away."""

from __future__ import annotations

import pytest

from projects.services import project_update
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import open_task, project_with_tasks, regions

pytestmark = pytest.mark.browser


def test_tour_shows_once_pages_by_keyboard_and_leaves_the_page_keys_alone(browser_page):
    page = browser_page
    project, tasks = project_with_tasks(["Alice flew to Paris"])
    project_update(project=project, expert_instruction="Label **people** as PER.")
    login(page, project.created_by)
    open_task(page, project, tasks[0])
    tour = page.locator("#lbl-tour")
    tour.wait_for()
    assert "1 / 5" in tour.inner_text()
    # The page keeps the keyboard: a label key still labels while the tour is shown.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    assert regions(page) == [("Alice", ["PER"])]
    # Keyboard through the tour: Tab to its buttons, Enter pages, Escape dismisses.
    tour.get_by_role("button", name="Next").focus()
    page.keyboard.press("Enter")
    assert "2 / 5" in tour.inner_text()
    assert page.locator("#lbl-submit.lbl-tour-target").count() == 1
    screenshot(page, "label-tour")
    page.keyboard.press("Escape")
    assert page.locator("#lbl-tour").count() == 0
    # Guidelines: one key.
    page.locator("#lbl-context").evaluate("d => { d.open = false; }")
    page.keyboard.press("g")
    assert page.locator("#lbl-context").evaluate("d => d.open")
    assert page.evaluate("document.activeElement.id") == "lbl-guidelines"
    # Dismissed once: not shown again.
    open_task(page, project, tasks[0])
    page.wait_for_timeout(300)
    assert page.locator("#lbl-tour").count() == 0
