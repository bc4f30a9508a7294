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
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

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
def _keep_connection():
    """The WSGI app closes the database connection when a request ends; the test's
    transaction lives on it (Django's test client unhooks the same signals)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, media_root, monkeypatch, settings, _keep_connection):
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


# What the issue asks of every response: no 5xx, a documented status and content type, a
# body that matches the schema, 405 for methods the schema does not list. (Schemathesis'
# stricter data checks, e.g. that any schema-violating input is refused, are not enabled:
# DRF ignores unknown fields by design.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
]


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
        case.call_and_validate(checks=CHECKS)


@pytest.mark.django_db
def test_a_token_header_that_is_not_latin1_is_a_401_not_a_crash(client):
    response = client.get("/api/projects", HTTP_AUTHORIZATION="Token caf\u00e9\u2026")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token header."
