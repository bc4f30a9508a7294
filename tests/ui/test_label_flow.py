"""The keyboard workflow: accept a prediction, skip, J/K, auto-save, the help, typing."""

from __future__ import annotations

import pytest

from tasks.models import Annotation, Draft, Prediction, TaskLock
from tests.factories import choice, span
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import open_task, project_with_tasks, regions

pytestmark = pytest.mark.browser


@pytest.fixture
def setup(browser_page):
    project, tasks = project_with_tasks(["Alice flew to Paris", "Bob stayed in Lyon", "Carol"])
    login(browser_page, project.created_by)
    return browser_page, project, tasks


def _wait_task(page, task):
    page.wait_for_selector(f"#label-app[data-state=ready][data-task='{task.pk}']")


def test_accepting_a_prediction_takes_one_key(setup):
    page, project, tasks = setup
    result = [
        {**span(0, 5, "Alice", "PER"), "score": 0.95},
        {**span(14, 19, "Paris", "PER", item_id="s2"), "score": 0.55},
        {**choice("greet"), "score": 0.8},
    ]
    prediction = Prediction.objects.create(
        task=tasks[0], project=project, result=result, score=0.77
    )
    open_task(page, project, tasks[0])
    assert page.locator(".lv-chip.conf-high", has_text="PER 95%").is_visible()
    assert page.locator(".lv-chip.conf-low", has_text="PER 55%").is_visible()
    assert page.locator(".lv-choice.conf-mid", has_text="greet").is_visible()
    screenshot(page, "label-prediction-confidence")
    page.keyboard.press("Control+Enter")
    _wait_task(page, tasks[1])
    annotation = Annotation.objects.get(task=tasks[0])
    assert annotation.parent_prediction_id == prediction.pk
    assert sorted(i["value"].get("text", "") for i in annotation.result) == ["", "Alice", "Paris"]
    assert annotation.lead_time is not None


def test_editing_a_prediction_makes_it_the_annotators(setup):
    page, project, tasks = setup
    Prediction.objects.create(
        task=tasks[0], project=project, result=[{**choice("greet"), "score": 0.95}]
    )
    open_task(page, project, tasks[0])
    assert page.locator(".lv-choice.conf-high").count() == 1
    page.keyboard.press("2")  # ask instead
    assert (
        page.locator(".lv-choice.conf-high, .lv-choice.conf-mid, .lv-choice.conf-low").count() == 0
    )
    page.keyboard.press("Enter")
    _wait_task(page, tasks[1])
    item = Annotation.objects.get(task=tasks[0]).result[0]
    assert item["value"]["choices"] == ["ask"] and item["origin"] == "prediction-changed"
    assert "score" not in item


def test_skip_with_s(setup):
    page, project, tasks = setup
    page.goto(f"/projects/{project.pk}/label/")
    _wait_task(page, tasks[0])
    page.keyboard.press("s")
    _wait_task(page, tasks[1])
    assert Annotation.objects.get(task=tasks[0]).was_cancelled
    screenshot(page, "label-after-skip")


def test_j_and_k_move_between_tasks(setup):
    page, project, tasks = setup
    open_task(page, project, tasks[0])
    page.keyboard.press("k")
    _wait_task(page, tasks[1])
    assert page.url.endswith(f"/label/{tasks[1].pk}/")
    page.keyboard.press("k")
    _wait_task(page, tasks[2])
    page.keyboard.press("j")
    _wait_task(page, tasks[1])
    assert page.locator(".lv-text").inner_text().startswith("Bob stayed")
    screenshot(page, "label-navigate-jk")
    page.wait_for_timeout(800)  # after the side requests
    assert not TaskLock.objects.exists()  # looking at tasks reserves none of them


def test_work_left_with_j_k_is_there_on_return(setup):
    page, project, tasks = setup
    open_task(page, project, tasks[0])
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    page.keyboard.press("k")
    _wait_task(page, tasks[1])
    page.keyboard.press("j")
    _wait_task(page, tasks[0])
    assert regions(page) == [("Alice", ["PER"])]


def test_auto_saved_draft_and_notes_survive_a_reload(setup):
    page, project, tasks = setup
    open_task(page, project, tasks[0])
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    page.locator("#lbl-notes").fill("check the name")
    page.wait_for_selector("#label-app[data-saved]", timeout=10_000)
    page.wait_for_function("!labelSession.dirty()", timeout=10_000)
    draft = Draft.objects.get(task=tasks[0], user=project.created_by)
    assert draft.notes == "check the name" and draft.lead_time is not None
    page.reload()
    _wait_task(page, tasks[0])
    assert regions(page) == [("Alice", ["PER"])]
    assert page.locator("#lbl-notes").input_value() == "check the name"
    screenshot(page, "label-draft-restored")
    page.keyboard.press("Enter")
    _wait_task(page, tasks[1])
    saved = Annotation.objects.get(task=tasks[0])
    assert saved.notes == "check the name"
    assert not Draft.objects.filter(task=tasks[0]).exists()


def test_leaving_the_page_saves_the_draft(setup):
    page, project, tasks = setup
    open_task(page, project, tasks[0])
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    page.goto("/")  # at once: before the periodic save
    page.wait_for_timeout(500)
    assert Draft.objects.get(task=tasks[0]).result[0]["value"]["text"] == "Alice"


def test_keys_do_not_fire_while_typing_in_notes(setup):
    page, project, tasks = setup
    open_task(page, project, tasks[0])
    page.locator("#lbl-notes").click()
    page.keyboard.type("sk1p ")
    assert page.locator("#lbl-notes").input_value() == "sk1p "
    assert page.evaluate("labelSession.store.all().length") == 0
    assert page.locator("#label-app").get_attribute("data-task") == str(tasks[0].pk)
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    assert page.evaluate("labelSession.store.result()[0].value.choices") == ["greet"]


def test_question_mark_lists_every_shortcut(setup):
    page, project, tasks = setup
    open_task(page, project, tasks[0])
    page.keyboard.press("?")
    dialog = page.locator("#lbl-help-dialog")
    dialog.wait_for()
    text = dialog.inner_text()
    for expected in (
        "submit",
        "skip",
        "undo",
        "redo",
        "next task",
        "previous task",
        "label PER",
        "choose greet",
        "accept the prediction",
    ):
        assert expected in text
    screenshot(page, "label-help")
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_entities_labelled_elsewhere_are_suggested(setup):
    page, project, tasks = setup
    from tasks.services import annotation_create

    annotation_create(task=tasks[0], user=project.created_by, result=[span(0, 5, "Alice", "PER")])
    tasks[2].data = {"text": "Carol met Alice"}
    tasks[2].save()
    open_task(page, project, tasks[2])
    panel = page.locator("#lbl-entities")
    panel.get_by_text("Known entities").wait_for()
    assert "Alice" in panel.inner_text() and "PER" in panel.inner_text()
    screenshot(page, "label-entity-suggestions")
    page.keyboard.press("Alt+e")
    assert regions(page) == [("Alice", ["PER"])]
    assert panel.is_hidden()


def test_a_failing_ml_backend_shows_a_notice_and_the_task_still_opens(setup, settings):
    from mlserve.models import MLBackend
    from mlserve.services import project_backends_flag_reset

    page, project, tasks = setup
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    MLBackend.objects.create(project=project, url="http://127.0.0.1:9", title="down", timeout=2)
    project_backends_flag_reset(project_id=project.pk)
    open_task(page, project, tasks[0])
    notice = page.locator("#lbl-ml-notice")
    assert notice.is_visible()
    assert "No prediction from 'down'" in notice.inner_text()
    assert page.locator("#lbl-accept").is_hidden()
    screenshot(page, "label-ml-backend-notice")
