"""Synthetic PNG scenes (cars, trees, houses, suns) with their bounding boxes.

Each image is a sky/ground gradient with noise and 1-4 flat-coloured objects drawn with
Pillow. Boxes are the exact pixel extent of what was drawn, in percent of the image as Label
Studio stores them.
"""

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from annotator.demo.labelstudio import config_xml, label_elements, stable_id

BOX_LABELS: tuple[str, ...] = ("car", "tree", "house", "sun")
_LABEL_STYLE: dict[str, tuple[str, str]] = {
    "car": ("#e15759", "c"),
    "tree": ("#59a14f", "t"),
    "house": ("#f28e2b", "h"),
    "sun": ("#edc948", "s"),
}
# Objects may touch but not hide each other, so every box shows its own object.
_MAX_IOU = 0.1
_PLACEMENT_ATTEMPTS = 30
# Minimum L1 distance (over RGB) between a part and the background under it.
_MIN_CONTRAST = 100

RGB = tuple[int, int, int]
_SKIES: tuple[RGB, ...] = ((90, 150, 220), (150, 190, 235), (235, 170, 120), (60, 80, 140))
_GROUNDS: tuple[RGB, ...] = ((70, 140, 60), (150, 120, 80), (120, 120, 120), (200, 190, 150))


class BoundingBox(NamedTuple):
    """A box in percent of the image size (0-100), as Label Studio's rectanglelabels."""

    label: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class DemoImage:
    path: Path
    width: int
    height: int
    boxes: list[BoundingBox]


class _Shape(NamedTuple):
    kind: str  # "rectangle", "ellipse" or "polygon"
    points: list[tuple[int, int]]  # corners of the bounding rectangle, or the polygon
    color: RGB


def generate_box_images(
    n: int, out_dir: Path, *, seed: int = 0, size: tuple[int, int] = (640, 480)
) -> list[DemoImage]:
    """Write `n` PNGs named `demo_boxes_NNNN.png` into `out_dir` and describe their boxes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    return [_draw_image(out_dir / f"demo_boxes_{i:04d}.png", size, rng) for i in range(n)]


def _draw_image(path: Path, size: tuple[int, int], rng: np.random.Generator) -> DemoImage:
    width, height = size
    horizon = int(height * rng.uniform(0.62, 0.78))
    pixels = _background(width, height, horizon, rng)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    placed: list[tuple[int, int, int, int]] = []
    boxes: list[BoundingBox] = []
    for _ in range(int(rng.integers(1, 5))):
        # One sun per sky.
        options = [lb for lb in BOX_LABELS if lb != "sun" or all(b.label != "sun" for b in boxes)]
        label = options[int(rng.integers(len(options)))]
        shapes = _place(label, width, height, horizon, placed, rng)
        if shapes is None:
            continue
        extent = _extent(shapes)
        placed.append(extent)
        for shape in shapes:
            _draw_shape(draw, shape, pixels)
        boxes.append(_percent_box(label, extent, width, height))
    image.save(path, format="PNG")
    return DemoImage(path=path, width=width, height=height, boxes=boxes)


def _background(width: int, height: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
    sky_top = _jitter(_SKIES[int(rng.integers(len(_SKIES)))], rng, 25)
    sky_bottom = _jitter(sky_top, rng, 60)
    ground_top = _jitter(_GROUNDS[int(rng.integers(len(_GROUNDS)))], rng, 25)
    ground_bottom = _jitter(ground_top, rng, 40)
    rows = np.empty((height, 3))
    rows[:horizon] = np.linspace(sky_top, sky_bottom, horizon)
    rows[horizon:] = np.linspace(ground_top, ground_bottom, height - horizon)
    pixels = np.repeat(rows[:, None, :], width, axis=1)
    # Grey grain (one value per pixel, not per channel) looks like sensor noise and keeps the
    # PNGs about half the size of colour noise.
    pixels += rng.integers(-4, 5, size=(height, width, 1))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _place(
    label: str,
    width: int,
    height: int,
    horizon: int,
    placed: list[tuple[int, int, int, int]],
    rng: np.random.Generator,
) -> list[_Shape] | None:
    """Shapes for one object at a free spot, or None when no spot avoids the others."""
    scale = min(width, height)
    for _ in range(_PLACEMENT_ATTEMPTS):
        shapes = _SHAPE_BUILDERS[label](scale, rng)
        left, top, right, bottom = _extent(shapes)
        box_w, box_h = right - left + 1, bottom - top + 1
        if box_w >= width or box_h >= height:
            return None
        dx = int(rng.integers(0, width - box_w + 1))
        if label == "sun":
            dy = int(rng.integers(0, max(1, horizon - box_h)))
        else:
            # Ground objects stand with their base somewhere below the horizon.
            base = int(rng.integers(min(horizon + 4, height - 1), height))
            dy = max(0, base - box_h)
        moved = [_offset(shape, dx - left, dy - top) for shape in shapes]
        extent = _extent(moved)
        if all(_iou(extent, other) <= _MAX_IOU for other in placed):
            return moved
    return None


def _car(scale: int, rng: np.random.Generator) -> list[_Shape]:
    w = int(scale * rng.uniform(0.2, 0.4))
    body = _color(rng, (200, 40, 40))
    wheel_r = max(2, w // 9)
    return [
        _Shape("rectangle", [(w // 5, 0), (w * 3 // 4, w // 5)], body),
        _Shape("rectangle", [(0, w // 5), (w, w // 5 + w // 4)], body),
        _wheel(w // 5, w // 5 + w // 4, wheel_r),
        _wheel(w * 4 // 5, w // 5 + w // 4, wheel_r),
    ]


def _wheel(cx: int, cy: int, r: int) -> _Shape:
    return _Shape("ellipse", [(cx - r, cy - r), (cx + r, cy + r)], (25, 25, 25))


def _tree(scale: int, rng: np.random.Generator) -> list[_Shape]:
    w = int(scale * rng.uniform(0.12, 0.22))
    trunk_w, trunk_h = max(2, w // 5), w * 3 // 5
    crown = _color(rng, (40, 140, 50))
    trunk = _Shape(
        "rectangle", [((w - trunk_w) // 2, w - 2), ((w + trunk_w) // 2, w + trunk_h)], (110, 70, 30)
    )
    if rng.random() < 0.5:
        return [trunk, _Shape("ellipse", [(0, 0), (w, w)], crown)]
    return [trunk, _Shape("polygon", [(w // 2, 0), (w, w), (0, w)], crown)]


def _house(scale: int, rng: np.random.Generator) -> list[_Shape]:
    w = int(scale * rng.uniform(0.18, 0.32))
    roof_h, wall_h, eave = w // 2, w * 4 // 5, w // 12
    door_w = max(2, w // 5)
    door_left = w // 2 - door_w // 2 + eave
    return [
        _Shape(
            "rectangle", [(eave, roof_h), (w + eave, roof_h + wall_h)], _color(rng, (220, 200, 160))
        ),
        _Shape(
            "polygon",
            [(0, roof_h), (w // 2 + eave, 0), (w + 2 * eave, roof_h)],
            _color(rng, (150, 50, 40)),
        ),
        _Shape(
            "rectangle",
            [(door_left, roof_h + wall_h // 2), (door_left + door_w, roof_h + wall_h)],
            (90, 60, 40),
        ),
    ]


def _sun(scale: int, rng: np.random.Generator) -> list[_Shape]:
    d = int(scale * rng.uniform(0.1, 0.2))
    return [_Shape("ellipse", [(0, 0), (d, d)], _color(rng, (250, 210, 40)))]


_SHAPE_BUILDERS: dict[str, Callable[[int, np.random.Generator], list[_Shape]]] = {
    "car": _car,
    "tree": _tree,
    "house": _house,
    "sun": _sun,
}


def _color(rng: np.random.Generator, base: RGB) -> RGB:
    r, g, b = (int(c) for c in _jitter(base, rng, 30))
    return (r, g, b)


def _jitter(base: RGB | np.ndarray, rng: np.random.Generator, spread: int) -> np.ndarray:
    return np.clip(np.asarray(base) + rng.integers(-spread, spread + 1, size=3), 0, 255)


def _draw_shape(draw: ImageDraw.ImageDraw, shape: _Shape, pixels: np.ndarray) -> None:
    (left, top), (right, bottom) = _extent_points(shape.points)
    under = pixels[top : bottom + 1, left : right + 1].reshape(-1, 3).mean(axis=0)
    color = shape.color
    if np.abs(np.array(color) - under).sum() < _MIN_CONTRAST:
        # The random background happened to match the object: fall back to black or white,
        # whichever stands out, so the object is always visible inside its box.
        color = (0, 0, 0) if under.mean() > 127 else (255, 255, 255)
    if shape.kind == "rectangle":
        draw.rectangle(shape.points, fill=color)
    elif shape.kind == "ellipse":
        draw.ellipse(shape.points, fill=color)
    else:
        draw.polygon(shape.points, fill=color)


def _offset(shape: _Shape, dx: int, dy: int) -> _Shape:
    return shape._replace(points=[(x + dx, y + dy) for x, y in shape.points])


def _extent_points(points: list[tuple[int, int]]) -> tuple[tuple[int, int], tuple[int, int]]:
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return (min(xs), min(ys)), (max(xs), max(ys))


def _extent(shapes: list[_Shape]) -> tuple[int, int, int, int]:
    """Inclusive pixel extent (left, top, right, bottom) of all shapes."""
    (left, top), (right, bottom) = _extent_points([p for s in shapes for p in s.points])
    return left, top, right, bottom


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    inter_w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    inter_h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h

    def area(r: tuple[int, int, int, int]) -> int:
        return (r[2] - r[0] + 1) * (r[3] - r[1] + 1)

    return inter / (area(a) + area(b) - inter)


def _percent_box(
    label: str, extent: tuple[int, int, int, int], width: int, height: int
) -> BoundingBox:
    left, top, right, bottom = extent
    x, y = round(100 * left / width, 4), round(100 * top / height, 4)
    # Rounding the far edge (not the size) keeps x + width <= 100.
    x_end, y_end = round(100 * (right + 1) / width, 4), round(100 * (bottom + 1) / height, 4)
    return BoundingBox(label, x, y, round(x_end - x, 4), round(y_end - y, 4))


def image_boxes_config() -> str:
    """Label Studio config: one zoomable image, one rectangle label per object class."""
    view = ET.Element("View")
    ET.SubElement(view, "Image", name="image", value="$image", zoom="true")
    rectangles = ET.SubElement(view, "RectangleLabels", name="label", toName="image")
    label_elements(rectangles, {label: _LABEL_STYLE[label] for label in BOX_LABELS})
    return config_xml(view)


def image_task(img: DemoImage, url: str, *, with_annotation: bool) -> dict[str, Any]:
    """A Label Studio task for `img` served at `url`; result ids are stable per file and box."""
    result = [
        {
            "id": stable_id(img.path.name, index),
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "original_width": img.width,
            "original_height": img.height,
            "image_rotation": 0,
            "value": {
                "x": box.x,
                "y": box.y,
                "width": box.width,
                "height": box.height,
                "rotation": 0,
                "rectanglelabels": [box.label],
            },
        }
        for index, box in enumerate(img.boxes)
    ]
    annotations = [{"result": result}] if with_annotation else []
    return {"data": {"image": url}, "annotations": annotations, "predictions": []}
