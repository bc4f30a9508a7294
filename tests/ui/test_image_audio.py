"""Image and audio labelling in the browser: boxes, polygons and keypoints drawn with the
mouse on a generated PNG; a region marked on the waveform of a generated WAV, labelled by
its key and transcribed. Results are checked as the server stores them."""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
import wave
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from annotator.services import demo_seed
from projects.models import Project
from tasks.models import Annotation
from tests.ui.conftest import login, screenshot
from tests.ui.helpers import open_task, project_with_tasks

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
IMAGE_SIZE = (400, 300)
CLIP_SECONDS = 3.0
TOLERANCE = 1.0  # percent of the image

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car" hotkey="1" background="#e15759"/>
    <Label value="Tree" hotkey="2" background="#59a14f"/>
  </RectangleLabels>
  <PolygonLabels name="shape" toName="image">
    <Label value="Roof" hotkey="3" background="#f28e2b"/>
  </PolygonLabels>
  <KeyPointLabels name="point" toName="image">
    <Label value="Door" hotkey="4" background="#4e79a7"/>
  </KeyPointLabels>
</View>"""

AUDIO_CONFIG = """<View>
  <Audio name="audio" value="$audio"/>
  <Labels name="kind" toName="audio">
    <Label value="Speech" hotkey="1" background="#4e79a7"/>
    <Label value="Music" hotkey="2" background="#f28e2b"/>
  </Labels>
  <TextArea name="transcription" toName="audio" perRegion="true" editable="true" rows="2"/>
</View>"""


def _png(path: Path) -> None:
    image = Image.new("RGB", IMAGE_SIZE, (150, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 200, 400, 300), fill=(70, 140, 60))
    draw.rectangle((60, 150, 180, 230), fill=(200, 60, 60))
    draw.polygon([(240, 120), (300, 70), (360, 120)], fill=(120, 70, 40))
    image.save(path)


def _wav(path: Path, rate: int = 8000) -> None:
    """Quiet noise around a louder, syllable-like tone from 0.6 s to 1.5 s."""
    noise = random.Random(0)
    frames = bytearray()
    for i in range(int(CLIP_SECONDS * rate)):
        t = i / rate
        if 0.6 <= t < 1.5:
            sample = abs(math.sin(math.pi * 5 * (t - 0.6))) * 0.8 * math.sin(2 * math.pi * 220 * t)
        else:
            sample = noise.uniform(-0.08, 0.08)
        frames += struct.pack("<h", int(32767 * sample))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def _media(media_root: Path, name: str) -> str:
    media_root.mkdir(parents=True, exist_ok=True)
    (_png if name.endswith(".png") else _wav)(media_root / name)
    return f"/media/{name}"


def _save_docs_shot(page, name: str) -> None:
    shot = screenshot(page, name)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS / f"{name}.png")


def _open(page, item: dict, config: str, ready: str):
    """A one-task project on `config`, open in the labelling page once `ready` shows."""
    project, tasks = project_with_tasks([item], label_config=config)
    login(page, project.created_by)
    open_task(page, project, tasks[0])
    page.wait_for_selector(ready)
    return page, tasks[0]


# --- image -------------------------------------------------------------------------------------
IMAGE_READY = ".lv-image[data-loaded=true]"


@pytest.fixture
def image_task(browser_page, media_root):
    return _open(
        browser_page, {"image": _media(media_root, "street.png")}, IMAGE_CONFIG, IMAGE_READY
    )


def _at(page, x: float, y: float) -> tuple[float, float]:
    """Screen position of (x, y) in percent of the image."""
    box = page.locator(".lv-image-stage").bounding_box()
    return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100


def _drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*_at(page, *start))
    page.mouse.down()
    page.mouse.move(*_at(page, *end), steps=6)
    page.mouse.up()


def _click(page, x: float, y: float) -> None:
    page.mouse.click(*_at(page, x, y))


def _items(page, result_type: str) -> list[dict]:
    return page.evaluate(f"labelSession.store.result().filter(i => i.type === '{result_type}')")


def _box(page) -> tuple[float, float, float, float]:
    (item,) = _items(page, "rectanglelabels")
    value = item["value"]
    return value["x"], value["y"], value["width"], value["height"]


def _close(actual, expected) -> bool:
    return all(abs(a - e) <= TOLERANCE for a, e in zip(actual, expected, strict=True))


def _submit(page, task) -> list[dict]:
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("#label-app[data-state=done]")
    return Annotation.objects.get(task=task).result


def test_box_drawn_resized_moved_undone_and_submitted(image_task):
    page, task = image_task
    page.keyboard.press("1")  # Car
    _drag(page, (10, 20), (50, 60))
    assert _close(_box(page), (10, 20, 40, 40))
    _click(page, 30, 40)  # a click selects the box under the pointer
    assert page.locator(".lv-handle-se").count() == 1
    _drag(page, (50, 60), (70, 80))  # the bottom-right corner handle
    assert _close(_box(page), (10, 20, 60, 60))
    _drag(page, (40, 50), (50, 55))  # the selected box's body
    assert _close(_box(page), (20, 25, 60, 60))
    page.keyboard.press("Control+z")
    assert _close(_box(page), (10, 20, 60, 60))
    page.keyboard.press("Control+Shift+z")
    assert _close(_box(page), (20, 25, 60, 60))
    page.keyboard.press("2")  # relabel the selected box
    assert _items(page, "rectanglelabels")[0]["value"]["rectanglelabels"] == ["Tree"]
    screenshot(page, "label-image-box")
    (item,) = _submit(page, task)
    assert item["type"] == "rectanglelabels"
    assert item["from_name"] == "box"
    assert item["to_name"] == "image"
    assert (item["original_width"], item["original_height"]) == IMAGE_SIZE
    value = item["value"]
    assert value["rectanglelabels"] == ["Tree"]
    assert value["rotation"] == 0
    assert _close((value["x"], value["y"], value["width"], value["height"]), (20, 25, 60, 60))


def test_polygon_and_keypoint_drawn_and_submitted(image_task):
    page, task = image_task
    page.keyboard.press("3")  # Roof
    for x, y in [(60, 40), (75, 23), (90, 40)]:
        _click(page, x, y)
    _click(page, 60.5, 40.5)  # the first point closes the polygon
    # The label stays armed: a second polygon, closed by Enter.
    for x, y in [(10, 70), (30, 70), (20, 90)]:
        _click(page, x, y)
    page.keyboard.press("Enter")
    assert len(_items(page, "polygonlabels")) == 2
    page.keyboard.press("4")  # Door
    _click(page, 30, 65)
    (keypoint,) = _items(page, "keypointlabels")
    assert _close((keypoint["value"]["x"], keypoint["value"]["y"]), (30, 65))
    # Dragging a vertex of the selected polygon reshapes it.
    page.keyboard.press("4")  # the label's key again puts the tool down: clicks select
    _click(page, 20, 75)
    _drag(page, (20, 90), (25, 95))
    page.keyboard.press("1")  # and a box around the car, for the picture
    _drag(page, (15, 50), (45, 77))
    _save_docs_shot(page, "label-image")
    result = _submit(page, task)
    polygons = sorted(
        (i for i in result if i["type"] == "polygonlabels"), key=lambda i: i["value"]["points"][0]
    )
    assert [p["value"]["polygonlabels"] for p in polygons] == [["Roof"], ["Roof"]]
    assert _close([c for p in polygons[0]["value"]["points"] for c in p], [10, 70, 30, 70, 25, 95])
    assert _close([c for p in polygons[1]["value"]["points"] for c in p], [60, 40, 75, 23, 90, 40])
    (point,) = (i for i in result if i["type"] == "keypointlabels")
    assert point["value"]["keypointlabels"] == ["Door"]
    assert point["value"]["width"] > 0
    assert [i["value"]["rectanglelabels"] for i in result if i["type"] == "rectanglelabels"] == [
        ["Car"]
    ]
    assert all((i["original_width"], i["original_height"]) == IMAGE_SIZE for i in result)


def test_zoom_pan_and_delete(image_task):
    page, _task = image_task
    page.keyboard.press("1")
    _drag(page, (40, 40), (60, 60))
    before = _box(page)
    page.mouse.move(*_at(page, 50, 50))
    page.mouse.wheel(0, -400)
    zoom = float(page.locator(".lv-image").get_attribute("data-zoom"))
    assert zoom > 1.5
    page.keyboard.press("+")
    assert float(page.locator(".lv-image").get_attribute("data-zoom")) > zoom
    left = page.locator(".lv-image-stage").bounding_box()["x"]
    page.keyboard.press("ArrowLeft")
    assert page.locator(".lv-image-stage").bounding_box()["x"] > left
    top = page.locator(".lv-image-stage").bounding_box()["y"]
    page.mouse.move(*_at(page, 50, 50))
    page.mouse.down(button="middle")
    page.mouse.move(*_at(page, 50, 40), steps=4)
    page.mouse.up(button="middle")
    assert page.locator(".lv-image-stage").bounding_box()["y"] < top
    assert _box(page) == before  # the view changes, not the region
    _click(page, 50, 50)
    page.keyboard.press("Delete")
    assert _items(page, "rectanglelabels") == []
    screenshot(page, "label-image-zoomed")
    page.get_by_role("button", name="Fit").click()
    assert page.locator(".lv-image").get_attribute("data-zoom") == "1"


def test_predicted_box_shows_its_confidence(browser_page, media_root):
    url = _media(media_root, "street.png")
    box = {"x": 15, "y": 0, "width": 30, "height": 27, "rotation": 0, "rectanglelabels": ["Car"]}
    prediction = {
        "result": [
            {
                "id": "p1",
                "from_name": "box",
                "to_name": "image",
                "type": "rectanglelabels",
                "original_width": 400,
                "original_height": 300,
                "value": box,
            }
        ],
        "score": 0.93,
    }
    item = {"data": {"image": url}, "predictions": [prediction]}
    _open(browser_page, item, IMAGE_CONFIG, IMAGE_READY)
    chip = browser_page.locator(".lv-image-chip")
    assert chip.inner_text() == "Car 93%"
    assert "conf-high" in chip.get_attribute("class")
    assert "inside" in chip.get_attribute("class")  # no room above a box at the top edge
    screenshot(browser_page, "label-image-prediction")


# --- audio -------------------------------------------------------------------------------------
@pytest.fixture
def audio_task(browser_page, media_root):
    item = {"audio": _media(media_root, "clip.wav")}
    return _open(browser_page, item, AUDIO_CONFIG, ".lv-audio[data-ready=true]")


def _wave_x(page, seconds: float) -> tuple[float, float]:
    box = page.locator(".lv-audio-wave").bounding_box()
    return box["x"] + box["width"] * seconds / CLIP_SECONDS, box["y"] + box["height"] / 2


def _audio_regions(page) -> list[dict]:
    return _items(page, "labels")


def test_audio_region_marked_labelled_transcribed_and_submitted(audio_task):
    page, task = audio_task
    page.mouse.move(*_wave_x(page, 0.6))
    page.mouse.down()
    page.mouse.move(*_wave_x(page, 1.5), steps=8)
    page.mouse.up()
    assert page.locator(".lv-audio[data-pending=true]").count() == 1
    page.keyboard.press("1")  # Speech
    (region,) = _audio_regions(page)
    assert region["value"]["labels"] == ["Speech"]
    assert abs(region["value"]["start"] - 0.6) < 0.1
    assert abs(region["value"]["end"] - 1.5) < 0.1
    text = page.locator(".lv-region-text")
    assert text.is_enabled()
    text.fill("hello world")
    page.keyboard.press("Escape")  # leaves the field; the text is saved
    page.get_by_label("Playback speed").select_option("1.5")
    assert page.locator(".lv-audio").get_attribute("data-speed") == "1.5"
    page.keyboard.press("2")  # relabel the selected region
    assert _audio_regions(page)[0]["value"]["labels"] == ["Music"]
    page.keyboard.press("Control+z")
    assert _audio_regions(page)[0]["value"]["labels"] == ["Speech"]
    _save_docs_shot(page, "label-audio")
    result = _submit(page, task)
    (labels,) = (i for i in result if i["type"] == "labels")
    (transcription,) = (i for i in result if i["type"] == "textarea")
    assert labels["value"]["labels"] == ["Speech"]
    assert labels["original_length"] == pytest.approx(CLIP_SECONDS, abs=0.01)
    assert 0.5 < labels["value"]["start"] < labels["value"]["end"] < 1.6
    assert transcription["id"] == labels["id"]
    assert transcription["from_name"] == "transcription"
    assert transcription["value"] == {"text": ["hello world"]}


def test_audio_label_chosen_first_then_resized_deleted_and_undone(audio_task):
    page, _task = audio_task
    page.get_by_role("button", name="Music").click()
    page.mouse.move(*_wave_x(page, 1.8))
    page.mouse.down()
    page.mouse.move(*_wave_x(page, 2.4), steps=8)
    page.mouse.up()
    (region,) = _audio_regions(page)
    assert region["value"]["labels"] == ["Music"]
    handle = page.locator("[part~='region-handle-right']")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(*_wave_x(page, 2.8), steps=8)
    page.mouse.up()
    assert abs(_audio_regions(page)[0]["value"]["end"] - 2.8) < 0.1
    screenshot(page, "label-audio-resized")
    page.keyboard.press("Delete")
    assert _audio_regions(page) == []
    page.keyboard.press("Control+z")
    assert len(_audio_regions(page)) == 1
    page.keyboard.press("Space")
    page.wait_for_selector(".lv-audio[data-playing=true]", timeout=3000)
    page.keyboard.press("Space")
    page.wait_for_selector(".lv-audio[data-playing=false]", timeout=3000)


# --- the demo ----------------------------------------------------------------------------------
def test_demo_image_and_audio_projects_show_their_annotations(browser_page, media_root):
    demo_seed(utterances=6, images=2, clips=2)
    for title, ready, count in [
        ("Street scenes: bounding boxes", IMAGE_READY, ".lv-image-chip"),
        ("Sound events: audio regions", ".lv-audio[data-ready=true]", ".lv-audio [part~=region]"),
    ]:
        project = Project.objects.get(title=title)
        annotation = Annotation.objects.filter(task__project=project).order_by("task_id").first()
        login(browser_page, annotation.completed_by)
        open_task(browser_page, project, annotation.task)
        browser_page.wait_for_selector(ready)
        regions = [i for i in annotation.result if i["type"] != "textarea"]
        assert browser_page.locator(count).count() == len(regions) > 0
        screenshot(browser_page, f"label-demo-{project.pk}")
