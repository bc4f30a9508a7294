#!/usr/bin/env python
"""Cloud storage benchmark against moto's S3 server on loopback (tests/s3_server.py):

- a source sync of ``--media`` image objects (one task each), then the same sync again
  (nothing new: the listing and the known-key check only);
- a source sync of ``--files`` JSON task files of 10 tasks each;
- a full target sync of ``--annotated`` annotated tasks (one PUT each);
- signing: ``media_resolve`` of a task with one ``s3://`` reference (the labelling page's cost).

moto is much slower than S3 per request, so the request-bound figures are a floor; the
database side is SQLite in a fresh folder. Prints one JSON document.

    python bench/storage_bench.py
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from inprocess import django_setup  # noqa: E402


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", type=int, default=1000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--annotated", type=int, default=300)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-storage-bench-"))
    logging_off()
    try:
        django_setup(
            data_dir,
            env={"OUTBOUND_ALLOW_PRIVATE_URLS": "1"},
            unset=("AWS_STORAGE_BUCKET_NAME",),
        )
        print(json.dumps(_run(args), indent=2))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def logging_off() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    import threading

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from annotator.models import User
    from projects.services import organization_create, project_create
    from tasks.models import S3ExportStorage, S3ImportStorage, Task
    from tasks.services import annotation_create
    from tasks.services.storages import export_sync, import_sync, storage_save
    from tasks.storage.media import media_resolve
    from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server, SignatureGuard

    class Quiet(MotoRequestHandler):
        def log_request(self, *a: Any, **k: Any) -> None:
            pass

    app = SignatureGuard(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s3 = S3Server(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
    client = s3.client()
    bucket = s3.bucket("bench-bucket")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for i in range(args.media):
        client.put_object(Bucket=bucket, Key=f"img/{i:06d}.png", Body=png)
    for i in range(args.files):
        body = json.dumps([{"text": f"file {i} task {j}"} for j in range(10)]).encode()
        client.put_object(Bucket=bucket, Key=f"json/{i:04d}.json", Body=body)

    manager = User.objects.create_user(username="manager", password=secrets.token_urlsafe())
    org = organization_create(title="Bench", owner=manager)
    image_config = (
        '<View><Image name="img" value="$image"/><Choices name="c" toName="img">'
        '<Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    text_config = (
        '<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
        '<Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    images = project_create(
        organization=org, title="img", created_by=manager, label_config=image_config
    )
    texts = project_create(
        organization=org, title="txt", created_by=manager, label_config=text_config
    )
    connection = {
        "bucket": bucket,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "region_name": REGION,
        "s3_endpoint": s3.endpoint,
    }
    media = storage_save(
        storage=S3ImportStorage(project=images),
        fields={**connection, "prefix": "img/", "use_blob_urls": True},
    )
    files = storage_save(
        storage=S3ImportStorage(project=texts), fields={**connection, "prefix": "json/"}
    )
    first, media_s = _timed(lambda: import_sync(storage_id=media.pk))
    again, resync_s = _timed(lambda: import_sync(storage_id=media.pk))
    parsed, files_s = _timed(lambda: import_sync(storage_id=files.pk))
    for task in Task.objects.filter(project=texts).order_by("id")[: args.annotated]:
        annotation_create(
            task=task,
            user=manager,
            result=[
                {"from_name": "c", "to_name": "text", "type": "choices",
                 "value": {"choices": ["a"]}}
            ],
        )  # fmt: skip
    target = storage_save(
        storage=S3ExportStorage(project=texts), fields={**connection, "prefix": "out/"}
    )
    exported, export_s = _timed(lambda: export_sync(storage_id=target.pk))
    task = Task.objects.filter(project=images).first()
    assert task is not None
    rounds = 200
    _, sign_s = _timed(
        lambda: [media_resolve(project=images, data=task.data) for _ in range(rounds)]
    )
    server.shutdown()
    return {
        "media_sync": {
            "objects": first.last_sync_count,
            "seconds": round(media_s, 2),
            "tasks_per_s": round(first.last_sync_count / media_s),
        },
        "media_resync_nothing_new": {"new": again.last_sync_count, "seconds": round(resync_s, 2)},
        "json_file_sync": {
            "files": args.files,
            "tasks": parsed.last_sync_count,
            "seconds": round(files_s, 2),
            "files_per_s": round(args.files / files_s, 1),
        },
        "export_sync": {
            "tasks": exported.last_sync_count,
            "seconds": round(export_s, 2),
            "tasks_per_s": round(exported.last_sync_count / export_s),
        },
        "presign_ms_per_task": round(1000 * sign_s / rounds, 2),
    }


if __name__ == "__main__":
    main()
