"""How close an answer is to the expected (ground-truth) result: the certification score.

The rule, per control (``from_name``) present in either result:

- spans (items whose value has ``start`` and ``end``: text, hypertext, audio regions):
  F1 of the sets of (start, end, label) triples, so a missed entity, an extra one, a wrong
  boundary or a wrong label each cost;
- everything else (choices, taxonomy, rating, number, textarea, boxes...): exact match of
  the control's values (order of items and of choices ignored; ids and scores ignored): 1 or 0.

The task's score is the mean over those controls; two empty results score 1. Relations are
not scored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

# Keys of a value that describe the item rather than the answer.
_IGNORED_VALUE_KEYS = frozenset({"text", "score"})


def _label_of(item: dict[str, Any], value: dict[str, Any]) -> str:
    labels = value.get(str(item.get("type", ""))) or value.get("labels") or []
    return "|".join(sorted(str(label) for label in labels)) if isinstance(labels, list) else ""


def _is_span(value: dict[str, Any]) -> bool:
    return "start" in value and "end" in value


def _by_control(result: Any) -> dict[str, list[dict[str, Any]]]:
    controls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict) or item.get("type") == "relation":
            continue
        value = item.get("value")
        if isinstance(value, dict) and isinstance(item.get("from_name"), str):
            controls[item["from_name"]].append(item)
    return controls


def _span_f1(expected: list[dict[str, Any]], answer: list[dict[str, Any]]) -> float:
    def triples(items: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {
            (
                json.dumps(i["value"]["start"]),
                json.dumps(i["value"]["end"]),
                _label_of(i, i["value"]),
            )
            for i in items
        }

    want, got = triples(expected), triples(answer)
    if not want and not got:
        return 1.0
    return 2 * len(want & got) / (len(want) + len(got))


def _canonical(items: list[dict[str, Any]]) -> list[str]:
    out = []
    for item in items:
        value = {k: v for k, v in item["value"].items() if k not in _IGNORED_VALUE_KEYS}
        for key in ("choices", item.get("type")):
            if isinstance(key, str) and isinstance(value.get(key), list):
                value[key] = sorted(json.dumps(v, sort_keys=True) for v in value[key])
        out.append(json.dumps(value, sort_keys=True))
    return sorted(out)


def result_accuracy(*, expected: Any, answer: Any) -> float:
    """The score of ``answer`` against ``expected`` in [0, 1] (see the module docstring)."""
    want, got = _by_control(expected), _by_control(answer)
    controls = set(want) | set(got)
    if not controls:
        return 1.0
    scores = []
    for name in sorted(controls):
        e, a = want.get(name, []), got.get(name, [])
        if any(_is_span(i["value"]) for i in e + a):
            scores.append(_span_f1(e, a))
        else:
            scores.append(1.0 if _canonical(e) == _canonical(a) else 0.0)
    return sum(scores) / len(scores)
