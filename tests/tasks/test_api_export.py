from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
import spacy
from spacy.tokens import DocBin

from tasks.exporters import read_conll
from tasks.models import Annotation
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user, span

pytestmark = pytest.mark.django_db

BOX_CONFIG = """<View><Image name="img" value="$image"/>
<RectangleLabels name="box" toName="img"><Label value="car"/><Label value="tree"/></RectangleLabels></View>"""


def _box(x, y, w, h, label="car", item_id="b1"):
    return {
        "id": item_id, "from_name": "box", "to_name": "img", "type": "rectanglelabels",
        "original_width": 200, "original_height": 100,
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]},
    }  # fmt: skip


@pytest.fixture
def text_project(media_root):
    project = make_project()
    tasks_import(
        project=project,
        user=project.created_by,
        items=[
            {
                "data": {"text": "Hello Alice from Paris"},
                "annotations": [
                    {
                        "result": [
                            span(6, 11, "Alice"),
                            span(17, 22, "Paris", "LOC", "s2"),
                            choice(),
                        ],
                        "ground_truth": True,
                    }
                ],
            },
            {
                "data": {"text": "Bob is here"},
                "annotations": [{"result": [span(0, 3, "Bob"), choice("ask")]}],
                "predictions": [{"result": [choice()], "score": 0.2}],
            },
            {"text": "not annotated yet"},
        ],
    )
    return project


def _export(project, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api(project.created_by).get(f"/api/projects/{project.pk}/export?{query}")
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    return b"".join(response.streaming_content)


def test_json_export_timestamps_are_the_stored_instants_in_utc(text_project):
    from datetime import datetime

    from tasks.models import Prediction, Task

    exported = json.loads(_export(text_project, exportType="JSON", download_all_tasks="true"))
    by_id = {t["id"]: t for t in exported}
    for task in Task.objects.filter(project=text_project):
        out = by_id[task.pk]
        assert datetime.fromisoformat(out["created_at"]) == task.created_at
        assert datetime.fromisoformat(out["updated_at"]) == task.updated_at
        for a in out["annotations"]:
            stored = Annotation.objects.get(pk=a["id"])
            assert datetime.fromisoformat(a["created_at"]) == stored.created_at
            assert datetime.fromisoformat(a["updated_at"]) == stored.updated_at
            assert a["created_at"].endswith("+00:00")
        for p in out["predictions"]:
            stored_p = Prediction.objects.get(pk=p["id"])
            assert datetime.fromisoformat(p["created_at"]) == stored_p.created_at
    assert any(t["predictions"] for t in exported)


def test_json_export_defaults_to_annotated_tasks_like_label_studio(text_project):
    tasks = json.loads(_export(text_project, exportType="JSON"))
    assert [t["data"]["text"] for t in tasks] == ["Hello Alice from Paris", "Bob is here"]
    assert tasks[1]["predictions"][0]["score"] == 0.2
    everything = json.loads(_export(text_project, exportType="JSON", download_all_tasks="true"))
    assert len(everything) == 3


def test_only_ground_truth_and_only_accepted_filters(text_project):
    assert [
        t["data"]["text"]
        for t in json.loads(_export(text_project, exportType="JSON", only_ground_truth="true"))
    ] == ["Hello Alice from Paris"]
    assert json.loads(_export(text_project, exportType="JSON", only_accepted="true")) == []
    Annotation.objects.filter(task__data__text="Bob is here").update(review_status="accepted")
    assert [
        t["data"]["text"]
        for t in json.loads(_export(text_project, exportType="JSON", only_accepted="true"))
    ] == ["Bob is here"]


def test_csv_and_json_min(text_project):
    rows = list(csv.DictReader(io.StringIO(_export(text_project, exportType="CSV").decode())))
    assert [r["text"] for r in rows] == ["Hello Alice from Paris", "Bob is here"]
    assert rows[1]["intent"] == "ask"
    minimal = json.loads(_export(text_project, exportType="JSON_MIN"))
    assert minimal[0]["intent"] == "greet"


def test_conll_reads_back_to_the_spans(text_project):
    sentences = read_conll(_export(text_project, exportType="CONLL2003").decode())
    tokens, tags = sentences[0]
    assert list(zip(tokens, tags, strict=True)) == [
        ("Hello", "O"),
        ("Alice", "B-PER"),
        ("from", "O"),
        ("Paris", "B-LOC"),
    ]


def test_spacy_docbin_loads_with_entities_and_cats(text_project):
    docs = list(
        DocBin()
        .from_bytes(_export(text_project, exportType="SPACY"))
        .get_docs(spacy.blank("xx").vocab)
    )
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Alice", "PER"), ("Paris", "LOC")]
    assert docs[1].cats["ask"] == 1.0


def test_hf_jsonl_one_example_per_line(text_project):
    lines = [
        json.loads(line)
        for line in _export(text_project, exportType="HF_JSONL").decode().splitlines()
    ]
    assert [line["text"] for line in lines] == ["Hello Alice from Paris", "Bob is here"]
    assert lines[0]["ner_tags"] == ["O", "B-PER", "O", "B-LOC"]


def test_span_format_on_image_project_is_a_clear_400(media_root):
    project = make_project(label_config=BOX_CONFIG)
    response = api(project.created_by).get(
        f"/api/projects/{project.pk}/export?exportType=CONLL2003"
    )
    assert response.status_code == 400
    assert "CONLL2003" in response.json()["validation_errors"]["exportType"][0]


def test_unknown_export_type_is_a_400(text_project):
    response = api(text_project.created_by).get(
        f"/api/projects/{text_project.pk}/export?exportType=PDF"
    )
    assert response.status_code == 400
    assert "exportType" in response.json()["validation_errors"]


def test_image_formats(media_root):
    project = make_project(label_config=BOX_CONFIG)
    tasks_import(
        project=project,
        user=None,
        items=[
            {
                "data": {"image": "/media/x/cat.png"},
                "annotations": [{"result": [_box(10, 20, 50, 40)]}],
            }
        ],
    )
    coco = json.loads(_export(project, exportType="COCO"))
    assert coco["annotations"][0]["bbox"] == pytest.approx([20.0, 20.0, 100.0, 40.0])
    assert coco["images"][0]["file_name"].endswith("cat.png")
    yolo = zipfile.ZipFile(io.BytesIO(_export(project, exportType="YOLO")))
    [label_file] = [n for n in yolo.namelist() if n.startswith("labels/")]
    cls, cx, cy, w, h = yolo.read(label_file).decode().split()
    assert (cls, float(cx), float(cy), float(w), float(h)) == (
        "0",
        pytest.approx(0.35),
        pytest.approx(0.4),
        pytest.approx(0.5),
        pytest.approx(0.4),
    )
    voc = zipfile.ZipFile(io.BytesIO(_export(project, exportType="VOC")))
    assert b"<name>car</name>" in voc.read(voc.namelist()[0])


def test_round_trip_json_export_into_a_new_project(text_project):
    first = json.loads(_export(text_project, exportType="JSON", download_all_tasks="true"))
    copy = make_project(owner=text_project.created_by)
    response = api(copy.created_by).post(f"/api/projects/{copy.pk}/import", first, format="json")
    assert response.status_code == 201, response.content
    second = json.loads(_export(copy, exportType="JSON", download_all_tasks="true"))

    def essence(tasks):
        return [
            (
                t["data"],
                [(a["result"], a["ground_truth"], a["was_cancelled"]) for a in t["annotations"]],
                [(p["result"], p["score"]) for p in t["predictions"]],
            )
            for t in tasks
        ]

    assert essence(second) == essence(first)


def test_export_job_then_download(text_project, django_capture_on_commit_callbacks):
    client = api(text_project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/projects/{text_project.pk}/exports",
            {"exportType": "JSON", "download_all_tasks": True},
            format="json",
        )
    assert created.status_code == 201
    job = client.get(f"/api/projects/{text_project.pk}/exports/{created.json()['id']}").json()
    assert (job["status"], job["task_count"]) == ("completed", 3)
    download = client.get(f"/api/projects/{text_project.pk}/exports/{job['id']}/download")
    assert len(json.loads(b"".join(download.streaming_content))) == 3


def test_formats_list_marks_what_applies(text_project):
    formats = {
        f["name"]: f["disabled"]
        for f in api(text_project.created_by)
        .get(f"/api/projects/{text_project.pk}/export/formats")
        .json()
    }
    assert formats["CONLL2003"] is False
    assert formats["COCO"] is True


def test_annotator_cannot_export(text_project):
    annotator = make_user()
    add_member(text_project, annotator)
    assert (
        api(annotator).get(f"/api/projects/{text_project.pk}/export?exportType=JSON").status_code
        == 403
    )


def test_export_type_is_also_read_under_the_sdk_name(text_project):
    rows = list(csv.DictReader(io.StringIO(_export(text_project, export_type="CSV").decode())))
    assert [r["text"] for r in rows] == ["Hello Alice from Paris", "Bob is here"]


def test_export_of_chosen_task_ids(text_project):
    first, _, third = text_project.tasks.order_by("id").values_list("id", flat=True)
    sdk_form = _export(text_project, download_all_tasks="true", ids=f"{first}&ids={third}")
    docs_form = _export(text_project, download_all_tasks="true", **{"ids[]": third})
    assert [t["id"] for t in json.loads(sdk_form)] == [first, third]
    assert [t["id"] for t in json.loads(docs_form)] == [third]


def test_json_export_writes_stored_data_verbatim_even_with_huge_numbers(media_root):
    project = make_project()
    data = {"text": "Ünïcode ✓ and a huge id", "id_big": 2**70, "nested": {"a": [1, 2.5, None]}}
    tasks_import(
        project=project, user=None, items=[{"data": data, "annotations": [{"result": [choice()]}]}]
    )
    [task] = json.loads(_export(project, exportType="JSON"))
    assert task["data"] == data


def test_json_encoder_falls_back_for_what_orjson_refuses():
    from tasks.exporters import RawJSON
    from tasks.exporters.tabular import _dumps

    value = {"data": RawJSON('{"a": 1}'), "big": 2**70}
    assert json.loads(_dumps(value)) == {"data": {"a": 1}, "big": 2**70}
