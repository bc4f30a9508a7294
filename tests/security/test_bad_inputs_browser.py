"""The catalogue's script payloads in real headless Chromium: a project title, description,
guidelines, label and choice names, task text, an annotation's comment and a user's name all
carry markup; every page shows it as text, runs none of it, and the pages themselves work
under the Content-Security-Policy (no violation reported)."""

from __future__ import annotations

import pytest

from tasks.services import annotation_create
from tests.factories import add_member, make_user
from tests.security.catalogue import record
from tests.ui.conftest import login
from tests.ui.helpers import open_task, project_with_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = '<img src=x onerror=alert("title")>'
TASK = '<script>alert("task")</script><img src=x onerror=alert("task-img")> Alice'
LABEL = "<svg onload=alert('label')>"
CHOICE = "<script>alert('choice')</script>"
COMMENT = '<img src=x onerror=alert("comment")>'
NAME = '<img src=x onerror=alert("name")>'
GUIDELINES = (
    "# Rules\n\n<script>alert('guide')</script>\n\n<img src=x onerror=alert('guide-img')>\n\n"
    "[read me](javascript:alert('guide-link'))"
)
CONFIG = f"""<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="text"><Label value="{LABEL.replace("<", "&lt;").replace(">", "&gt;")}"/></Labels>
  <Choices name="intent" toName="text">
    <Choice value="{CHOICE.replace("<", "&lt;").replace(">", "&gt;")}"/>
  </Choices>
  <TextArea name="notes" toName="text"/>
</View>"""

PAGES = {
    "projects": ("/", [TITLE]),
    "project": ("/projects/{p}/", [TITLE]),
    "data-manager": ("/projects/{p}/data/", []),
    "arbitration": ("/projects/{p}/arbitration/", []),
}
# The markup a payload would create if it were parsed as HTML instead of shown as text.
INJECTED = (
    "img[src='x'], svg[onload], a[href^='javascript:' i], "
    "script:not([src]):not([type='application/json'])"
)


def test_script_payloads_are_shown_as_text_and_never_run(browser_page, page_events):
    owner = make_user(first_name=NAME)
    project, (task,) = project_with_tasks(
        [TASK],
        owner=owner,
        title=TITLE,
        description="<script>alert('description')</script>",
        expert_instruction=GUIDELINES,
        label_config=CONFIG,
    )
    annotator = make_user(first_name=NAME)
    add_member(project, annotator, "annotator")
    comment = {
        "from_name": "notes",
        "to_name": "text",
        "type": "textarea",
        "value": {"text": [COMMENT]},
    }
    annotation_create(task=task, user=annotator, result=[comment])
    page = browser_page
    login(page, owner)
    shown: dict[str, bool] = {}
    for name, (path, texts) in PAGES.items():
        page.goto(path.format(p=project.pk))
        page.wait_for_load_state("networkidle")
        shown[name] = page.locator(INJECTED).count() == 0 and all(
            page.get_by_text(text, exact=False).count() > 0 for text in texts
        )
    open_task(page, project, task)
    page.wait_for_load_state("networkidle")
    body = page.locator("body").inner_text()
    shown["label"] = page.locator(INJECTED).count() == 0 and all(
        text in body for text in ('alert("task")', LABEL, CHOICE)
    )
    violations = [m for m in page_events.console_errors if "Content Security Policy" in m]
    for name, ok in shown.items():
        record(f"xss-page-{name}", accepted_wrongly=not ok or bool(page_events.dialogs))
    assert page_events.dialogs == [], page_events.dialogs
    assert all(shown.values()), shown
    assert violations == [], violations
