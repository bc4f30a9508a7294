"""HyperText rendered as (sanitised) HTML with HyperTextLabels spans, and ParagraphLabels
spans inside one utterance of a dialogue: by keyboard and by mouse, saved in Label Studio's
result shapes (XPaths + offsets; paragraph indexes + offsets) that the server accepts."""

from __future__ import annotations

import pytest

from tasks.models import Annotation
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import drag_text, open_task, project_with_tasks

pytestmark = pytest.mark.browser

HTML_CONFIG = """<View><HyperText name="html" value="$html"/>
  <HyperTextLabels name="ner" toName="html">
    <Label value="PER" hotkey="p"/><Label value="ORG" hotkey="o"/><Label value="MISC" hotkey="m"/>
  </HyperTextLabels></View>"""
HTML = (
    "<h2>Minutes</h2>"  # a block without a full stop: "The" still starts a sentence
    "<p>The report says <b>Ada Lovelace</b> met the board.</p>"
    '<p onclick="window.__xss = 3">Second <img src=x onerror="window.__xss = 1">'
    "<script>window.__xss = 2</script>para</p>"
)
# The text the spans count in: the text nodes of the sanitised HTML, one after the other.
HTML_TEXT = "MinutesThe report says Ada Lovelace met the board.Second para"


def _items(page, kind):
    return page.evaluate(f"labelSession.store.result().filter(i => i.type === '{kind}')")


def _submitted(page, task):
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelector('#label-app').dataset.task !== '{task.pk}'"
        " || document.querySelector('#label-app').dataset.state === 'done'"
    )
    return Annotation.objects.get(task=task)


def test_hypertext_renders_sanitised_html_and_labels_spans_with_xpaths(browser_page, page_events):
    prediction = {
        "from_name": "ner",
        "to_name": "html",
        "type": "hypertextlabels",
        "value": {  # as Label Studio writes it: no globalOffsets, XPaths only
            "start": "/p[2]/text()[1]",
            "end": "/p[2]/text()[1]",
            "startOffset": 0,
            "endOffset": 6,
            "text": "Second",
            "hypertextlabels": ["MISC"],
        },
    }
    project, (task,) = project_with_tasks(
        [{"data": {"html": HTML}, "predictions": [{"result": [prediction]}]}],
        label_config=HTML_CONFIG,
    )
    login(browser_page, project.created_by)
    open_task(browser_page, project, task)
    page = browser_page
    body = page.locator(".lv-hypertext-text")
    assert body.locator("p").count() == 2 and body.locator("b").inner_text() == "Ada Lovelace"
    assert body.locator("h2").inner_text() == "Minutes"
    assert body.locator("script, img, [onclick], [onerror]").count() == 0
    shown = (
        "[...document.querySelectorAll('.lv-hypertext-text .seg')].map(s => s.textContent).join('')"
    )
    assert page.evaluate(shown) == HTML_TEXT
    # The prediction's LS-shaped span is drawn on "Second".
    assert page.locator(".lv-hypertext-text .seg.in-span").inner_text() == "Second"
    # Keyboard: Down selects the name (inside <b>), P labels it.
    page.keyboard.press("ArrowDown")
    assert page.locator(".lv-hypertext-text .seg.caret").inner_text() == "Ada Lovelace"
    page.keyboard.press("p")
    # The span's re-render replaces the text's nodes: a drag during it loses its selection.
    page.wait_for_function(
        "() => labelSession.store.result().some("
        "i => i.type === 'hypertextlabels' && i.value.text === 'Ada Lovelace')"
    )
    # Mouse: drag over "board", then O. On a loaded machine the selection can come a moment
    # later, or a late re-render can still take it: drag again then (at most three times).
    start = HTML_TEXT.index("board")
    for attempt in range(3):
        drag_text(page, start, start + len("board"))
        try:
            page.wait_for_function(
                "() => window.getSelection().toString() === 'board'", timeout=5_000
            )
            break
        except TimeoutError:
            if attempt == 2:
                raise
    page.keyboard.press("o")
    page.wait_for_function(
        "() => labelSession.store.result().some("
        "i => i.type === 'hypertextlabels' && i.value.text === 'board')"
    )
    screenshot(page, "label-hypertext")
    by_text = {i["value"]["text"]: i["value"] for i in _items(page, "hypertextlabels")}
    assert by_text["Ada Lovelace"] == {
        "start": "/p[1]/b[1]/text()[1]",
        "end": "/p[1]/b[1]/text()[1]",
        "startOffset": 0,
        "endOffset": 12,
        "globalOffsets": {"start": 23, "end": 35},
        "text": "Ada Lovelace",
        "hypertextlabels": ["PER"],
    }
    board = by_text["board"]
    assert (board["start"], board["end"]) == ("/p[1]/text()[2]", "/p[1]/text()[2]")
    assert (board["startOffset"], board["endOffset"]) == (9, 14)
    assert board["globalOffsets"] == {"start": start, "end": start + 5}
    assert page.evaluate("window.__xss") is None and page_events.dialogs == []
    annotation = _submitted(page, task)
    saved = sorted(i["value"]["text"] for i in annotation.result)
    assert saved == ["Ada Lovelace", "Second", "board"]


PARAGRAPH_CONFIG = """<View><Paragraphs name="dialogue" value="$dialogue" layout="dialogue"/>
  <ParagraphLabels name="pl" toName="dialogue">
    <Label value="DATE" hotkey="d"/><Label value="PRODUCT" hotkey="r"/>
  </ParagraphLabels></View>"""
DIALOGUE = [
    {"author": "agent", "text": "Hello, how can I help?"},
    {"author": "customer", "text": "My yoga mat arrived torn on March 3."},
]


def test_paragraph_labels_inside_one_utterance_by_keyboard_and_mouse(browser_page):
    project, (task,) = project_with_tasks([{"dialogue": DIALOGUE}], label_config=PARAGRAPH_CONFIG)
    login(browser_page, project.created_by)
    open_task(browser_page, project, task)
    page = browser_page
    assert page.locator(".lv-paragraphs-text .turn").count() == 2
    # Keyboard: Down selects "March 3" in the second utterance, D labels it.
    page.keyboard.press("ArrowDown")
    assert page.locator(".lv-paragraphs-text .seg.caret").inner_text() == "March 3"
    page.keyboard.press("d")
    # Right/Shift+Right select words inside the utterance; the selection never leaves it.
    page.keyboard.press("End")
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator(".lv-paragraphs-text .seg.caret").inner_text() == "3"
    page.keyboard.press("Home")
    for _ in range(4):
        page.keyboard.press("ArrowRight")  # Hello -> how -> can -> I -> help
    page.keyboard.press("Shift+ArrowRight")  # would reach "My" in the next utterance
    assert page.locator(".lv-paragraphs-text .seg.caret").inner_text() == "help"
    page.keyboard.press("Escape")
    # Mouse: "yoga mat" in the second utterance (offsets: utterances joined by a line break).
    start = len(DIALOGUE[0]["text"]) + 1 + DIALOGUE[1]["text"].index("yoga mat")
    drag_text(page, start, start + len("yoga mat"))
    page.keyboard.press("r")
    screenshot(page, "label-paragraphs")
    by_text = {i["value"]["text"]: i["value"] for i in _items(page, "paragraphlabels")}
    assert by_text["March 3"] == {
        "start": "1",
        "end": "1",
        "startOffset": 28,
        "endOffset": 35,
        "text": "March 3",
        "paragraphlabels": ["DATE"],
    }
    assert by_text["yoga mat"] == {
        "start": "1",
        "end": "1",
        "startOffset": 3,
        "endOffset": 11,
        "text": "yoga mat",
        "paragraphlabels": ["PRODUCT"],
    }
    annotation = _submitted(page, task)
    assert sorted(i["value"]["text"] for i in annotation.result) == ["March 3", "yoga mat"]
