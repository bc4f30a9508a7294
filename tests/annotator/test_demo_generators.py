import random
import re
import wave
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotator.demo import (
    AUDIO_LABELS,
    BOX_LABELS,
    ENTITY_LABELS,
    INTENTS,
    DemoClip,
    DemoImage,
    audio_regions_config,
    audio_task,
    generate_audio_clips,
    generate_box_images,
    generate_utterances,
    image_boxes_config,
    image_task,
    intent_entity_config,
    utterance_task,
)
from annotator.demo import text_vocab as vocab

LS_ID = re.compile(r"^[A-Za-z0-9]{10}$")


def _hotkeys(config: str) -> list[str]:
    root = ET.fromstring(config)
    return [el.attrib["hotkey"] for el in root.iter() if "hotkey" in el.attrib]


# --- text -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def utterances():
    return generate_utterances(300, seed=11)


def test_utterances_are_deterministic_per_seed():
    assert generate_utterances(60, seed=3) == generate_utterances(60, seed=3)
    assert generate_utterances(60, seed=3) != generate_utterances(60, seed=4)


def test_entity_spans_select_a_slot_value_of_their_label(utterances):
    month = "|".join(vocab.MONTHS["en"] + vocab.MONTHS["fr"])
    calendar_date = re.compile(rf"^(({month}) \d{{1,2}}|le (1er|\d{{1,2}}) ({month}))$")
    amount = re.compile(r"^(\$\d+(\.\d\d)?|£\d+|\d+([.,]\d\d)? (EUR|€|euros))$")
    order_id = re.compile(r"^(#\d{6}|CMD-\d{7}|ORD-\d{7}|[A-Z]{2}\d{7})$")
    checked = Counter()
    for u in utterances:
        previous_end = 0
        for start, end, label in u.entities:
            assert label in ENTITY_LABELS
            assert previous_end <= start < end <= len(u.text)
            previous_end = end
            value = u.text[start:end]
            dates = vocab.RELATIVE_DATES[u.lang]
            valid = {
                "PRODUCT": value in vocab.PRODUCTS[u.lang],
                "LOCATION": value in vocab.CITIES + vocab.STREET_ADDRESSES[u.lang],
                "DATE": value in dates["past"] + dates["future"] or calendar_date.match(value),
                "AMOUNT": amount.match(value),
                "ORDER_ID": order_id.match(value),
            }[label]
            assert valid, (label, value, u.text)
            checked[label] += 1
    assert set(checked) == set(ENTITY_LABELS)


def test_languages_are_split_about_evenly(utterances):
    counts = Counter(u.lang for u in utterances)
    assert set(counts) == {"en", "fr"}
    assert abs(counts["en"] - counts["fr"]) <= 30


def test_no_duplicate_texts_for_300(utterances):
    assert len({u.text for u in utterances}) == len(utterances)


def test_utterances_use_every_intent_and_many_templates(utterances):
    assert {u.intent for u in utterances} == set(INTENTS)
    shapes = set()
    for u in utterances:
        shape = u.text
        for start, end, label in reversed(u.entities):
            shape = shape[:start] + label + shape[end:]
        shapes.add(shape)
    assert len(shapes) >= 60
    for lang in ("en", "fr"):
        assert sum(len(t) for t in vocab.TEMPLATES[lang].values()) >= 40


def test_context_is_a_short_dialogue_in_the_same_language(utterances):
    for u in utterances:
        assert 1 <= len(u.context) <= 3
        assert u.context[-1]["author"] == "agent"
        pools = (
            vocab.AGENT_GREETINGS[u.lang]
            + vocab.CUSTOMER_OPENINGS[u.lang]
            + vocab.AGENT_FOLLOW_UPS[u.lang]
        )
        for turn in u.context:
            assert turn["author"] in {"agent", "customer"}
            assert turn["text"] in pools


def test_utterance_annotation_is_the_ground_truth(utterances):
    u = next(u for u in utterances if len(u.entities) >= 2)
    task = utterance_task(u, with_annotation=True, with_prediction=False, rng=random.Random(0))
    assert task["data"] == {"text": u.text, "context": u.context, "lang": u.lang}
    assert task["predictions"] == []
    (annotation,) = task["annotations"]
    spans = [r for r in annotation["result"] if r["type"] == "labels"]
    assert [(s["value"]["start"], s["value"]["end"], s["value"]["labels"][0]) for s in spans] == [
        tuple(e) for e in u.entities
    ]
    for span in spans:
        assert (span["from_name"], span["to_name"]) == ("entities", "text")
        assert span["value"]["text"] == u.text[span["value"]["start"] : span["value"]["end"]]
    (choice,) = [r for r in annotation["result"] if r["type"] == "choices"]
    assert (choice["from_name"], choice["value"]) == ("intent", {"choices": [u.intent]})
    ids = [r["id"] for r in annotation["result"]]
    assert all(LS_ID.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_utterance_task_is_deterministic_given_rng(utterances):
    def build(seed):
        return utterance_task(
            utterances[0], with_annotation=True, with_prediction=True, rng=random.Random(seed)
        )

    assert build(1) == build(1)
    assert build(1) != build(2)


def test_predictions_are_scored_and_sometimes_wrong(utterances):
    rng = random.Random(5)
    wrong_intents = missed_spans = 0
    for u in utterances:
        task = utterance_task(u, with_annotation=False, with_prediction=True, rng=rng)
        assert task["annotations"] == []
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == "demo-v0"
        assert 0 < prediction["score"] < 1
        for item in prediction["result"]:
            assert 0 < item["score"] < 1
            assert LS_ID.match(item["id"])
        (choice,) = [r for r in prediction["result"] if r["type"] == "choices"]
        wrong_intents += choice["value"]["choices"] != [u.intent]
        spans = [r for r in prediction["result"] if r["type"] == "labels"]
        missed_spans += len(u.entities) - len(spans)
        for span in spans:
            value = span["value"]
            assert value["text"] == u.text[value["start"] : value["end"]]
    assert 0.05 * len(utterances) < wrong_intents < 0.5 * len(utterances)
    assert missed_spans > 0


def test_intent_entity_config_is_well_formed_with_unique_hotkeys():
    config = intent_entity_config()
    root = ET.fromstring(config)
    assert root.tag == "View"
    paragraphs = root.find("Paragraphs")
    assert paragraphs is not None
    assert paragraphs.attrib["value"] == "$context"
    assert paragraphs.attrib["layout"] == "dialogue"
    assert [el.attrib["value"] for el in root.iter("Label")] == list(ENTITY_LABELS)
    assert [el.attrib["value"] for el in root.iter("Choice")] == list(INTENTS)
    hotkeys = _hotkeys(config)
    assert len(hotkeys) == len(ENTITY_LABELS) + len(INTENTS)
    assert len(set(hotkeys)) == len(hotkeys)


# --- images -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return generate_box_images(5, tmp_path_factory.mktemp("images"), seed=7)


def test_images_are_deterministic_per_seed(images, tmp_path):
    # Images are drawn one after another from one generator, so a shorter run with the same
    # seed must reproduce the first images exactly.
    again = generate_box_images(2, tmp_path / "again", seed=7)
    assert [i.boxes for i in again] == [i.boxes for i in images[:2]]
    assert [i.path.read_bytes() for i in again] == [i.path.read_bytes() for i in images[:2]]
    other = generate_box_images(2, tmp_path / "other", seed=8)
    assert [i.boxes for i in other] != [i.boxes for i in images[:2]]


def test_images_open_with_the_stated_size(images, tmp_path):
    small = generate_box_images(1, tmp_path, seed=1, size=(320, 240))
    for img in [*images, *small]:
        with Image.open(img.path) as opened:
            assert opened.format == "PNG"
            assert opened.size == (img.width, img.height)
    assert (small[0].width, small[0].height) == (320, 240)


def test_boxes_lie_inside_the_image(images):
    for img in images:
        assert 1 <= len(img.boxes) <= 4
        for box in img.boxes:
            assert box.label in BOX_LABELS
            assert box.x >= 0 and box.y >= 0 and box.width > 0 and box.height > 0
            assert box.x + box.width <= 100 + 1e-6
            assert box.y + box.height <= 100 + 1e-6


def _pixel_box(img: DemoImage, box) -> tuple[int, int, int, int]:
    return (
        round(box.x * img.width / 100),
        round(box.y * img.height / 100),
        round((box.x + box.width) * img.width / 100),
        round((box.y + box.height) * img.height / 100),
    )


def test_objects_are_drawn_inside_their_boxes(images):
    # The background is a vertical gradient plus noise, so each row's colour can be read off
    # the pixels no box covers; an object shows up as pixels far from that colour.
    for img in images:
        pixels = np.asarray(Image.open(img.path).convert("RGB"), dtype=np.int32)
        covered = np.zeros(pixels.shape[:2], dtype=bool)
        rects = [_pixel_box(img, box) for box in img.boxes]
        for left, top, right, bottom in rects:
            covered[top:bottom, left:right] = True
        for left, top, right, bottom in rects:
            differing = total = 0
            for row in range(top, bottom):
                free = pixels[row][~covered[row]]
                if len(free) < 50:
                    continue
                background = np.median(free, axis=0)
                diff = np.abs(pixels[row, left:right] - background).sum(axis=1)
                differing += int((diff > 60).sum())
                total += right - left
            assert total > 0
            assert differing / total > 0.3, (img.path.name, left, top, right, bottom)


def test_image_task_holds_the_boxes(images):
    img = next(i for i in images if len(i.boxes) >= 2)
    task = image_task(img, "/data/demo/a.png", with_annotation=True)
    assert task["data"] == {"image": "/data/demo/a.png"}
    (annotation,) = task["annotations"]
    assert len(annotation["result"]) == len(img.boxes)
    for item, box in zip(annotation["result"], img.boxes, strict=True):
        assert LS_ID.match(item["id"])
        assert (item["from_name"], item["to_name"], item["type"]) == (
            "label",
            "image",
            "rectanglelabels",
        )
        assert (item["original_width"], item["original_height"]) == (img.width, img.height)
        assert item["value"] == {
            "x": box.x,
            "y": box.y,
            "width": box.width,
            "height": box.height,
            "rotation": 0,
            "rectanglelabels": [box.label],
        }
    assert len({item["id"] for item in annotation["result"]}) == len(img.boxes)
    assert image_task(img, "u", with_annotation=False)["annotations"] == []


def test_image_boxes_config_is_well_formed_with_unique_hotkeys():
    config = image_boxes_config()
    root = ET.fromstring(config)
    image = root.find("Image")
    assert image is not None
    assert image.attrib["value"] == "$image"
    rectangles = root.find("RectangleLabels")
    assert rectangles is not None
    assert rectangles.attrib["toName"] == "image"
    assert [el.attrib["value"] for el in rectangles.iter("Label")] == list(BOX_LABELS)
    hotkeys = _hotkeys(config)
    assert len(set(hotkeys)) == len(hotkeys) == len(BOX_LABELS)


# --- audio ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return generate_audio_clips(6, tmp_path_factory.mktemp("audio"), seed=5)


def _read_samples(clip: DemoClip) -> np.ndarray:
    with wave.open(str(clip.path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32767


def test_clips_are_deterministic_per_seed(clips, tmp_path):
    again = generate_audio_clips(6, tmp_path / "again", seed=5)
    assert [c.regions for c in again] == [c.regions for c in clips]
    assert [c.path.read_bytes() for c in again] == [c.path.read_bytes() for c in clips]
    other = generate_audio_clips(6, tmp_path / "other", seed=6)
    assert [c.regions for c in other] != [c.regions for c in clips]


def test_wav_files_have_the_stated_format_and_duration(clips):
    for clip in clips:
        with wave.open(str(clip.path), "rb") as wav:
            assert wav.getnchannels() == 1
            assert wav.getsampwidth() == 2
            assert wav.getframerate() == clip.sample_rate == 16000
            assert wav.getnframes() / wav.getframerate() == pytest.approx(clip.duration, abs=1e-3)
        assert 4 <= clip.duration <= 10


def test_regions_tile_the_clip_without_overlap(clips):
    for clip in clips:
        assert clip.regions[0].start == 0
        assert clip.regions[-1].end == clip.duration
        for region, following in zip(clip.regions, clip.regions[1:], strict=False):
            assert region.end == following.start
            assert region.label != following.label
        for region in clip.regions:
            assert region.label in AUDIO_LABELS
            assert region.start < region.end


def test_region_loudness_matches_its_label(clips):
    seen = set()
    for clip in clips:
        samples = _read_samples(clip)
        rate = clip.sample_rate
        for region in clip.regions:
            # Skip 20 ms at each edge, where segments fade into each other.
            inner = samples[int(region.start * rate) + 320 : int(region.end * rate) - 320]
            rms = float(np.sqrt(np.mean(inner**2)))
            if region.label == "silence":
                assert rms < 0.005, (clip.path.name, region)
            else:
                assert rms > 0.03, (clip.path.name, region)
            seen.add(region.label)
    assert seen == set(AUDIO_LABELS)


def test_audio_task_holds_the_regions(clips):
    clip = clips[0]
    task = audio_task(clip, "/data/demo/a.wav", with_annotation=True)
    assert task["data"] == {"audio": "/data/demo/a.wav"}
    (annotation,) = task["annotations"]
    for item, region in zip(annotation["result"], clip.regions, strict=True):
        assert LS_ID.match(item["id"])
        assert (item["from_name"], item["to_name"], item["type"]) == ("kind", "audio", "labels")
        assert item["original_length"] == clip.duration
        assert item["value"] == {
            "start": region.start,
            "end": region.end,
            "channel": 0,
            "labels": [region.label],
        }
    assert audio_task(clip, "u", with_annotation=False)["annotations"] == []


def test_audio_regions_config_is_well_formed_with_unique_hotkeys():
    config = audio_regions_config()
    root = ET.fromstring(config)
    audio = root.find("Audio")
    assert audio is not None
    assert audio.attrib["value"] == "$audio"
    assert [el.attrib["value"] for el in root.iter("Label")] == list(AUDIO_LABELS)
    textarea = root.find("TextArea")
    assert textarea is not None
    assert textarea.attrib["perRegion"] == "true"
    hotkeys = _hotkeys(config)
    assert len(set(hotkeys)) == len(hotkeys) == len(AUDIO_LABELS)


def test_generators_write_into_the_given_directory(tmp_path):
    target: Path = tmp_path / "nested" / "dir"
    (img,) = generate_box_images(1, target, seed=0)
    (clip,) = generate_audio_clips(1, target, seed=0)
    assert img.path.parent == target
    assert clip.path.parent == target
