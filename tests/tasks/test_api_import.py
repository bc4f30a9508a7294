from __future__ import annotations

import gzip
import io
import json
import threading
from http.server import HTTPServer, SimpleHTTPRequestHandler

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tasks.models import ImportJob, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, choice, make_project, make_user, span

pytestmark = pytest.mark.django_db

IMAGE_CONFIG = """<View><Image name="img" value="$image"/>
<RectangleLabels name="box" toName="img"><Label value="car"/></RectangleLabels></View>"""


@pytest.fixture
def project(media_root):
    return make_project()


def _import(project, **kwargs):
    return api(project.created_by).post(f"/api/projects/{project.pk}/import", **kwargs)


def test_json_list_of_tasks_with_annotations_and_predictions(project):
    payload = [
        {
            "data": {"text": "Hello Alice"},
            "annotations": [{"result": [span(6, 11, "Alice")]}],
            "predictions": [{"result": [choice()], "score": 0.3}],
        },
        {"text": "bare data object"},
    ]
    response = _import(project, data=payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["task_count"], body["annotation_count"], body["prediction_count"]) == (2, 1, 1)
    assert ImportJob.objects.get(pk=body["import"]).status == "completed"


def test_return_task_ids(project):
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        [{"text": "a"}, {"text": "b"}],
        format="json",
    )
    assert response.json()["task_ids"] == list(
        Task.objects.filter(project=project).order_by("id").values_list("id", flat=True)
    )


def test_upload_without_commit_is_refused_and_nothing_is_written(project):
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/import"
    refused = client.post(f"{url}?commit_to_project=false", [{"text": "a"}], format="json")
    assert refused.status_code == 400
    assert "all or nothing" in refused.json()["validation_errors"]["commit_to_project"][0]
    assert not Task.objects.filter(project=project).exists()
    ok = client.post(f"{url}?commit_to_project=true", [{"text": "a"}], format="json")
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tasks.jsonl", b'{"text": "one"}\n{"text": "two"}\n'),
        ("tasks.csv", b"text,extra\none,1\ntwo,2\n"),
        ("tasks.tsv", b"text\textra\none\t1\ntwo\t2\n"),
        ("tasks.txt", b"one\ntwo\n"),
        ("tasks.json", b'[{"text": "one"}, {"text": "two"}]'),
        ("tasks.json.gz", gzip.compress(b'[{"text": "one"}, {"text": "two"}]', mtime=0)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_file_format(project, name, content):
    response = _import(
        project, data={"file": SimpleUploadedFile(name, content)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    texts = sorted(
        t["text"] for t in Task.objects.filter(project=project).values_list("data", flat=True)
    )
    assert texts == ["one", "two"]


def test_jsonl_body_by_content_type(project):
    response = _import(
        project, data=b'{"text": "a"}\n{"text": "b"}\n', content_type="application/x-ndjson"
    )
    assert response.status_code == 201
    assert Task.objects.filter(project=project).count() == 2


def test_bad_row_rejects_whole_import_with_row_number(project):
    lines = [json.dumps({"text": f"t{i}"}) for i in range(3000)]
    lines[2500] = json.dumps({"txt": "oops"})
    response = _import(
        project,
        data={"file": SimpleUploadedFile("t.jsonl", "\n".join(lines).encode())},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["validation_errors"]["tasks"] == [
        "row 2501 data.text: missing data field 'text' the labelling config uses"
    ]
    assert not Task.objects.filter(project=project).exists()
    assert ImportJob.objects.get().status == "failed"


def test_broken_csv_names_the_line(project):
    content = b'text\n"ok"\n"broken\n'
    response = _import(
        project, data={"file": SimpleUploadedFile("t.csv", content)}, format="multipart"
    )
    assert response.status_code == 400
    [message] = response.json()["validation_errors"]["file"]
    assert "t.csv line 3" in message
    assert not Task.objects.exists()


def test_malformed_json_body(project):
    response = _import(project, data=b'[{"text": "a"}, {"text": ', content_type="application/json")
    assert response.status_code == 400
    assert "file" in response.json()["validation_errors"]


def test_negative_lead_time_is_refused(project):
    response = _import(
        project,
        data=[{"data": {"text": "x"}, "annotations": [{"result": [], "lead_time": -3}]}],
        format="json",
    )
    assert response.status_code == 400
    assert "lead_time" in response.json()["validation_errors"]["tasks"][0]


def test_empty_upload_is_refused(project):
    response = _import(project, data=[], format="json")
    assert response.status_code == 400
    assert response.json()["validation_errors"]["tasks"] == ["no task found in the upload"]


def test_annotator_cannot_import(project):
    annotator = make_user()
    add_member(project, annotator)
    response = api(annotator).post(
        f"/api/projects/{project.pk}/import", [{"text": "a"}], format="json"
    )
    assert response.status_code == 403


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_image_files_become_tasks_pointing_at_stored_media(media_root):
    project = make_project(label_config=IMAGE_CONFIG)
    files = {
        "a": SimpleUploadedFile("../../etc/cat.png", _png()),
        "b": SimpleUploadedFile("dog.png", _png()),
    }
    response = _import(project, data=files, format="multipart")
    assert response.status_code == 201, response.content
    urls = [t["image"] for t in Task.objects.filter(project=project).values_list("data", flat=True)]
    assert len(urls) == 2
    assert all(u.startswith("/media/projects/") and ".." not in u for u in urls)
    client = api(project.created_by)
    client.force_login(project.created_by)
    served = client.get(urls[0])
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_renamed_file_that_is_not_an_image_is_refused(media_root):
    project = make_project(label_config=IMAGE_CONFIG)
    response = _import(
        project,
        data={"f": SimpleUploadedFile("evil.png", b"<?php system($_GET['c']);")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "not a image file" in response.json()["validation_errors"]["file"][0]
    assert not Task.objects.exists()


def test_svg_upload_is_refused(media_root):
    project = make_project(label_config=IMAGE_CONFIG)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = _import(project, data={"f": SimpleUploadedFile("x.svg", svg)}, format="multipart")
    assert response.status_code == 400


def test_image_on_a_text_project_is_refused(project):
    response = _import(
        project, data={"f": SimpleUploadedFile("cat.png", _png())}, format="multipart"
    )
    assert response.status_code == 400
    assert "no image object" in response.json()["validation_errors"]["file"][0]


@pytest.fixture
def file_server(tmp_path):
    (tmp_path / "tasks.json").write_text(json.dumps([{"text": "from url"}]))

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(tmp_path), **k)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_url_import_refuses_loopback_by_default(project, file_server):
    response = _import(project, data={"url": f"{file_server}/tasks.json"}, format="multipart")
    assert response.status_code == 400
    assert "loopback" in json.dumps(response.json())
    assert not Task.objects.exists()


def test_url_import_when_the_admin_allows_private_addresses(project, file_server, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    response = _import(project, data={"url": f"{file_server}/tasks.json"}, format="multipart")
    assert response.status_code == 201, response.content
    assert Task.objects.get(project=project).data == {"text": "from url"}


def test_large_import_runs_as_a_job_with_progress(
    project, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_ASYNC_BYTES = 100
    payload = [{"text": f"task {i}"} for i in range(5000)]
    with django_capture_on_commit_callbacks(execute=True):
        response = _import(project, data=payload, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    status = api(project.created_by).get(f"/api/projects/{project.pk}/imports/{job_id}").json()
    assert status["status"] == "completed"  # eager Celery in tests: the job ran on commit
    assert status["task_count"] == status["rows_done"] == 5000
    assert Task.objects.filter(project=project).count() == 5000


def test_failed_job_keeps_its_errors(project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(project.created_by).post(
            f"/api/projects/{project.pk}/import?async=true",
            [{"text": "ok"}, {"bad": 1}],
            format="json",
        )
    assert response.status_code == 202
    status = (
        api(project.created_by)
        .get(f"/api/projects/{project.pk}/imports/{response.json()['id']}")
        .json()
    )
    assert status["status"] == "failed"
    assert status["errors"][0]["row"] == 2
    assert not Task.objects.exists()


def test_import_job_of_another_project_is_404(project):
    other = make_project()
    response = api(other.created_by).post(
        f"/api/projects/{other.pk}/import", [{"text": "x"}], format="json"
    )
    job_id = response.json()["import"]
    assert (
        api(project.created_by).get(f"/api/projects/{project.pk}/imports/{job_id}").status_code
        == 404
    )


def test_import_predictions_for_tasks_of_the_project(project):
    summary = tasks_import(project=project, user=project.created_by, items=[{"text": "Hello"}])
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/import/predictions",
        [{"task": summary.task_ids[0], "result": [choice()], "score": 0.5}],
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1}
    assert Task.objects.get(pk=summary.task_ids[0]).total_predictions == 1


def test_import_predictions_rejects_a_task_of_another_project(project):
    other = make_project(owner=project.created_by)
    summary = tasks_import(project=other, user=project.created_by, items=[{"text": "Hello"}])
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/import/predictions",
        [{"task": summary.task_ids[0], "result": [choice()]}],
        format="json",
    )
    assert response.status_code == 400
    assert "is not in project" in response.json()["validation_errors"]["predictions"][0]
    assert Task.objects.get(pk=summary.task_ids[0]).total_predictions == 0


def test_import_predictions_needs_the_manage_role(project):
    annotator = make_user()
    add_member(project, annotator)
    response = api(annotator).post(
        f"/api/projects/{project.pk}/import/predictions", [], format="json"
    )
    assert response.status_code == 403
