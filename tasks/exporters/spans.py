"""Text formats: CoNLL 2003 BIO tags and Hugging Face JSON Lines, plus what they share.

Spans come from every Labels control on the exported Text object. BIO tagging allows one tag per
token, so overlapping spans are resolved first: the earliest-starting span wins, and of spans
starting together the longest (outermost) one; spans overlapping a kept one are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from projects.labelconfig import ControlTag, LabelConfig, ObjectTag

from .base import (
    Annotation,
    ExportOptions,
    Task,
    data_value,
    item_label,
    pick_annotation,
    result_items,
)

TOKEN_RE = re.compile(r"\w+|[^\w\s]")
DOCSTART = "-DOCSTART- -X- O"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TextSource:
    """Which Text object a text format reads, and the controls labelling it."""

    obj: ObjectTag
    span_controls: list[str]
    choice_controls: list[ControlTag]


def text_source(config: LabelConfig, *, need_spans: bool) -> TextSource | None:
    """The first Text object with a Labels control (or, unless `need_spans`, with Choices)."""
    candidates: list[TextSource] = []
    for obj in config.objects.values():
        if obj.tag != "Text":
            continue
        controls = config.controls_for(obj.name)
        source = TextSource(
            obj,
            [control.name for control in controls if control.tag == "Labels"],
            [control for control in controls if control.tag == "Choices"],
        )
        if source.span_controls:
            return source
        if source.choice_controls and not need_spans:
            candidates.append(source)
    return candidates[0] if candidates else None


def task_text(task: Task, source: TextSource) -> str | None:
    text = data_value(task.get("data") or {}, source.obj.value_field)
    return text if isinstance(text, str) else None


def spans_of(annotation: Annotation, source: TextSource, text: str) -> list[Span]:
    """All labelled spans on the source object, in start order (overlaps included)."""
    spans = []
    for item in result_items(annotation, source.span_controls):
        value = item.get("value") or {}
        start, end, label = value.get("start"), value.get("end"), item_label(item)
        if item.get("to_name") != source.obj.name or label is None:
            continue
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        end = min(end, len(text))
        if 0 <= start < end:
            spans.append(Span(start, end, label, text[start:end]))
    spans.sort(key=lambda span: (span.start, -span.end))
    return spans


def without_overlaps(spans: list[Span]) -> list[Span]:
    """Keep the earliest-starting (then outermost) span of every overlapping group."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def tokenize(text: str) -> list[Token]:
    return [Token(match.group(), match.start(), match.end()) for match in TOKEN_RE.finditer(text)]


def bio_tags(tokens: list[Token], spans: list[Span]) -> list[str]:
    """BIO tags; a token partly inside a span belongs to it (spans expand to whole tokens)."""
    tags = ["O"] * len(tokens)
    index = 0
    for span in without_overlaps(spans):
        while index < len(tokens) and tokens[index].end <= span.start:
            index += 1
        prefix = "B-"
        while index < len(tokens) and tokens[index].start < span.end:
            tags[index] = prefix + span.label
            prefix = "I-"
            index += 1
    return tags


@dataclass(frozen=True)
class LabelledText:
    task: Task
    annotation: Annotation
    text: str
    spans: list[Span]


def labelled_texts(
    tasks: Iterable[Task], source: TextSource, options: ExportOptions
) -> Iterator[LabelledText]:
    """Tasks with a usable annotation and text; the rest are skipped by every text format."""
    for task in tasks:
        annotation = pick_annotation(task, options)
        text = task_text(task, source)
        if annotation is None or text is None:
            continue
        yield LabelledText(task, annotation, text, spans_of(annotation, source, text))


def write_conll(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    source = text_source(config, need_spans=True)
    assert source is not None  # export_stream checked the config
    # LS's layout: one DOCSTART line, then each task's tokens followed by a blank line.
    yield (DOCSTART + "\n\n").encode()
    for labelled in labelled_texts(tasks, source, options):
        tokens = tokenize(labelled.text)
        if not tokens:
            continue
        tags = bio_tags(tokens, labelled.spans)
        lines = [f"{token.text} -X- _ {tag}\n" for token, tag in zip(tokens, tags, strict=True)]
        yield ("".join(lines) + "\n").encode()


def read_conll(text: str) -> list[tuple[list[str], list[str]]]:
    """Parse CoNLL 2003 text into (tokens, tags) per sentence; the tag is the last column."""
    sentences: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
            tokens, tags = [], []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        columns = line.split()
        tokens.append(columns[0])
        tags.append(columns[-1])
    return sentences


def _choices_value(control: ControlTag, annotation: Annotation) -> Any:
    chosen = [
        choice
        for item in result_items(annotation, [control.name])
        for choice in (item.get("value") or {}).get("choices") or []
    ]
    # Fixed types per key so `datasets` infers one schema: str|None or list[str].
    if control.is_single:
        return chosen[0] if chosen else None
    return chosen


def hf_record(labelled: LabelledText, source: TextSource) -> dict[str, Any]:
    record: dict[str, Any] = {"id": labelled.task.get("id"), "text": labelled.text}
    for control in source.choice_controls:
        record[control.name] = _choices_value(control, labelled.annotation)
    for name in source.span_controls:
        annotation = {"result": result_items(labelled.annotation, [name])}
        record[name] = [
            {"start": span.start, "end": span.end, "label": span.label, "text": span.text}
            for span in spans_of(annotation, source, labelled.text)
        ]
    if source.span_controls:
        tokens = tokenize(labelled.text)
        record["tokens"] = [token.text for token in tokens]
        record["ner_tags"] = bio_tags(tokens, labelled.spans)
    return record


def write_hf_jsonl(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    source = text_source(config, need_spans=False)
    assert source is not None  # export_stream checked the config
    for labelled in labelled_texts(tasks, source, options):
        line = json.dumps(hf_record(labelled, source), ensure_ascii=False)
        yield (line + "\n").encode()
