"""Keyboard scenarios of the labelling page on the demo intent + entity project, shared by
bench/ui_bench.py (figures) and tests/ui/test_label_demo.py (keystroke and size budgets).

The demo is generated from a seed, so the truth of every utterance is known: a task is
matched to its utterance by text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


# The page's keyboard stops (static/label/tags/textspans.js), ported: which span each Down
# press selects. Offsets agree with JavaScript's for the demo (no character beyond the BMP).
_LEADING = re.compile(r"^[\"'«(\[¿¡]+")
_TRAILING = re.compile(r"[\"'»)\].,!?;:…]+$")
_SENTENCE_END = re.compile(r"([.!?]\s*|\n\s*)$")
Span = tuple[int, int]


def _tokens(text: str) -> list[Span]:
    tokens = []
    for match in re.finditer(r"\S+", text):
        start, end = match.start(), match.end()
        lead = _LEADING.match(match.group())
        if lead and len(lead.group()) < len(match.group()):
            start += len(lead.group())
        trail = _TRAILING.search(text[start:end])
        if trail and len(trail.group()) < end - start:
            end -= len(trail.group())
        tokens.append((start, end))
    return tokens


def _entity_like(text: str, tokens: list[Span], index: int) -> bool:
    word = text[tokens[index][0] : tokens[index][1]]
    if _MARKED.search(word) or (len(word) >= 2 and all(c.isupper() for c in word)):
        return True
    initial = index == 0 or bool(
        _SENTENCE_END.search(text[tokens[index - 1][0] : tokens[index][0]])
    )
    return word[:1].isupper() and word != "I" and not initial


def _runs(text: str, tokens: list[Span]) -> list[Span]:
    runs: list[list[int]] = []
    for index, (start, end) in enumerate(tokens):
        if not _entity_like(text, tokens, index):
            continue
        if runs and runs[-1][2] == index - 1 and text[runs[-1][1] : start] == " ":
            runs[-1][1:] = [end, index]
        else:
            runs.append([start, end, index])
    return [(r[0], r[1]) for r in runs]


def _occurrences(text: str, needle: str) -> list[Span]:
    found = []
    at = text.find(needle) if needle else -1
    while at != -1:
        before = text[at - 1] if at else ""
        after = text[at + len(needle) : at + len(needle) + 1]
        if not before.isalnum() and not after.isalnum():
            found.append((at, at + len(needle)))
        at = text.find(needle, at + 1)
    return found


def keyboard_stops(
    text: str, phrases: Sequence[str] = (), spans: Sequence[Span] = ()
) -> list[Span]:
    """What Down selects, press after press: entity-like runs, known phrases, predicted spans."""
    every = set(_runs(text, _tokens(text))) | set(spans)
    for phrase in phrases:
        every.update(_occurrences(text, phrase))
    return sorted(every, key=lambda s: (s[0], -s[1]))


def downs_to(u: DemoUtterance, phrases: Sequence[str] = ()) -> int | None:
    """Down presses that select the utterance's first entity (None: Down never does)."""
    entity = (u.entities[0].start, u.entities[0].end)
    stops = keyboard_stops(u.text, phrases)
    return stops.index(entity) + 1 if entity in stops else None


def multiword_lowercase(u: DemoUtterance) -> bool:
    """The entity is a phrase of several words without capital or digit ("yoga mat")."""
    words = u.text[u.entities[0].start : u.entities[0].end].split()
    return len(words) > 1 and not any(_MARKED.search(w) or w[:1].isupper() for w in words)


def pick_scratch(
    tasks: list[dict[str, Any]],
    truth: dict[str, DemoUtterance],
    known: Callable[[dict[str, Any]], Sequence[str]] = lambda _task: (),
    *,
    phrase: bool = False,
) -> dict[str, Any]:
    """An unlabelled task without prediction whose utterance has one entity that Down selects
    within two presses (``known(task)``: the phrases the project knows in it, as the page
    does); with ``phrase``, one whose entity is a multi-word lowercase phrase."""
    for task in tasks:
        u = truth.get(task["data"]["text"])
        if u is None or task["predictions"] or task["annotations"] or len(u.entities) != 1:
            continue
        if phrase and not multiword_lowercase(u):
            continue
        downs = downs_to(u, known(task))
        if downs is not None and downs <= 2:
            task["known_phrases"] = list(known(task))
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


def scratch_keys(
    u: DemoUtterance, hotkeys: dict[str, str], phrases: Sequence[str] = ()
) -> list[str]:
    """Keys that label the utterance's entity and intent from nothing, then submit."""
    downs = downs_to(u, phrases)
    if downs is None:
        raise ValueError(f"Down never selects the entity of {u.text!r}")
    return ["ArrowDown"] * downs + [hotkeys[u.entities[0].label], hotkeys[u.intent], "Enter"]


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
    "downs_to",
    "keyboard_stops",
    "matches",
    "multiword_lowercase",
    "pick_accept",
    "pick_scratch",
    "result_truth",
    "scratch_keys",
]
