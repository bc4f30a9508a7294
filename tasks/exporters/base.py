"""What every export format shares: errors, options, which annotation speaks for a task, chunking."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

# Big enough that a streaming HTTP response is not a syscall per task, small enough to stay flat.
CHUNK_SIZE = 64 * 1024

Task = dict[str, Any]
Annotation = dict[str, Any]
ResultItem = dict[str, Any]


class ExportError(ValueError):
    """The export cannot be produced: unknown format, or a format that does not fit the config."""


@dataclass(frozen=True)
class ExportOptions:
    # Which tasks take part (e.g. only annotated ones) is the caller's database filter; this
    # hook only narrows the annotations considered, e.g. to one annotator's work.
    annotation_filter: Callable[[Annotation], bool] | None = None


def usable_annotations(task: Task, options: ExportOptions) -> list[Annotation]:
    """The task's annotations that were not cancelled (skipped) and pass the filter, in order."""
    keep = options.annotation_filter
    return [
        annotation
        for annotation in task.get("annotations") or []
        if not annotation.get("was_cancelled") and (keep is None or keep(annotation))
    ]


def pick_annotation(task: Task, options: ExportOptions) -> Annotation | None:
    """The one annotation single-label formats export for a task.

    The first usable ground-truth annotation if there is one, else the first usable one; None
    when the task has no usable annotation. "First" is the order the caller supplies (the
    database's order), so the choice is stable between exports.
    """
    usable = usable_annotations(task, options)
    for annotation in usable:
        if annotation.get("ground_truth"):
            return annotation
    return usable[0] if usable else None


def result_items(annotation: Annotation, from_names: Iterable[str]) -> list[ResultItem]:
    names = set(from_names)
    return [item for item in annotation.get("result") or [] if item.get("from_name") in names]


def item_label(item: ResultItem) -> str | None:
    """The first label of a region (`value.labels`, `value.rectanglelabels`, ...)."""
    labels = (item.get("value") or {}).get(item.get("type") or "")
    if isinstance(labels, list) and labels and isinstance(labels[0], str):
        return labels[0]
    return None


def data_value(data: dict[str, Any], field: str | None) -> Any:
    """Follow a config's `$a.b` reference (stored as "a.b") into task data; None when absent."""
    value: Any = data
    for part in (field or "").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def file_name(url: Any, fallback: str) -> str:
    """The basename of an image URL: `/data/upload/1/cat.jpg`, `s3://b/cat.jpg`, `?d=dir/cat.jpg`."""
    if not isinstance(url, str) or url.startswith("data:"):
        return fallback
    parsed = urlparse(url)
    name = posixpath.basename(unquote(parsed.path))
    if not name:
        # LS serves local storage as /data/local-files/?d=<path>.
        local = parse_qs(parsed.query).get("d")
        name = posixpath.basename(local[0]) if local else ""
    return name or fallback


def coalesce(pieces: Iterable[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Join small pieces into chunks of about `size` bytes, never holding more than one chunk."""
    buffer: list[bytes] = []
    buffered = 0
    for piece in pieces:
        buffer.append(piece)
        buffered += len(piece)
        if buffered >= size:
            yield b"".join(buffer)
            buffer.clear()
            buffered = 0
    if buffer:
        yield b"".join(buffer)


class RawJSON(str):
    """JSON text of a value, read as text from the database: the JSON exporter writes it
    verbatim instead of parsing and re-encoding every task's data."""

    __slots__ = ()
