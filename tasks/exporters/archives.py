"""ZIP formats: YOLO label files and Pascal VOC XML, one file per image.

The ZIP is written to a sink that is drained after every entry, so bytes leave as soon as an
image is done and nothing is buffered whole. zipfile handles the unseekable sink by writing data
descriptors. It keeps its central directory (~a few hundred bytes per entry) until the end, and
file names are deduplicated with a set: memory grows slowly with the image count, not the data.
"""

from __future__ import annotations

import json
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from projects.labelconfig import LabelConfig

from .base import ExportOptions, Task
from .images import BOX_TAGS, Categories, LabelledImage, export_info, image_source, labelled_images


class _Sink:
    """A write-only file for zipfile that hands the written bytes over on demand."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class _Names:
    """Unique entry names: a second `cat.jpg` becomes `cat_<task id>`, then `cat_<id>_2`..."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def unique(self, image: LabelledImage) -> str:
        task_id = image.task.get("id")
        stem = posixpath.splitext(image.file_name)[0] or f"task-{task_id}"
        candidate = stem if stem not in self.used else f"{stem}_{task_id}"
        attempt = 2
        while candidate in self.used:
            candidate = f"{stem}_{task_id}_{attempt}"
            attempt += 1
        self.used.add(candidate)
        return candidate


def _zip_stream(entries: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
            if chunk := sink.drain():
                yield chunk
    yield sink.drain()


def _number(value: float) -> str:
    # repr keeps every digit, so a consumer reconstructs the box exactly.
    return repr(float(value))


def yolo_lines(image: LabelledImage, categories: Categories) -> str:
    """`class cx cy w h`, normalised to 0-1, one line per box."""
    lines = []
    for region in image.regions:
        x0, y0, x1, y1 = region.bounds()
        cx, cy, w, h = (x0 + x1) / 200, (y0 + y1) / 200, (x1 - x0) / 100, (y1 - y0) / 100
        numbers = " ".join(_number(n) for n in (cx, cy, w, h))
        lines.append(f"{categories.id_for(region.label)} {numbers}\n")
    return "".join(lines)


def write_yolo(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    source = image_source(config, BOX_TAGS)
    assert source is not None  # export_stream checked the config
    categories = Categories(source.labels)
    names = _Names()

    def entries() -> Iterator[tuple[str, bytes]]:
        images = 0
        for image in labelled_images(tasks, source, options):
            images += 1
            # An empty file marks a background image, as YOLO trainers expect.
            text = yolo_lines(image, categories)
            yield f"labels/{names.unique(image)}.txt", text.encode()
        # Written last: labels found only in results extend the class list while streaming.
        classes = "".join(f"{item['name']}\n" for item in categories.as_list())
        yield "classes.txt", classes.encode()
        notes = {"categories": categories.as_list(), "info": export_info(images=images)}
        yield "notes.json", json.dumps(notes, indent=2).encode()

    return _zip_stream(entries())


def _child(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def voc_xml(image: LabelledImage) -> bytes:
    assert image.width is not None and image.height is not None
    root = ET.Element("annotation")
    _child(root, "folder", "images")
    _child(root, "filename", image.file_name)
    source = _child(root, "source")
    _child(source, "database", "Annotator")
    _child(source, "annotator", image.annotation.get("completed_by") or "")
    size = _child(root, "size")
    _child(size, "width", image.width)
    _child(size, "height", image.height)
    # Channels would need the image itself; 3 (RGB) is what LS writes when it cannot tell.
    _child(size, "depth", 3)
    _child(root, "segmented", 0)
    for region in image.regions:
        x0, y0, x1, y1 = region.bounds()
        left, top = image.pixels(x0, y0)
        right, bottom = image.pixels(x1, y1)
        obj = _child(root, "object")
        _child(obj, "name", region.label)
        _child(obj, "pose", "Unspecified")
        _child(obj, "truncated", 0)
        _child(obj, "difficult", 0)
        box = _child(obj, "bndbox")
        for tag, value in (("xmin", left), ("ymin", top), ("xmax", right), ("ymax", bottom)):
            _child(box, tag, round(value))
    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def write_voc(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    """`Annotations/<image stem>.xml` per image; images of unknown size are skipped."""
    source = image_source(config, BOX_TAGS)
    assert source is not None  # export_stream checked the config
    names = _Names()
    entries = (
        (f"Annotations/{names.unique(image)}.xml", voc_xml(image))
        for image in labelled_images(tasks, source, options)
        if image.width is not None
    )
    return _zip_stream(entries)
