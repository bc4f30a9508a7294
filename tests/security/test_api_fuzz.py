"""Schemathesis against our own OpenAPI schema: every operation, as every role, with bounded
generated inputs on real objects. No 5xx, and every response matches the schema.

The examples per operation and role are few (``FUZZ_EXAMPLES``, 3 in CI) so the whole run
stays a few minutes; `make reliability` runs many more.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from annotator import outbound
from annotator.services import api_token_create
from annotator.wsgi import application
from tests.projects.test_permission_matrix import _build

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
# Each generated request is sent as every role in turn; those who may delete come last, so
# the others meet the objects first.
ROLES = ("anonymous", "outsider", "annotator", "reviewer", "manager", "org_admin", "owner")


def _schema() -> schemathesis.schemas.BaseSchema:
    from drf_spectacular.generators import SchemaGenerator

    spec = json.loads(
        json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str)
    )
    loaded = schemathesis.openapi.from_dict(spec)
    loaded.app = application
    # Each role signs in with its own token (below); generated credentials would replace it.
    loaded.config.generation.update(with_security_parameters=False)
    return loaded


schema = _schema()


@pytest.fixture
def fuzz_world(db, media_root, monkeypatch, settings):
    # Generated URLs name random hosts: DNS is a third party's edge, so the fuzz run answers
    # every lookup at once with "unknown host" instead of waiting on the network.
    def no_dns(host, port):
        raise outbound._Refusal(f"cannot resolve {host!r} (no DNS in the fuzz run)")

    monkeypatch.setattr(outbound, "_resolve", no_dns)
    home, other = _build("home", media_root), _build("other", media_root)
    tokens = {
        name: api_token_create(user=user, name="fuzz").key for name, user in home.users.items()
    }
    tokens["outsider"] = api_token_create(user=other.users["manager"], name="fuzz").key
    return home, tokens


# Path parameter -> the home world's object, by the resource the path names.
_RESOURCE = re.compile(r"^/api/([a-z-]+)/")


def _real_ids(case, ids: dict[str, int]) -> None:
    resource = (_RESOURCE.match(case.path) or [None, ""])[1]
    for name in list(case.path_parameters or {}):
        if name in ("pk", "id"):
            case.path_parameters[name] = ids.get(resource, ids["projects"])
        elif name in ids:
            case.path_parameters[name] = ids[name]
        elif name in ("project_id", "project"):
            case.path_parameters[name] = ids["projects"]
        elif name in ("task_id", "task"):
            case.path_parameters[name] = ids["tasks"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_operation(case, fuzz_world):
    home, tokens = fuzz_world
    _real_ids(case, home.ids)
    generated = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    for role in ROLES:
        headers = dict(generated)
        if role != "anonymous":
            headers["Authorization"] = f"Token {tokens[role]}"
        case.headers = headers
        case.call_and_validate()


@pytest.mark.django_db
def test_a_token_header_that_is_not_latin1_is_a_401_not_a_crash(client):
    response = client.get("/api/projects", HTTP_AUTHORIZATION="Token caf\u00e9\u2026")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token header."
