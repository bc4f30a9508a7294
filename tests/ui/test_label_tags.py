"""Tag modules: taxonomy search and tree keys, relations, text inputs, unsupported tags, and
user content that must stay text."""

from __future__ import annotations

import pytest

from tasks.models import Annotation
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import open_task, project_with_tasks, regions

pytestmark = pytest.mark.browser

FAMILIES = [
    "Billing",
    "Delivery",
    "Account",
    "Product",
    "Returns",
    "Payment",
    "Shipping",
    "Support",
    "Orders",
    "Loyalty",
    "Store",
    "Other",
]
TOPICS = [
    "refund late",
    "refund missing",
    "invoice wrong",
    "charged twice",
    "address change",
    "damaged item",
    "lost parcel",
    "password reset",
    "warranty claim",
    "gift card",
]


def _taxonomy_config() -> str:
    families = "".join(
        f'<Choice value="{family}">'
        + "".join(f'<Choice value="{family} {topic}"/>' for topic in TOPICS)
        + "</Choice>"
        for family in FAMILIES
    )
    return f'<View><Text name="text" value="$text"/><Taxonomy name="intent" toName="text" leafsOnly="true">{families}</Taxonomy></View>'


def test_pick_an_intent_by_taxonomy_search(browser_page):
    project, tasks = project_with_tasks(["Where is my refund?"], label_config=_taxonomy_config())
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    assert (
        browser_page.evaluate(
            "labelSession.page.schema.controls[0].labels.flatMap(l => l.children).length"
        )
        == 120
    )
    browser_page.keyboard.press("/")
    browser_page.keyboard.type("billing refund lat")
    assert browser_page.locator(".lv-tax-item").count() == 1
    browser_page.keyboard.press("Enter")
    value = browser_page.evaluate("labelSession.store.result()[0].value.taxonomy")
    assert value == [["Billing", "Billing refund late"]]
    assert browser_page.locator(
        ".lv-tax-chip", has_text="Billing / Billing refund late"
    ).is_visible()
    screenshot(browser_page, "label-taxonomy-search")
    browser_page.keyboard.press("Escape")  # clear the search
    browser_page.keyboard.press("Escape")  # leave the field
    browser_page.keyboard.press("Enter")
    browser_page.wait_for_selector("#label-app[data-state=done]")
    assert Annotation.objects.get().result[0]["value"]["taxonomy"] == [
        ["Billing", "Billing refund late"]
    ]


def test_taxonomy_tree_by_keyboard(browser_page):
    project, tasks = project_with_tasks(["x"], label_config=_taxonomy_config())
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    browser_page.locator(".lv-tax-item").first.focus()
    browser_page.keyboard.press("ArrowDown")  # Delivery
    browser_page.keyboard.press("ArrowRight")  # expand it
    browser_page.keyboard.press("ArrowDown")  # its first leaf
    browser_page.keyboard.press("Space")
    browser_page.keyboard.press("ArrowDown")
    browser_page.keyboard.press("Enter")  # several may be picked
    value = browser_page.evaluate("labelSession.store.result()[0].value.taxonomy")
    assert value == [["Delivery", "Delivery refund late"], ["Delivery", "Delivery refund missing"]]
    browser_page.keyboard.press("ArrowLeft")  # to the parent
    browser_page.keyboard.press("ArrowLeft")  # collapse
    assert browser_page.locator(".lv-tax-item").count() == len(FAMILIES)


def test_relation_between_two_spans(browser_page):
    config = '<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="PER" hotkey="p"/><Label value="LOC" hotkey="l"/></Labels><Relations><Relation value="lives_in"/></Relations></View>'
    project, tasks = project_with_tasks(["Alice lives in Paris"], label_config=config)
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    browser_page.keyboard.press("ArrowRight")
    browser_page.keyboard.press("p")
    for _ in range(3):
        browser_page.keyboard.press("ArrowRight")
    browser_page.keyboard.press("l")
    browser_page.keyboard.press("Alt+ArrowUp")  # select Alice
    browser_page.keyboard.press("Alt+r")
    browser_page.locator(".lv-chip", has_text="LOC").click()
    browser_page.get_by_role("button", name="lives_in").click()
    relation = browser_page.evaluate("labelSession.store.result().find(i => i.type === 'relation')")
    assert relation["labels"] == ["lives_in"]
    screenshot(browser_page, "label-relation")
    browser_page.keyboard.press("Enter")
    browser_page.wait_for_selector("#label-app[data-state=done]")
    assert {i["type"] for i in Annotation.objects.get().result} == {"labels", "relation"}


_ARC = """() => [...document.querySelectorAll('svg.lv-arcs path.lv-arc')].map(p => {
  const [x1, y1] = p.getAttribute('d').slice(1).split(' ')[0].split(',').map(Number);
  const box = p.ownerSVGElement.getBoundingClientRect();
  return {x: x1 + box.left, y: y1 + box.top, d: p.getAttribute('d'),
          selected: p.classList.contains('selected'), end: p.getAttribute('marker-end')};
})"""
_SEG_BOX = """(text) => {
  const seg = [...document.querySelectorAll('.lv-text .seg.in-span')].find(s => s.textContent === text);
  const r = seg.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top};
}"""


def test_relation_arcs_are_drawn_between_spans_and_selectable_from_the_keyboard(browser_page):
    config = '<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="PER" hotkey="p"/><Label value="LOC" hotkey="l"/></Labels><Relations><Relation value="lives_in"/></Relations></View>'
    words = " ".join(["and then"] * 25)
    project, tasks = project_with_tasks([f"Alice {words} lives in Paris"], label_config=config)
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    page = browser_page
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")
    page.keyboard.press("End")
    page.keyboard.press("l")
    page.keyboard.press("Alt+ArrowUp")  # select Alice
    page.keyboard.press("Alt+r")
    page.keyboard.press("Alt+ArrowDown")  # Paris: the relation is made
    page.wait_for_function("document.querySelectorAll('svg.lv-arcs path.lv-arc').length === 1")
    (arc,) = page.evaluate(_ARC)
    alice = page.evaluate(_SEG_BOX, "Alice")
    assert alice["left"] <= arc["x"] <= alice["right"] and abs(arc["y"] - alice["top"]) < 2
    assert arc["end"] == "url(#lv-arrow)"  # direction "right": the arrow points at Paris
    page.get_by_role("button", name="lives_in").click()
    assert page.locator("svg.lv-arcs text.lv-arc-label").text_content() == "lives_in"
    screenshot(page, "label-relation-arc")
    # Narrower window: the text wraps elsewhere and the arc follows the span.
    page.set_viewport_size({"width": 900, "height": 900})
    page.wait_for_function(
        f"document.querySelector('svg.lv-arcs path.lv-arc').getAttribute('d') !== {arc['d']!r}"
    )
    (moved,) = page.evaluate(_ARC)
    alice = page.evaluate(_SEG_BOX, "Alice")
    assert alice["left"] <= moved["x"] <= alice["right"] and abs(moved["y"] - alice["top"]) < 2
    # Keyboard: select the relation, delete it, undo.
    page.locator(".lv-text").focus()
    page.keyboard.press("Alt+Shift+ArrowDown")
    page.wait_for_function("document.querySelector('svg.lv-arcs path.lv-arc.selected') !== null")
    page.keyboard.press("Delete")
    page.wait_for_function("document.querySelectorAll('svg.lv-arcs path.lv-arc').length === 0")
    assert (
        page.evaluate("labelSession.store.result().filter(i => i.type === 'relation').length") == 0
    )
    assert len(page.evaluate("labelSession.store.result()")) == 2  # the spans stay
    page.keyboard.press("Control+z")
    page.wait_for_function("document.querySelectorAll('svg.lv-arcs path.lv-arc').length === 1")
    # A click on the arc selects it too.
    page.keyboard.press("Escape")
    page.locator("svg.lv-arcs path.lv-arc-hit").dispatch_event("click")
    page.wait_for_function("document.querySelector('svg.lv-arcs path.lv-arc.selected') !== null")


def test_textarea_rating_number_and_propagation(browser_page):
    config = """<View><Text name="text" value="$text"/>
      <Labels name="label" toName="text"><Label value="CITY" hotkey="c"/></Labels>
      <TextArea name="summary" toName="text" placeholder="Summary"/>
      <Rating name="quality" toName="text" maxRating="5"/>
      <Number name="count" toName="text" min="0" max="10"/></View>"""
    project, tasks = project_with_tasks(["Paris then Lyon then Paris again"], label_config=config)
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    browser_page.keyboard.press("ArrowRight")
    browser_page.keyboard.press("c")
    browser_page.keyboard.press("Alt+a")  # every occurrence of "Paris"
    assert regions(browser_page) == [("Paris", ["CITY"]), ("Paris", ["CITY"])]
    browser_page.get_by_placeholder("Summary").fill("two cities")
    browser_page.get_by_role("radio", name="4 of 5").click()
    browser_page.get_by_label("count").fill("3")
    browser_page.get_by_label("count").press("Tab")
    browser_page.locator(".lv-text").focus()
    browser_page.keyboard.press("Enter")
    browser_page.wait_for_selector("#label-app[data-state=done]")
    values = {
        i["type"]: i["value"] for i in Annotation.objects.get().result if i["type"] != "labels"
    }
    assert values == {
        "textarea": {"text": ["two cities"]},
        "rating": {"rating": 4},
        "number": {"number": 3},
    }


def test_unsupported_tags_show_a_box_not_a_blank_page(browser_page):
    config = '<View><Header value="Look"/><Table name="tbl" value="$table"/><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>'
    project, tasks = project_with_tasks([{"text": "hello", "table": {"a": 1}}], label_config=config)
    login(browser_page, project.created_by)
    open_task(browser_page, project, tasks[0])
    box = browser_page.locator(".unsupported")
    assert box.count() == 1
    assert "not supported in this UI yet" in box.inner_text()
    assert browser_page.locator(".lv-text", has_text="hello").is_visible()
    screenshot(browser_page, "label-unsupported-tag")


XSS_TEXT = "Hi <script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2; alert('text')\"> there"


def test_scripts_in_text_labels_and_guidelines_render_as_text(browser_page, page_events):
    bad_label = "&lt;img src=x onerror=alert('label')&gt;"
    config = f"""<View><Header value="$title"/><Text name="text" value="$text"/><HyperText name="html" value="$html"/>
      <Labels name="label" toName="text"><Label value="{bad_label}" hotkey="x"/></Labels>
      <Choices name="c" toName="text"><Choice value="&lt;script&gt;alert('choice')&lt;/script&gt;"/></Choices></View>"""
    guidelines = (
        "Read <script>alert('guide')</script> and <img src=x onerror=alert('guide2')> **now**"
    )
    data = {
        "text": XSS_TEXT,
        # HyperText is rendered as HTML: sanitised on the server, checked again in the page.
        "html": "<p>ok</p><img src=x onerror=\"alert('html')\"><script>alert('h')</script>"
        "<p onclick=\"alert('p')\">click <a href=\"javascript:alert('a')\">link</a></p>"
        "<svg onload=\"alert('svg')\"></svg><iframe srcdoc=\"<script>alert('f')</script>\">"
        "</iframe><math><mi xlink:href=\"javascript:alert('m')\">m</mi></math>"
        "<style>p { display: none }</style><b style=\"background:url(javascript:alert('s'))\">"
        "bold</b>",
        "title": "<b onmouseover=alert(1)>title</b>",
    }
    project, (task,) = project_with_tasks(
        [data], label_config=config, expert_instruction=guidelines
    )
    login(browser_page, project.created_by)
    open_task(browser_page, project, task)
    browser_page.keyboard.press("ArrowRight")
    browser_page.keyboard.press("x")
    browser_page.wait_for_timeout(300)
    assert page_events.dialogs == []
    assert browser_page.evaluate("window.__xss") is None
    shown = "[...document.querySelector('.lv-text').querySelectorAll('.seg')].map(s => s.textContent).join('')"
    assert browser_page.evaluate(shown) == XSS_TEXT
    assert browser_page.get_by_text("<img src=x onerror=alert('label')>").first.is_visible()
    assert browser_page.get_by_text("<script>alert('choice')</script>").is_visible()
    assert browser_page.get_by_text("<b onmouseover=alert(1)>title</b>").is_visible()
    assert (
        browser_page.locator(".guidelines").inner_text().count("<script>alert('guide')</script>")
        == 1
    )
    assert browser_page.locator("img").count() == 0
    assert browser_page.locator(".lv-text .seg script").count() == 0
    html = browser_page.locator(".lv-hypertext-text")
    assert html.locator("p").count() == 2 and html.locator("b").inner_text() == "bold"
    assert html.locator("a").get_attribute("href") is None
    inert = "script, iframe, svg, math, style, img, [onclick], [onerror], [onload], [style]"
    assert html.locator(inert).count() == 0
    html.locator("a").click()
    html.locator("p", has_text="click").click()
    browser_page.wait_for_timeout(200)
    assert page_events.dialogs == [] and browser_page.evaluate("window.__xss") is None
    screenshot(browser_page, "label-xss-as-text")
