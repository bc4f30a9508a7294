"""Keyboard scenarios of the labelling page on the demo intent + entity project, shared by
bench/ui_bench.py (figures) and tests/ui/test_label_demo.py (keystroke and size budgets).

The demo is generated from a seed, so the truth of every utterance is known: a task is
matched to its utterance by text.
"""

from __future__ import annotations

import re
from typing import Any

from annotator.demo import DemoUtterance

ACCEPT_KEYS = ("Control+Enter",)
# Everything loaded as JavaScript by the page so far (modules load on demand).
JS_BYTES = (
    "performance.getEntriesByType('resource')"
    ".filter(r => r.name.split('?')[0].endsWith('.js'))"
    ".reduce((n, r) => n + (r.decodedBodySize || r.transferSize || 0), 0)"
)
_MARKED = re.compile(r"\d|[$€£¥#@]")


def _truth(u: DemoUtterance) -> tuple[str, list[tuple[int, int, str]]]:
    return u.intent, sorted((e.start, e.end, e.label) for e in u.entities)


def result_truth(result: list[dict[str, Any]]) -> tuple[str | None, list[tuple[int, int, str]]]:
    intent = next((i["value"]["choices"][0] for i in result if i.get("type") == "choices"), None)
    spans = sorted(
        (i["value"]["start"], i["value"]["end"], i["value"]["labels"][0])
        for i in result
        if i.get("type") == "labels"
    )
    return intent, spans


def matches(result: list[dict[str, Any]], u: DemoUtterance) -> bool:
    return result_truth(result) == _truth(u)


def _first_candidate_is(u: DemoUtterance, start: int, end: int) -> bool:
    """Whether the page's Down key (next entity-like token) lands on text[start:end]: no
    earlier token looks like an entity, and the run of entity-like tokens ends there."""
    words = u.text[:start].split()
    for index, word in enumerate(words):
        initial = index == 0 or words[index - 1][-1:] in ".!?"
        if _MARKED.search(word) or (word[:1].isupper() and word != "I" and not initial):
            return False
        if len(word) >= 2 and word.isupper():
            return False
    after = u.text[end:].split(" ", 2)
    following = after[1] if len(after) > 1 and after[0] == "" else ""
    return not (_MARKED.search(following) or following[:1].isupper())


def pick_scratch(tasks: list[dict[str, Any]], truth: dict[str, DemoUtterance]) -> dict[str, Any]:
    """An unlabelled task without prediction whose utterance has one entity that the Down
    key reaches first."""
    for task in tasks:
        u = truth.get(task["data"]["text"])
        if u is None or task["predictions"] or task["annotations"] or len(u.entities) != 1:
            continue
        entity = u.entities[0]
        if _first_candidate_is(u, entity.start, entity.end):
            return task
    raise LookupError("no demo task fits the from-scratch scenario")


def config_hotkeys(schema: dict[str, Any]) -> dict[str, str]:
    """Option value -> hotkey, over every control of a parsed config (``to_dict()``)."""
    return {
        label["value"]: label["hotkey"]
        for control in schema["controls"]
        for label in control["labels"]
        if label.get("hotkey")
    }


def scratch_keys(u: DemoUtterance, hotkeys: dict[str, str]) -> list[str]:
    """Keys that label the utterance's entity and intent from nothing, then submit."""
    return ["ArrowDown", hotkeys[u.entities[0].label], hotkeys[u.intent], "Enter"]


def pick_accept(tasks: list[dict[str, Any]], truth: dict[str, DemoUtterance]) -> dict[str, Any]:
    """A task whose (newest) prediction is exactly right."""
    for task in tasks:
        u = truth.get(task["data"]["text"])
        if u is not None and task["predictions"] and matches(task["predictions"][-1], u):
            return task
    raise LookupError("no demo task has a correct prediction")


__all__ = [
    "ACCEPT_KEYS",
    "JS_BYTES",
    "config_hotkeys",
    "matches",
    "pick_accept",
    "pick_scratch",
    "result_truth",
    "scratch_keys",
]
