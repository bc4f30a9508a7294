"""Generated LS full-format tasks shared by the exporter tests (this module holds no tests)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from projects.labelconfig import parse_config

TEXT_CONFIG = parse_config(
    """
<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="text">
    <Label value="PER"/><Label value="ORG"/><Label value="LOC"/>
  </Labels>
  <Choices name="sentiment" toName="text">
    <Choice value="positive"/><Choice value="negative"/><Choice value="neutral"/>
  </Choices>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="sport"/><Choice value="politics"/><Choice value="tech"/>
  </Choices>
  <TextArea name="comment" toName="text"/>
  <Rating name="stars" toName="text"/>
</View>
"""
)

IMAGE_CONFIG = parse_config(
    """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="dog"/><Label value="cat"/><Label value="bird"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image">
    <Label value="cat"/><Label value="tree"/>
  </PolygonLabels>
  <Choices name="quality" toName="image"><Choice value="good"/><Choice value="bad"/></Choices>
</View>
"""
)

WORDS = [
    "Alice", "Bob", "Paris", "Zürich", "São", "Paulo", "bank", "river", "went", "to", "the",
    "meets", "from", "Acme", "Corp", "and", "Łódź", "today", "report", "says", "über", "café",
]  # fmt: skip
PUNCTUATION = [",", ".", "!", "?", ";", "(", ")"]
TEXT_LABELS = ["PER", "ORG", "LOC"]


@dataclass(frozen=True)
class Spans:
    text: str
    spans: list[tuple[int, int, str]]  # (start, end, label), token aligned, no overlaps


def random_text(rng: random.Random, *, words: int = 12) -> Spans:
    """Words separated by spaces with some punctuation; spans cover runs of whole words."""
    pieces: list[str] = []
    word_offsets: list[tuple[int, int]] = []
    length = 0
    for _ in range(words):
        word = rng.choice(WORDS)
        start = length + (1 if pieces else 0)
        pieces.append((" " if pieces else "") + word)
        length = start + len(word)
        word_offsets.append((start, length))
        if rng.random() < 0.2:
            mark = rng.choice(PUNCTUATION)
            pieces.append(mark)
            length += len(mark)
    spans = []
    index = 0
    while index < len(word_offsets):
        if rng.random() < 0.3:
            run = rng.randint(1, 3)
            last = min(index + run, len(word_offsets)) - 1
            spans.append((word_offsets[index][0], word_offsets[last][1], rng.choice(TEXT_LABELS)))
            index = last + 2  # leave a gap so spans never touch
        else:
            index += 1
    return Spans("".join(pieces), spans)


def annotation(
    ann_id: int,
    result: list[dict[str, Any]],
    *,
    cancelled: bool = False,
    ground_truth: bool = False,
    completed_by: int | None = 7,
    task_id: int = 1,
) -> dict[str, Any]:
    return {
        "id": ann_id,
        "completed_by": completed_by,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": ground_truth,
        "lead_time": 12.5,
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-01T10:05:00Z",
        "task": task_id,
        "project": 1,
    }


def task(
    task_id: int,
    data: dict[str, Any],
    annotations: list[dict[str, Any]] | None = None,
    predictions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    annotations = annotations or []
    return {
        "id": task_id,
        "data": data,
        "meta": {},
        "created_at": "2024-05-01T09:00:00Z",
        "updated_at": "2024-05-01T09:00:00Z",
        "inner_id": task_id,
        "total_annotations": len(annotations),
        "annotations": annotations,
        "predictions": predictions or [],
    }


def span_item(text: str, start: int, end: int, label: str, name: str = "label") -> dict:
    return {
        "id": f"s{start}-{end}",
        "from_name": name,
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
    }


def choices_item(name: str, *choices: str, to_name: str = "text") -> dict:
    return {
        "from_name": name,
        "to_name": to_name,
        "type": "choices",
        "value": {"choices": list(choices)},
    }


def text_task(rng: random.Random, task_id: int) -> tuple[dict[str, Any], Spans]:
    spans = random_text(rng)
    result = [span_item(spans.text, *span) for span in spans.spans]
    result.append(choices_item("sentiment", rng.choice(["positive", "negative", "neutral"])))
    result.append(choices_item("topics", *rng.sample(["sport", "politics", "tech"], 2)))
    result.append(
        {
            "from_name": "comment",
            "to_name": "text",
            "type": "textarea",
            "value": {"text": [f"note {task_id}"]},
        }
    )
    result.append(
        {"from_name": "stars", "to_name": "text", "type": "rating", "value": {"rating": 4}}
    )
    return task(task_id, {"text": spans.text}, [annotation(task_id * 10, result)]), spans


def box_item(x: float, y: float, w: float, h: float, label: str, width: int, height: int) -> dict:
    return {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def polygon_item(points: list[list[float]], label: str, width: int, height: int) -> dict:
    return {
        "from_name": "poly",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": width,
        "original_height": height,
        "value": {"points": points, "polygonlabels": [label]},
    }


def image_task(rng: random.Random, task_id: int, *, polygons: bool = True) -> dict[str, Any]:
    width, height = rng.randint(200, 1600), rng.randint(200, 1200)
    result = []
    for _ in range(rng.randint(1, 4)):
        x, y = rng.uniform(0, 80), rng.uniform(0, 80)
        w, h = rng.uniform(1, 100 - x), rng.uniform(1, 100 - y)
        result.append(box_item(x, y, w, h, rng.choice(["dog", "cat", "bird"]), width, height))
    if polygons:
        points = [[rng.uniform(0, 100), rng.uniform(0, 100)] for _ in range(rng.randint(3, 6))]
        result.append(polygon_item(points, rng.choice(["cat", "tree"]), width, height))
    result.append(choices_item("quality", "good", to_name="image"))
    data = {"image": f"/data/upload/1/img-{task_id}.jpg"}
    return task(task_id, data, [annotation(task_id * 10, result, task_id=task_id)])
