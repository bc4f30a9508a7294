"""Value checks for regions: text and HTML spans, paragraphs, audio ranges, image geometry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .itemcheck import ResultItem, is_int, is_number, is_str_list

# Percent coordinates go through float arithmetic in the browser.
EPSILON = 1e-6


def check_label_names(item: ResultItem) -> None:
    result_type = item.raw["type"]
    key = result_type if result_type in item.value else "labels"
    labels = item.value.get(key)
    if not is_str_list(labels) or not labels:
        item.problem(f"value.{key}", f"{key} must be a non-empty list of label names")
        return
    control = item.control
    if control.is_single and len(labels) != 1:
        item.problem(
            f"value.{key}", f"<{control.tag}> {control.name!r} allows one label per region"
        )
    if control.has_dynamic_labels:
        return
    known = control.label_values()
    unknown = [label for label in labels if label not in known]
    if unknown:
        item.problem(f"value.{key}", f"unknown labels for {control.name!r}: {', '.join(unknown)}")


# Spans and time ranges


def _check_text_span(item: ResultItem) -> None:
    start, end = item.offset("start"), item.offset("end")
    if start is None or end is None:
        return
    if end <= start:
        item.problem("value.end", f"end ({end}) must be greater than start ({start})")
        return
    text = item.object_data()
    if not isinstance(text, str):
        return
    # The LS frontend counts offsets in UTF-16 code units; Python counts code points. They only
    # differ past the Basic Multilingual Plane, and either counting is accepted there.
    utf16 = text.encode("utf-16-le") if any(ord(char) > 0xFFFF for char in text) else None
    limit = max(len(text), len(utf16) // 2) if utf16 else len(text)
    if end > limit:
        item.problem(
            "value.end", f"end ({end}) is past the end of the text ({len(text)} characters)"
        )
        return
    quoted = item.value.get("text")
    if quoted is None:
        return
    if not isinstance(quoted, str):
        item.problem("value.text", "text must be a string")
        return
    slices = {text[start:end]}
    if utf16:
        slices.add(utf16[2 * start : 2 * end].decode("utf-16-le", errors="replace"))
    if quoted not in slices:
        item.problem("value.text", f"text {quoted!r} does not match the text at {start}:{end}")


def _check_html_span(item: ResultItem) -> None:
    for key in ("start", "end"):
        bound = item.value.get(key)
        if not (isinstance(bound, str) and bound) and not (is_int(bound) and bound >= 0):
            item.problem(f"value.{key}", f"{key} must be an XPath string or a whole number >= 0")
    item.offset("startOffset")
    item.offset("endOffset")


def _paragraph_index(item: ResultItem, key: str) -> int | None:
    raw = item.value.get(key)
    # LS has written paragraph indexes both as numbers and as digit strings.
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 10:
        raw = int(raw)
    if not is_int(raw) or raw < 0:
        item.problem(f"value.{key}", f"{key} must be a paragraph index >= 0")
        return None
    return raw


def _check_paragraph_span(item: ResultItem) -> None:
    start, end = _paragraph_index(item, "start"), _paragraph_index(item, "end")
    start_offset, end_offset = item.offset("startOffset"), item.offset("endOffset")
    if start is None or end is None:
        return
    if end < start:
        item.problem("value.end", f"end paragraph ({end}) comes before start paragraph ({start})")
    elif (
        end == start
        and start_offset is not None
        and end_offset is not None
        and end_offset < start_offset
    ):
        item.problem("value.endOffset", "endOffset comes before startOffset in one paragraph")
    paragraphs = item.object_data()
    if isinstance(paragraphs, list) and end >= len(paragraphs):
        item.problem("value.end", f"paragraph {end} does not exist ({len(paragraphs)} paragraphs)")


def _check_time_range(item: ResultItem) -> None:
    start, end = item.number("start", low=0), item.number("end", low=0)
    if start is None or end is None:
        return
    if end < start:
        item.problem("value.end", f"end ({end}) must not be before start ({start})")
    length = item.raw.get("original_length")
    if is_number(length) and end > length + EPSILON:
        item.problem("value.end", f"end ({end}) is past the end of the clip ({length} s)")


_OBJECT_REGION_CHECKS: dict[str, Callable[[ResultItem], None]] = {
    "Text": _check_text_span,
    "HyperText": _check_html_span,
    "HTML": _check_html_span,
    "Paragraphs": _check_paragraph_span,
    "Audio": _check_time_range,
    "AudioPlus": _check_time_range,
}


def _check_labels_region(item: ResultItem) -> None:
    # Plain Labels produce a region whose shape depends on the object they label.
    checker = _OBJECT_REGION_CHECKS.get(item.obj.tag) if item.obj else None
    if checker is not None:
        checker(item)


# Image geometry, in percent of the image size


def _check_box(item: ResultItem) -> None:
    x, y = item.number("x", low=0, high=100), item.number("y", low=0, high=100)
    width, height = item.number("width", low=0), item.number("height", low=0)
    rotation = item.value.get("rotation", 0)
    if not is_number(rotation):
        item.problem("value.rotation", "rotation must be a number")
        return
    if rotation:
        return  # a rotated box's unrotated extent may legitimately cross the image edge
    if x is not None and width is not None and x + width > 100 + EPSILON:
        item.problem("value.width", f"x + width ({x + width:g}) is past the image edge (100)")
    if y is not None and height is not None and y + height > 100 + EPSILON:
        item.problem("value.height", f"y + height ({y + height:g}) is past the image edge (100)")


def _is_point(point: Any) -> bool:
    return (
        isinstance(point, list | tuple)
        and len(point) == 2
        and all(is_number(coord) and 0 <= coord <= 100 for coord in point)
    )


def _check_polygon(item: ResultItem) -> None:
    points = item.value.get("points")
    if not isinstance(points, list) or len(points) < 3:
        item.problem("value.points", "points must be a list of at least 3 [x, y] pairs")
        return
    for position, point in enumerate(points):
        if not _is_point(point):
            item.problem(
                f"value.points[{position}]", "point must be an [x, y] pair of numbers in 0-100"
            )


def _check_keypoint(item: ResultItem) -> None:
    item.number("x", low=0, high=100)
    item.number("y", low=0, high=100)
    if "width" in item.value:
        item.number("width", low=0)


REGION_CHECKS: dict[str, Callable[[ResultItem], None]] = {
    "labels": _check_labels_region,
    "hypertextlabels": _check_html_span,
    "paragraphlabels": _check_paragraph_span,
    "rectanglelabels": _check_box,
    "rectangle": _check_box,
    "polygonlabels": _check_polygon,
    "polygon": _check_polygon,
    "keypointlabels": _check_keypoint,
    "keypoint": _check_keypoint,
}
