"""Spans in the text: by mouse, by keyboard, nested, undo and redo."""

from __future__ import annotations

import pytest

from tests.ui.conftest import login, screenshot
from tests.ui.helpers import open_task, project_with_tasks

pytestmark = pytest.mark.browser


def _regions(page):
    return page.evaluate("labelSession.store.result().filter(i => i.type === 'labels')")


def test_span_by_keyboard_words_then_label_key(browser_page):
    project, tasks = project_with_tasks(["Alice flew to Paris yesterday"])
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    browser_page.keyboard.press("ArrowRight")  # "Alice"
    browser_page.keyboard.press("ArrowRight")  # "flew"
    browser_page.keyboard.press("ArrowRight")  # "to"
    browser_page.keyboard.press("ArrowRight")  # "Paris"
    browser_page.keyboard.press("l")
    regions = _regions(browser_page)
    assert [(r["value"]["text"], r["value"]["labels"]) for r in regions] == [("Paris", ["LOC"])]
    assert browser_page.locator(".lv-chip", has_text="LOC").is_visible()
    screenshot(browser_page, "label-span-keyboard")
