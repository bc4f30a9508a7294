"""Export registry, annotation choice, JSON / JSON_MIN / CSV / TSV, and streaming memory."""

from __future__ import annotations

import csv
import io
import json
import random
import tracemalloc

import pytest

from projects.labelconfig import parse_config
from tasks.exporters import (
    FORMATS,
    ExportError,
    ExportOptions,
    export_stream,
    formats_for,
    pick_annotation,
)
from tasks.exporters.base import CHUNK_SIZE, file_name
from tasks.exporters.tabular import csv_columns
from tests.tasks.exporter_data import (
    IMAGE_CONFIG,
    TEXT_CONFIG,
    annotation,
    choices_item,
    task,
    text_task,
)

ALWAYS = ["JSON", "JSON_MIN", "CSV", "TSV"]


def export(name, tasks, config=TEXT_CONFIG, options=None) -> bytes:
    return b"".join(export_stream(name, config=config, tasks=tasks, options=options))


def text_tasks(count=30, seed=1):
    rng = random.Random(seed)
    return [text_task(rng, task_id)[0] for task_id in range(1, count + 1)]


# Registry and errors


def test_formats_are_the_documented_set():
    assert list(FORMATS) == [
        "JSON",
        "JSON_MIN",
        "CSV",
        "TSV",
        "CONLL2003",
        "SPACY",
        "HF_JSONL",
        "COCO",
        "YOLO",
        "VOC",
    ]
    assert all(fmt.name == name for name, fmt in FORMATS.items())
    assert [name for name, fmt in FORMATS.items() if fmt.needs is None] == ALWAYS


def test_formats_for_text_config_offers_text_formats_only():
    names = [fmt.name for fmt in formats_for(TEXT_CONFIG)]
    assert names == [*ALWAYS, "CONLL2003", "SPACY", "HF_JSONL"]


def test_formats_for_image_config_offers_image_formats_only():
    names = [fmt.name for fmt in formats_for(IMAGE_CONFIG)]
    assert names == [*ALWAYS, "COCO", "YOLO", "VOC"]


def test_formats_for_polygons_only_offers_coco_but_not_boxes():
    config = parse_config(
        '<View><Image name="img" value="$url"/>'
        '<PolygonLabels name="p" toName="img"><Label value="a"/></PolygonLabels></View>'
    )
    assert [fmt.name for fmt in formats_for(config)] == [*ALWAYS, "COCO"]


def test_formats_for_text_classification_offers_spacy_and_hf_but_not_conll():
    config = parse_config(
        '<View><Text name="t" value="$text"/>'
        '<Choices name="c" toName="t"><Choice value="a"/></Choices></View>'
    )
    assert [fmt.name for fmt in formats_for(config)] == [*ALWAYS, "SPACY", "HF_JSONL"]


def test_unknown_format_names_the_known_formats():
    with pytest.raises(ExportError) as error:
        export_stream("PARQUET", config=TEXT_CONFIG, tasks=[])
    assert "PARQUET" in str(error.value)
    assert all(name in str(error.value) for name in FORMATS)


@pytest.mark.parametrize("name", ["CONLL2003", "SPACY", "HF_JSONL"])
def test_text_formats_reject_an_image_config(name):
    with pytest.raises(ExportError, match=f"{name} needs a Labels .*Text object; this config"):
        export_stream(name, config=IMAGE_CONFIG, tasks=[])


@pytest.mark.parametrize("name", ["COCO", "YOLO", "VOC"])
def test_image_formats_reject_a_text_config(name):
    with pytest.raises(ExportError, match=f"{name} needs a RectangleLabels"):
        export_stream(name, config=TEXT_CONFIG, tasks=[])


def test_errors_are_raised_before_any_task_is_read():
    def never():
        raise AssertionError("tasks were read")
        yield

    with pytest.raises(ExportError):
        export_stream("COCO", config=TEXT_CONFIG, tasks=never())


# Which annotation


def test_pick_prefers_ground_truth_and_skips_cancelled():
    options = ExportOptions()
    first, cancelled_truth, truth = (
        annotation(1, []),
        annotation(2, [], cancelled=True, ground_truth=True),
        annotation(3, [], ground_truth=True),
    )
    assert pick_annotation(task(1, {}, [first, cancelled_truth, truth]), options) is truth
    assert pick_annotation(task(1, {}, [first, cancelled_truth]), options) is first
    assert pick_annotation(task(1, {}, [cancelled_truth]), options) is None
    assert pick_annotation(task(1, {}, []), options) is None


def test_annotation_filter_narrows_the_choice_and_the_json_export():
    mine, theirs = annotation(1, [], completed_by=1), annotation(2, [], completed_by=2)
    options = ExportOptions(annotation_filter=lambda a: a["completed_by"] == 2)
    item = task(1, {"text": "x"}, [mine, theirs])
    assert pick_annotation(item, options) is theirs
    exported = json.loads(export("JSON", [item], options=options))
    assert [a["id"] for a in exported[0]["annotations"]] == [2]


# JSON and JSON_MIN


def test_json_round_trips_the_tasks():
    tasks = [*text_tasks(), task(99, {"text": "unlabelled"})]
    assert json.loads(export("JSON", iter(tasks))) == tasks


def test_json_of_no_tasks_is_an_empty_array():
    assert json.loads(export("JSON", [])) == []
    assert json.loads(export("JSON_MIN", [])) == []


def test_json_min_flattens_each_control():
    rng = random.Random(5)
    item, spans = text_task(rng, 1)
    result = item["annotations"][0]["result"]
    [record] = json.loads(export("JSON_MIN", [item]))
    assert record["id"] == 1
    assert record["text"] == spans.text
    assert record["label"] == [r["value"] for r in result if r["from_name"] == "label"]
    assert record["sentiment"] == result[-4]["value"]["choices"][0]
    assert record["topics"] == result[-3]["value"]["choices"]
    assert (record["comment"], record["stars"]) == ("note 1", 4)
    assert (record["annotator"], record["annotation_id"], record["lead_time"]) == (7, 10, 12.5)
    assert record["created_at"] == "2024-05-01T10:00:00Z"


def test_json_min_boxes_carry_the_original_size():
    box = {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 640,
        "original_height": 480,
        "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["dog"]},
    }
    item = task(1, {"image": "a.jpg"}, [annotation(1, [box])])
    [record] = json.loads(export("JSON_MIN", [item], config=IMAGE_CONFIG))
    assert record["box"] == [{**box["value"], "original_width": 640, "original_height": 480}]


def test_json_min_keeps_unannotated_tasks_without_answers():
    item = task(4, {"text": "nobody labelled me"}, [annotation(1, [], cancelled=True)])
    [record] = json.loads(export("JSON_MIN", [item]))
    assert record == {
        "id": 4,
        "text": "nobody labelled me",
        "annotator": None,
        "annotation_id": None,
        "created_at": None,
        "updated_at": None,
        "lead_time": None,
    }


# CSV and TSV


def test_csv_header_comes_from_the_config():
    assert csv_columns(TEXT_CONFIG) == [
        "id",
        "text",
        "label",
        "sentiment",
        "topics",
        "comment",
        "stars",
        "annotator",
        "annotation_id",
        "created_at",
        "updated_at",
        "lead_time",
    ]


def test_csv_rows_match_json_min_records():
    tasks = [*text_tasks(), task(99, {"text": "unlabelled", "extra": "not in config"})]
    records = json.loads(export("JSON_MIN", tasks))
    rows = list(csv.DictReader(io.StringIO(export("CSV", tasks).decode())))
    assert len(rows) == len(tasks)
    for row, record in zip(rows, records, strict=True):
        assert list(row) == csv_columns(TEXT_CONFIG)
        assert int(row["id"]) == record["id"]
        assert row["text"] == record["text"]
        for name in ("label", "topics"):
            assert (json.loads(row[name]) if row[name] else None) == record.get(name)
        assert row["sentiment"] == record.get("sentiment", "")
        assert row["stars"] == str(record.get("stars", ""))
    assert rows[-1]["label"] == rows[-1]["annotator"] == ""


def test_tsv_is_tab_separated_with_the_same_content():
    tasks = text_tasks(5)
    tsv = list(csv.reader(io.StringIO(export("TSV", tasks).decode()), delimiter="\t"))
    comma = list(csv.reader(io.StringIO(export("CSV", tasks).decode())))
    assert tsv == comma


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_csv_defuses_spreadsheet_formulas(prefix):
    payload = f"{prefix}HYPERLINK('http://evil','x')"
    result = [
        {
            "from_name": "comment",
            "to_name": "text",
            "type": "textarea",
            "value": {"text": [payload]},
        }
    ]
    item = task(1, {"text": payload}, [annotation(1, result)])
    [row] = csv.DictReader(io.StringIO(export("CSV", [item]).decode()))
    assert row["text"] == row["comment"] == "'" + payload


def test_csv_leaves_numbers_and_plain_text_alone():
    item = task(
        1, {"text": "plain, with comma"}, [annotation(1, [choices_item("sentiment", "neutral")])]
    )
    item["annotations"][0]["lead_time"] = -1.5
    [row] = csv.DictReader(io.StringIO(export("CSV", [item]).decode()))
    assert (row["text"], row["sentiment"], row["lead_time"]) == (
        "plain, with comma",
        "neutral",
        "-1.5",
    )


# Streaming


def test_output_comes_in_bounded_chunks():
    chunks = list(export_stream("JSON", config=TEXT_CONFIG, tasks=text_tasks(600)))
    assert len(chunks) > 1
    # A chunk closes once it passes CHUNK_SIZE, so it overshoots by at most one task.
    assert max(len(chunk) for chunk in chunks) < CHUNK_SIZE + 4096


def small_tasks(count):
    # Fresh objects per task (a shared one would hide a leak) and as few as possible, because
    # tracemalloc charges every allocation: this keeps 200k tasks within seconds.
    for task_id in range(count):
        if task_id % 2:
            result = [
                {"from_name": "sentiment", "type": "choices", "value": {"choices": ["neutral"]}}
            ]
            annotations = [{"id": task_id, "completed_by": 1, "result": result}]
        else:
            annotations = []
        yield {"id": task_id, "data": {"text": f"t{task_id}"}, "annotations": annotations}


@pytest.mark.parametrize("name", ["JSON", "CSV"])
def test_export_streams_200k_tasks_in_flat_memory(name):
    tracemalloc.start()
    try:
        size = 0
        for chunk in export_stream(name, config=TEXT_CONFIG, tasks=small_tasks(50_000)):
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Materialising the tasks alone would take well over 100 MB.
    assert size > 50_000 * 20
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# Helpers


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/data/upload/3/0a1b-cat.jpg", "0a1b-cat.jpg"),
        ("s3://bucket/dir/dog%20one.png", "dog one.png"),
        ("https://host/img/bird.jpeg?X-Amz-Signature=abc", "bird.jpeg"),
        ("/data/local-files/?d=photos/2024/tree.jpg", "tree.jpg"),
        ("data:image/png;base64,AAAA", "fallback"),
        (None, "fallback"),
    ],
)
def test_file_name_is_the_url_basename(url, expected):
    assert file_name(url, "fallback") == expected
