"""A stale update (409): both versions side by side, and the user keeps one."""

from __future__ import annotations

import pytest

from tasks.models import Annotation
from tasks.services import annotation_create, annotation_update
from tests.factories import choice
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import open_task, project_with_tasks

pytestmark = pytest.mark.browser


@pytest.fixture
def stale(browser_page):
    """The user's annotation is open on the page; meanwhile it moves on to version 2."""
    project, tasks = project_with_tasks(["Alice flew to Paris"])
    user = project.created_by
    annotation = annotation_create(task=tasks[0], user=user, result=[choice("greet")])
    login(browser_page, user)
    open_task(browser_page, project, tasks[0])
    annotation_update(annotation=annotation, version=1, result=[choice("greet", item_id="c9")])
    browser_page.keyboard.press("2")  # ask, on the version-1 copy the page holds
    browser_page.keyboard.press("Enter")
    browser_page.wait_for_selector("#lbl-conflict:not([hidden])")
    return browser_page, annotation


def test_stale_update_shows_both_versions_and_keep_mine_saves_on_top(stale):
    page, annotation = stale
    assert page.locator("#lbl-conflict-theirs-title").inner_text() == "Theirs (version 2)"
    assert page.locator("#lbl-conflict-theirs li").all_inner_texts() == ["intent: greet"]
    assert page.locator("#lbl-conflict-mine li").all_inner_texts() == ["intent: ask"]
    screenshot(page, "label-conflict")
    page.click("#lbl-keep-mine")
    page.wait_for_function("() => document.getElementById('lbl-conflict').hidden")
    page.wait_for_function(
        "v => fetch('/api/annotations/' + v).then(r => r.json()).then(a => a.version === 3)",
        arg=annotation.pk,
    )
    stored = Annotation.objects.get(pk=annotation.pk)
    assert stored.version == 3
    assert stored.result[0]["value"]["choices"] == ["ask"]


def test_take_theirs_loads_the_stored_version(stale):
    page, annotation = stale
    page.click("#lbl-take-theirs")
    choices = page.evaluate(
        "labelSession.store.result().filter(i => i.type === 'choices').map(i => i.value.choices)"
    )
    assert choices == [["greet"]]
    assert Annotation.objects.get(pk=annotation.pk).version == 2
