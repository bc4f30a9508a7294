"""Spans in the text: by mouse, by keyboard, nested, undo and redo."""

from __future__ import annotations

import pytest

from tests.ui.conftest import login, screenshot
from tests.ui.helpers import drag_text, open_task, project_with_tasks, regions

pytestmark = pytest.mark.browser

TEXT = "Alice flew to Paris yesterday"


@pytest.fixture
def page(browser_page):
    project, tasks = project_with_tasks([TEXT])
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    return browser_page


def test_span_by_keyboard_words_then_label_key(page):
    for _ in range(4):  # Alice, flew, to, Paris
        page.keyboard.press("ArrowRight")
    page.keyboard.press("l")
    assert regions(page) == [("Paris", ["LOC"])]
    assert page.locator(".lv-chip", has_text="LOC").is_visible()
    screenshot(page, "label-span-keyboard")


def test_span_by_keyboard_extends_with_shift(page):
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("p")
    assert regions(page) == [("Alice flew", ["PER"])]


def test_span_by_mouse_drag_then_label_key(page):
    drag_text(page, TEXT.index("Paris"), TEXT.index("Paris") + 5)
    page.keyboard.press("l")
    assert regions(page) == [("Paris", ["LOC"])]
    screenshot(page, "label-span-mouse")


def test_span_by_mouse_with_the_label_chosen_first(page):
    page.get_by_role("button", name="PER").click()
    drag_text(page, 0, 5)
    assert regions(page) == [("Alice", ["PER"])]


def test_nested_spans_stack_and_are_selectable_and_deletable(page):
    drag_text(page, TEXT.index("to"), TEXT.index("Paris") + 5)
    page.keyboard.press("p")
    drag_text(page, TEXT.index("Paris"), TEXT.index("Paris") + 5)
    page.keyboard.press("l")
    assert regions(page) == [("Paris", ["LOC"]), ("to Paris", ["PER"])]
    paris = page.locator(".lv-text .seg", has_text="Paris")
    assert paris.evaluate("el => el.style.backgroundImage.split('linear-gradient').length - 1") == 2
    screenshot(page, "label-span-nested")
    page.keyboard.press("Escape")
    paris.click()  # innermost first
    assert page.evaluate("labelSession.store.selected.value.text") == "Paris"
    paris.click()  # then the span around it
    assert page.evaluate("labelSession.store.selected.value.text") == "to Paris"
    page.keyboard.press("Delete")
    assert regions(page) == [("Paris", ["LOC"])]


def test_undo_and_redo(page):
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("l")
    assert len(regions(page)) == 2
    page.keyboard.press("Control+z")
    assert regions(page) == [("Alice", ["PER"])]
    page.keyboard.press("Control+z")
    assert regions(page) == []
    page.keyboard.press("Control+Shift+z")
    assert regions(page) == [("Alice", ["PER"])]
    assert page.locator(".lbl-region").count() == 1
    screenshot(page, "label-undo-redo")


def test_escape_cancels_the_keyboard_selection(page):
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")
    page.keyboard.press("p")  # nothing selected: arms the label instead
    assert regions(page) == []
    assert page.locator(".lv-label.armed").count() == 1


def test_down_stops_on_the_predictions_spans_even_once_removed(browser_page):
    """The prediction's spans stay keyboard stops after the user deleted them (or started
    from a draft): Down selects the whole "tapis de yoga", Up goes back to it. The predicted
    item has no id, as some imported predictions: the page gives it one to select it."""
    text = "mon tapis de yoga est arrivé le 3 mars, et le sac aussi"
    start = text.index("tapis de yoga")
    predicted = {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": start + 13, "text": "tapis de yoga", "labels": ["LOC"]},
    }
    project, (task,) = project_with_tasks(
        [{"data": {"text": text}, "predictions": [{"result": [predicted]}]}]
    )
    login(browser_page, project.created_by)
    open_task(browser_page, project, task)
    page = browser_page
    page.keyboard.press("Alt+ArrowDown")
    page.keyboard.press("Delete")
    assert regions(page) == []
    page.locator(".lv-text").focus()
    caret = page.locator(".lv-text .seg.caret")
    page.keyboard.press("ArrowDown")
    assert caret.inner_text() == "tapis de yoga"
    page.keyboard.press("ArrowDown")
    assert caret.inner_text() == "3"  # the next entity-like token
    page.keyboard.press("ArrowUp")
    assert caret.inner_text() == "tapis de yoga"
    page.keyboard.press("p")
    assert regions(page) == [("tapis de yoga", ["PER"])]
    screenshot(page, "label-span-prediction-stop")
