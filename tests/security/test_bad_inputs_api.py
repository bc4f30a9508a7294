"""The API rows of the catalogue (tests/security/catalogue.py): each bad input gets its 4xx,
a JSON error naming the field or the problem, and leaves nothing stored (row counts and the
media folder unchanged)."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator import outbound
from annotator.models import User
from mlserve.models import MLBackend
from projects.models import Organization, Project, ProjectMember, Webhook
from tasks.models import Annotation, Draft, Prediction, S3ExportStorage, S3ImportStorage, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, hand_task, make_project, make_user
from tests.security.catalogue import CASES, PNG, BadInput, record

pytestmark = pytest.mark.django_db

IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
  <Choices name="kind" toName="image"><Choice value="cat"/><Choice value="dog"/></Choices>
</View>"""

STORED = (Task, Annotation, Prediction, Draft, Project, Organization, ProjectMember, Webhook)
STORED += (MLBackend, User, S3ImportStorage, S3ExportStorage)


@dataclass
class World:
    names: dict[str, int]
    users: dict[str, User]
    media: Path


def _snapshot(world: World) -> dict[str, Any]:
    counts: dict[str, Any] = {m.__name__: m.objects.count() for m in STORED}
    files = sorted(str(p) for p in world.media.rglob("*") if p.is_file())
    counts["media files"] = files
    return counts


@pytest.fixture
def world(db, media_root, monkeypatch) -> World:
    # DNS is a third party's edge: "rebind.test" answers with loopback (a name that leads
    # inside), every other name is unknown, so no row waits on the network.
    def resolve(host: str, port: int) -> tuple[Any, ...]:
        if host == "rebind.test":
            return (ipaddress.ip_address("127.0.0.1"),)
        raise outbound._Refusal(f"cannot resolve {host!r} (no DNS in the test)")

    monkeypatch.setattr(outbound, "_resolve", resolve)
    manager, annotator = make_user(), make_user()
    project = make_project(owner=manager)
    add_member(project, annotator, "annotator")
    (task_id,) = tasks_import(
        project=project, items=[{"text": "Alice met Bob in Paris."}], user=None
    ).task_ids
    hand_task(task_id, annotator)
    image_project = make_project(owner=manager, label_config=IMAGE_CONFIG)
    other = make_project()
    (other_task,) = tasks_import(project=other, items=[{"text": "other"}], user=None).task_ids
    names = {
        "project": project.pk,
        "image_project": image_project.pk,
        "task": task_id,
        "other_project": other.pk,
        "other_task": other_task,
        "other_org": other.organization_id,
        "annotator": annotator.pk,
        "manager": manager.pk,
    }
    return World(names=names, users={"manager": manager, "annotator": annotator}, media=media_root)


def _fill(value: Any, names: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return names.get(value[1:-1], value)
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _send(case: BadInput, world: World) -> Any:
    client = api(world.users[case.as_user])
    path = case.path
    for name, value in world.names.items():
        path = path.replace("{" + name + "}", str(value))
    if case.files is not None:
        form = {
            key: SimpleUploadedFile(v[0], v[1]) if isinstance(v, tuple) else v
            for key, v in case.files.items()
        }
        return client.generic(case.method, path) if not form else client.post(path, form)
    if case.raw is not None:
        body = case.raw
    elif case.json is not None:
        body = json.dumps(_fill(case.json, world.names)).encode()
    else:
        return client.generic(case.method, path)
    return client.generic(case.method, path, body, content_type=case.content_type)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_nothing_is_stored(case: BadInput, world: World, settings):
    if "small-upload-limit" in case.tags:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
        settings.IMPORT_MAX_FILE_BYTES = 2**20
    before = _snapshot(world)
    response = _send(case, world)
    after = _snapshot(world)
    body = (
        response.json() if response.get("Content-Type", "").startswith("application/json") else None
    )
    if os.environ.get("CATALOGUE_SHOW"):
        print(case.id, response.status_code, body)
    record(
        case.id,
        accepted_wrongly=response.status_code not in case.status or before != after,
    )
    assert response.status_code in case.status, (response.status_code, body)
    assert after == before, "the bad input stored something"
    assert isinstance(body, dict), f"not a JSON error: {response.content[:200]!r}"
    assert body.get("status_code") == response.status_code
    if case.field is None:
        assert body.get("detail"), body
    else:
        assert case.field in body.get("validation_errors", {}), body
        assert all(body["validation_errors"][case.field]), body


TRAVERSAL_NAMES = {
    "dot-dot": "../../../../tmp/evil.png",
    "windows": "..\\..\\..\\evil.png",
    "absolute": "/etc/cron.d/evil.png",
    "encoded": "..%2F..%2Fevil.png",
    "nul": "evil.png\x00.html",
    "double-ext": "evil.html.png",
}


@pytest.mark.parametrize("name", TRAVERSAL_NAMES.values(), ids=list(TRAVERSAL_NAMES))
def test_upload_name_never_chooses_where_the_file_is_stored(name, world: World):
    """A crafted name is no reason to refuse a real image, but it decides nothing: the file
    lands in the project's media folder under a generated prefix and a cleaned name."""
    project = world.names["image_project"]
    before = set(_snapshot(world)["media files"])
    response = api(world.users["manager"]).post(
        f"/api/projects/{project}/import", {"file": SimpleUploadedFile(name, PNG)}
    )
    stored = set(_snapshot(world)["media files"]) - before
    folder = world.media / "projects" / str(project) / "media"
    escaped = [p for p in stored if Path(p).parent != folder]
    record(f"upload-name-{name!r}", accepted_wrongly=bool(escaped) or response.status_code >= 500)
    assert response.status_code in (201, 400), response.content
    assert not escaped
    for path in stored:
        prefix, _, clean = Path(path).name.partition("-")
        assert len(prefix) == 8 and clean.endswith(".png") and clean.count(".") == 1
