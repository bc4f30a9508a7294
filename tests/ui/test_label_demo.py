"""Budgets on the demo intent + entity project (deterministic, so asserted here; the timings
are bench/ui_bench.py's): one key accepts a correct prediction, at most five label one
entity and one intent from scratch, and the page loads under 500 KB of JavaScript."""

from __future__ import annotations

import pytest

from annotator import demo
from annotator.services import demo_seed
from bench.ui_scenarios import (
    ACCEPT_KEYS,
    JS_BYTES,
    config_hotkeys,
    downs_to,
    matches,
    pick_accept,
    pick_scratch,
    scratch_keys,
)
from projects.models import Project
from tasks.label_selectors import label_known_entities, task_text
from tasks.models import Annotation, Task
from tests.ui.conftest import login, screenshot

pytestmark = pytest.mark.browser

UTTERANCES = 60
JS_BUDGET = 500 * 1024


def _seed(page, utterances):
    demo_seed(utterances=utterances, images=0, clips=0)
    project = Project.objects.get(title__startswith="Customer service")
    tasks = [
        {
            "id": t.pk,
            "data": t.data,
            "predictions": [p.result for p in t.predictions.order_by("id")],
            "annotations": [a.result for a in t.annotations.all()],
        }
        for t in project.tasks.order_by("id")
    ]
    truth = {u.text: u for u in demo.generate_utterances(utterances, seed=0)}
    login(page, project.created_by)
    return project, tasks, truth


@pytest.fixture
def demo_project(browser_page):
    return _seed(browser_page, UTTERANCES)


def _known(task):
    """The phrases the project knows in the task's text (what the page stops on)."""
    row = Task.objects.select_related("project").get(pk=task["id"])
    text = task_text(config=row.project.parsed_config, data=row.data)
    return [entry["text"] for entry in label_known_entities(task=row, text=text)]


def _open(page, project, task_id):
    page.goto(f"/projects/{project.pk}/label/{task_id}/")
    page.wait_for_selector(f"#label-app[data-state=ready][data-task='{task_id}']")


def _submitted(page, task_id):
    page.wait_for_function(f"document.querySelector('#label-app').dataset.task !== '{task_id}'")
    return Annotation.objects.filter(task_id=task_id).order_by("-id").first()


def test_accepting_a_correct_prediction_takes_one_keystroke(browser_page, demo_project):
    project, tasks, truth = demo_project
    task = pick_accept(tasks, truth)
    _open(browser_page, project, task["id"])
    screenshot(browser_page, "label-demo-prediction")
    for key in ACCEPT_KEYS:
        browser_page.keyboard.press(key)
    annotation = _submitted(browser_page, task["id"])
    assert len(ACCEPT_KEYS) == 1
    assert matches(annotation.result, truth[task["data"]["text"]])
    assert annotation.parent_prediction_id is not None


def test_one_entity_and_one_intent_from_scratch_in_five_keystrokes_or_less(
    browser_page, demo_project
):
    project, tasks, truth = demo_project
    task = pick_scratch(tasks, truth, _known)
    utterance = truth[task["data"]["text"]]
    keys = scratch_keys(utterance, config_hotkeys(project.parsed_config.to_dict()), _known(task))
    _open(browser_page, project, task["id"])
    for key in keys[:-1]:
        browser_page.keyboard.press(key)
    screenshot(browser_page, "label-demo-text")
    browser_page.keyboard.press(keys[-1])
    annotation = _submitted(browser_page, task["id"])
    assert matches(annotation.result, utterance)
    assert len(keys) <= 5


def test_a_multi_word_lowercase_entity_from_scratch_in_five_keystrokes_or_less(browser_page):
    """ "un clavier mécanique" is neither a number nor a name: Down stops on it because the
    project labelled that phrase in another task (120 utterances: the first such task)."""
    project, tasks, truth = _seed(browser_page, 120)
    task = pick_scratch(tasks, truth, _known, phrase=True)
    utterance = truth[task["data"]["text"]]
    entity = utterance.text[utterance.entities[0].start : utterance.entities[0].end]
    assert " " in entity and entity == entity.lower()
    assert downs_to(utterance) is None  # the entity-like tokens alone never select it
    keys = scratch_keys(utterance, config_hotkeys(project.parsed_config.to_dict()), _known(task))
    _open(browser_page, project, task["id"])
    browser_page.keyboard.press("ArrowDown")
    caret = browser_page.locator(".lv-text .seg.caret")
    assert "".join(caret.all_inner_texts()) == entity
    for key in keys[1:-1]:
        browser_page.keyboard.press(key)
    screenshot(browser_page, "label-demo-phrase")
    browser_page.keyboard.press(keys[-1])
    annotation = _submitted(browser_page, task["id"])
    assert matches(annotation.result, utterance)
    assert len(keys) <= 5


def test_the_page_loads_less_than_500_kb_of_javascript(browser_page, demo_project):
    project, tasks, _ = demo_project
    _open(browser_page, project, tasks[0]["id"])
    browser_page.keyboard.press("?")  # every panel used once
    browser_page.keyboard.press("Escape")
    browser_page.keyboard.press("k")
    browser_page.wait_for_selector(f"#label-app[data-task='{tasks[1]['id']}']")
    loaded = browser_page.evaluate(JS_BYTES)
    assert 10_000 < loaded < JS_BUDGET
