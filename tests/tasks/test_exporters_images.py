"""COCO, YOLO and VOC exports."""

from __future__ import annotations

import io
import json
import math
import random
import xml.etree.ElementTree as ET
import zipfile

import pytest

from tasks.exporters import export_stream
from tests.tasks.exporter_data import (
    IMAGE_CONFIG,
    annotation,
    box_item,
    image_task,
    polygon_item,
    task,
)


def export(name, tasks) -> bytes:
    return b"".join(export_stream(name, config=IMAGE_CONFIG, tasks=tasks))


def generated(count=25, seed=11, **kwargs):
    rng = random.Random(seed)
    return [image_task(rng, task_id, **kwargs) for task_id in range(1, count + 1)]


def regions(item, kind):
    return [r for r in item["annotations"][0]["result"] if r["type"] == kind]


def one_image(result, task_id=1, url="/data/upload/1/photo.jpg"):
    return task(task_id, {"image": url}, [annotation(task_id, result, task_id=task_id)])


# COCO


def check_coco(doc):
    """Structural checks any COCO consumer relies on."""
    assert set(doc) == {"images", "annotations", "categories", "info"}
    images = {image["id"]: image for image in doc["images"]}
    categories = {category["id"] for category in doc["categories"]}
    assert len(images) == len(doc["images"]) and len(categories) == len(doc["categories"])
    assert len({a["id"] for a in doc["annotations"]}) == len(doc["annotations"])
    assert 0 not in images and all(a["id"] > 0 for a in doc["annotations"])
    for ann in doc["annotations"]:
        image = images[ann["image_id"]]
        assert ann["category_id"] in categories
        x, y, w, h = ann["bbox"]
        assert min(x, y, w, h) >= 0
        assert x + w <= image["width"] + 1e-9 and y + h <= image["height"] + 1e-9
        assert ann["iscrowd"] == 0 and ann["area"] >= 0


def test_coco_is_a_valid_document_with_pixel_boxes():
    tasks = generated()
    doc = json.loads(export("COCO", tasks))
    check_coco(doc)
    assert [c["name"] for c in doc["categories"]] == ["bird", "cat", "dog", "tree"]
    assert len(doc["images"]) == len(tasks)
    names = {c["id"]: c["name"] for c in doc["categories"]}
    annotations = iter(doc["annotations"])
    for image, item in zip(doc["images"], tasks, strict=True):
        boxes = regions(item, "rectanglelabels")
        assert image["file_name"] == f"img-{item['id']}.jpg"
        assert (image["width"], image["height"]) == (
            boxes[0]["original_width"],
            boxes[0]["original_height"],
        )
        for box in boxes:
            ann = next(annotations)
            value, width, height = box["value"], image["width"], image["height"]
            expected = [
                value["x"] * width / 100,
                value["y"] * height / 100,
                value["width"] * width / 100,
                value["height"] * height / 100,
            ]
            assert ann["bbox"] == pytest.approx(expected)
            assert ann["segmentation"] == []
            assert names[ann["category_id"]] == value["rectanglelabels"][0]
        [polygon] = regions(item, "polygonlabels")
        ann = next(annotations)
        pixels = [
            c for x, y in polygon["value"]["points"] for c in (x * width / 100, y * height / 100)
        ]
        assert ann["segmentation"] == [pytest.approx(pixels)]
        xs, ys = pixels[0::2], pixels[1::2]
        assert ann["bbox"] == pytest.approx(
            [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        )
    assert next(annotations, None) is None


def test_coco_polygon_area_is_the_shoelace_area():
    square = polygon_item([[10, 10], [30, 10], [30, 30], [10, 30]], "tree", 200, 100)
    [ann] = json.loads(export("COCO", [one_image([square])]))["annotations"]
    assert ann["area"] == pytest.approx(40 * 20)


def test_coco_rotated_box_gets_its_bounding_box():
    box = box_item(50, 10, 10, 20, "dog", 100, 100)
    box["value"]["rotation"] = 90
    [ann] = json.loads(export("COCO", [one_image([box])]))["annotations"]
    # Rotating 90 degrees clockwise about the top-left corner swings the box to its left.
    assert ann["bbox"] == pytest.approx([30, 10, 20, 10])


def test_coco_counts_images_without_size_and_skips_unannotated_tasks():
    box = box_item(10, 10, 20, 20, "cat", 640, 480)
    del box["original_width"], box["original_height"]
    tasks = [one_image([box]), task(2, {"image": "b.jpg"}), *generated(2)]
    doc = json.loads(export("COCO", tasks))
    check_coco(doc)
    assert [image["file_name"] for image in doc["images"]] == ["img-1.jpg", "img-2.jpg"]
    assert doc["info"]["skipped_images_without_size"] == 1


def test_coco_adds_labels_missing_from_the_config():
    doc = json.loads(export("COCO", [one_image([box_item(1, 1, 5, 5, "zebra", 50, 50)])]))
    check_coco(doc)
    assert doc["categories"][-1] == {"id": 4, "name": "zebra"}
    assert doc["annotations"][0]["category_id"] == 4


# YOLO


def unzip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_yolo_zip_has_classes_and_normalised_boxes():
    tasks = generated(polygons=False)
    files = unzip(export("YOLO", tasks))
    classes = files["classes.txt"].splitlines()
    assert classes == ["bird", "cat", "dog"]
    notes = json.loads(files["notes.json"])
    assert [c["name"] for c in notes["categories"]] == classes
    for item in tasks:
        lines = files[f"labels/img-{item['id']}.txt"].splitlines()
        boxes = regions(item, "rectanglelabels")
        assert len(lines) == len(boxes)
        for line, box in zip(lines, boxes, strict=True):
            class_id, *numbers = line.split()
            cx, cy, w, h = map(float, numbers)
            assert all(0 <= n <= 1 for n in (cx, cy, w, h))
            assert classes[int(class_id)] == box["value"]["rectanglelabels"][0]
            value = box["value"]
            rebuilt = ((cx - w / 2) * 100, (cy - h / 2) * 100, w * 100, h * 100)
            expected = (value["x"], value["y"], value["width"], value["height"])
            assert all(
                math.isclose(a, b, abs_tol=1e-6) for a, b in zip(rebuilt, expected, strict=True)
            )


def test_yolo_writes_empty_files_for_images_without_boxes_and_deduplicates_names():
    tasks = [
        one_image([], task_id=1, url="s3://a/photo.jpg"),
        one_image([box_item(0, 0, 10, 10, "dog", 10, 10)], task_id=2, url="s3://b/photo.jpg"),
        task(3, {"image": "s3://c/unlabelled.jpg"}),
    ]
    files = unzip(export("YOLO", tasks))
    assert sorted(files) == ["classes.txt", "labels/photo.txt", "labels/photo_2.txt", "notes.json"]
    assert files["labels/photo.txt"] == ""
    assert files["labels/photo_2.txt"].split() == ["2", "0.05", "0.05", "0.1", "0.1"]


def test_yolo_streams_entries_before_the_end():
    chunks = list(export_stream("YOLO", config=IMAGE_CONFIG, tasks=generated(400)))
    assert len(chunks) > 1
    assert unzip(b"".join(chunks))["classes.txt"]


# VOC


def test_voc_zip_has_one_xml_per_image():
    tasks = generated(10)
    files = unzip(export("VOC", tasks))
    assert sorted(files) == sorted(f"Annotations/img-{item['id']}.xml" for item in tasks)
    for item in tasks:
        root = ET.fromstring(files[f"Annotations/img-{item['id']}.xml"])
        boxes = regions(item, "rectanglelabels")
        width, height = boxes[0]["original_width"], boxes[0]["original_height"]
        assert root.tag == "annotation"
        assert root.findtext("filename") == f"img-{item['id']}.jpg"
        assert (int(root.findtext("size/width")), int(root.findtext("size/height"))) == (
            width,
            height,
        )
        objects = root.findall("object")
        assert len(objects) == len(boxes)
        for obj, box in zip(objects, boxes, strict=True):
            value = box["value"]
            assert obj.findtext("name") == value["rectanglelabels"][0]
            xmin, ymin, xmax, ymax = (
                int(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")
            )
            assert abs(xmin - value["x"] * width / 100) <= 0.5
            assert abs(ymin - value["y"] * height / 100) <= 0.5
            assert abs(xmax - (value["x"] + value["width"]) * width / 100) <= 0.5
            assert abs(ymax - (value["y"] + value["height"]) * height / 100) <= 0.5
            assert 0 <= xmin <= xmax <= width and 0 <= ymin <= ymax <= height


def test_voc_skips_images_of_unknown_size():
    tasks = [one_image([], task_id=1), *generated(1)]
    assert list(unzip(export("VOC", tasks))) == ["Annotations/img-1.xml"]
