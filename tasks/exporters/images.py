"""Image regions for the detection formats, and COCO.

LS stores regions in percent of the image (0-100) and records the image's pixel size on each
result item (`original_width`/`original_height`). Regions here stay in percent, with rotation
already applied, and each format scales them by the size it needs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import Any

from projects.labelconfig import LabelConfig, ObjectTag

from .base import (
    CHUNK_SIZE,
    Annotation,
    ExportOptions,
    ResultItem,
    Task,
    data_value,
    file_name,
    item_label,
    pick_annotation,
    result_items,
)

BOX_TAGS = ("RectangleLabels",)
SHAPE_TAGS = ("RectangleLabels", "PolygonLabels")
# COCO's annotations wait on disk past this size while the images array streams out.
_SPOOL_BYTES = 8 * 1024 * 1024

Point = tuple[float, float]


@dataclass(frozen=True)
class ImageSource:
    objects: dict[str, ObjectTag]
    controls: list[str]
    labels: list[str]


def image_source(config: LabelConfig, tags: tuple[str, ...]) -> ImageSource | None:
    """The Image objects labelled by controls of `tags`, or None when the config has none."""
    objects: dict[str, ObjectTag] = {}
    controls: list[str] = []
    labels: set[str] = set()
    for control in config.controls.values():
        images = [
            config.objects[name]
            for name in control.to_name
            if name in config.objects and config.objects[name].tag == "Image"
        ]
        if control.tag not in tags or not images:
            continue
        controls.append(control.name)
        objects.update((obj.name, obj) for obj in images)
        labels.update(label.alias or label.value for label in control.labels)
    if not controls:
        return None
    # Sorted like LS's converter, so category ids match an LS export of the same config.
    return ImageSource(objects, controls, sorted(labels))


class Categories:
    """Label -> id, 0-based in the given order; labels found only in results get the next ids."""

    def __init__(self, labels: list[str]) -> None:
        self.ids = {label: index for index, label in enumerate(labels)}

    def id_for(self, label: str) -> int:
        return self.ids.setdefault(label, len(self.ids))

    def as_list(self) -> list[dict[str, Any]]:
        return [{"id": index, "name": label} for label, index in self.ids.items()]


@dataclass(frozen=True)
class Region:
    label: str
    kind: str  # "rectangle" | "polygon"
    points: list[Point]  # percent of the image, rotation applied

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in percent, clamped to the image."""
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return (
            max(0.0, min(xs)),
            max(0.0, min(ys)),
            min(100.0, max(xs)),
            min(100.0, max(ys)),
        )


@dataclass
class LabelledImage:
    task: Task
    annotation: Annotation
    obj: ObjectTag
    file_name: str
    width: int | None
    height: int | None
    regions: list[Region] = field(default_factory=list)

    def pixels(self, x: float, y: float) -> Point:
        assert self.width is not None and self.height is not None
        return x / 100 * self.width, y / 100 * self.height


def _rectangle(value: dict[str, Any], width: float, height: float) -> list[Point] | None:
    try:
        x, y = float(value["x"]), float(value["y"])
        w, h = float(value["width"]), float(value["height"])
    except (KeyError, TypeError, ValueError):
        return None
    angle = math.radians(float(value.get("rotation") or 0))
    if not angle:
        return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    # LS rotates clockwise about the top-left corner in pixel space; percent units are not
    # square, so rotate in pixels and convert back.
    px, py, pw, ph = x * width / 100, y * height / 100, w * width / 100, h * height / 100
    cos, sin = math.cos(angle), math.sin(angle)
    corners = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)]
    return [
        ((px + dx * cos - dy * sin) * 100 / width, (py + dx * sin + dy * cos) * 100 / height)
        for dx, dy in corners
    ]


def _polygon(value: dict[str, Any]) -> list[Point] | None:
    try:
        points = [(float(x), float(y)) for x, y in value.get("points") or []]
    except (TypeError, ValueError):
        return None
    return points if len(points) >= 3 else None


def _region(item: ResultItem, width: float, height: float) -> Region | None:
    label = item_label(item)
    value = item.get("value") or {}
    if label is None:
        return None
    if "points" in value:
        points = _polygon(value)
        return Region(label, "polygon", points) if points else None
    points = _rectangle(value, width, height)
    return Region(label, "rectangle", points) if points else None


def _size(items: list[ResultItem]) -> tuple[int | None, int | None]:
    for item in items:
        width, height = item.get("original_width"), item.get("original_height")
        if isinstance(width, int | float) and isinstance(height, int | float) and width and height:
            return int(width), int(height)
    return None, None


def labelled_images(
    tasks: Iterable[Task], source: ImageSource, options: ExportOptions
) -> Iterator[LabelledImage]:
    """One entry per (annotated task, Image object); tasks without a usable annotation are skipped.

    An annotation with no regions still yields its images: an explicit negative example. Their
    size is unknown then (it only travels on result items), which COCO and VOC must skip.
    """
    for task in tasks:
        annotation = pick_annotation(task, options)
        if annotation is None:
            continue
        items = result_items(annotation, source.controls)
        for obj in source.objects.values():
            own = [item for item in items if item.get("to_name") == obj.name]
            width, height = _size(own)
            url = data_value(task.get("data") or {}, obj.value_field)
            name = file_name(url, f"task-{task.get('id')}")
            regions = [_region(item, width or 100, height or 100) for item in own]
            found = [region for region in regions if region is not None]
            yield LabelledImage(task, annotation, obj, name, width, height, found)


def polygon_area(points: list[Point]) -> float:
    twice = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    )
    return abs(twice) / 2


def coco_annotation(
    image: LabelledImage, region: Region, *, ann_id: int, image_id: int, category_id: int
) -> dict[str, Any]:
    x0, y0, x1, y1 = region.bounds()
    left, top = image.pixels(x0, y0)
    right, bottom = image.pixels(x1, y1)
    pixels = [image.pixels(x, y) for x, y in region.points]
    polygon = region.kind == "polygon"
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": [[c for point in pixels for c in point]] if polygon else [],
        "bbox": [left, top, right - left, bottom - top],
        "ignore": 0,
        "iscrowd": 0,
        "area": polygon_area(pixels) if polygon else (right - left) * (bottom - top),
    }


def export_info(**counts: int) -> dict[str, Any]:
    now = datetime.now(tz=UTC)
    return {
        "year": now.year,
        "version": "1.0",
        "description": "",
        "contributor": "Annotator",
        "url": "",
        "date_created": now.isoformat(),
        **counts,
    }


def write_coco(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    """One JSON object, streamed: images go out as they come while annotations wait in a spool.

    Image and annotation ids start at 1 because pycocotools' evaluator reads id 0 as "no match".
    """
    source = image_source(config, SHAPE_TAGS)
    assert source is not None  # export_stream checked the config
    categories = Categories(source.labels)
    image_count = ann_count = without_size = 0
    with SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        yield b'{"images": ['
        for image in labelled_images(tasks, source, options):
            if image.width is None or image.height is None:
                without_size += 1
                continue
            image_count += 1
            entry = {
                "id": image_count,
                "file_name": image.file_name,
                "width": image.width,
                "height": image.height,
            }
            yield (b"," if image_count > 1 else b"") + json.dumps(entry).encode()
            for region in image.regions:
                ann_count += 1
                annotation = coco_annotation(
                    image,
                    region,
                    ann_id=ann_count,
                    image_id=image_count,
                    category_id=categories.id_for(region.label),
                )
                spool.write((b"," if ann_count > 1 else b"") + json.dumps(annotation).encode())
        yield b'], "annotations": ['
        spool.seek(0)
        while chunk := spool.read(CHUNK_SIZE):
            yield chunk
    info = export_info(skipped_images_without_size=without_size)
    tail = {"categories": categories.as_list(), "info": info}
    # Splice the last two keys into the open object.
    yield b"], " + json.dumps(tail).encode()[1:]
