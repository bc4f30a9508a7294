from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotator.models import ApiToken, api_token_hash
from annotator.services import api_token_create
from tests.api_helpers import api
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_create_returns_the_key_once_and_stores_only_its_hash():
    user = make_user()
    response = api(user).post("/api/current-user/tokens", {"name": "ci"}, format="json")
    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert len(key) == 40
    assert body["prefix"] == key[:8]
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.key_hash == api_token_hash(key)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert _with_key(key).get("/api/current-user").json()["id"] == user.pk
    listed = api(user).get("/api/current-user/tokens").json()
    assert body["id"] in [t["id"] for t in listed]
    assert all("key" not in t for t in listed)


def test_revoked_token_stops_working_at_once():
    user = make_user()
    issued = api_token_create(user=user, name="script")
    client = _with_key(issued.key)
    assert client.get("/api/current-user").status_code == 200
    response = api(user).delete(f"/api/current-user/tokens/{issued.token.pk}")
    assert response.status_code == 204
    refused = client.get("/api/current-user")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Invalid token."
    listed = {t["id"]: t for t in api(user).get("/api/current-user/tokens").json()}
    assert listed[issued.token.pk]["active"] is False


def test_rotate_issues_a_new_key_and_revokes_the_old_one():
    user = make_user()
    issued = api_token_create(user=user, name="nightly")
    response = api(user).post(f"/api/current-user/tokens/{issued.token.pk}/rotate")
    assert response.status_code == 201
    new = response.json()
    assert new["name"] == "nightly" and new["key"] != issued.key
    assert _with_key(issued.key).get("/api/current-user").status_code == 401
    assert _with_key(new["key"]).get("/api/current-user").status_code == 200
    again = api(user).post(f"/api/current-user/tokens/{issued.token.pk}/rotate")
    assert again.status_code == 400
    assert "token" in again.json()["validation_errors"]


def test_another_users_token_is_404():
    owner, other = make_user(), make_user()
    issued = api_token_create(user=owner)
    assert api(other).delete(f"/api/current-user/tokens/{issued.token.pk}").status_code == 404
    assert api(other).post(f"/api/current-user/tokens/{issued.token.pk}/rotate").status_code == 404
    assert _with_key(issued.key).get("/api/current-user").status_code == 200


def test_token_name_too_long_is_a_field_error():
    response = api(make_user()).post("/api/current-user/tokens", {"name": "x" * 101}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["validation_errors"]


def test_inactive_user_token_is_refused():
    user = make_user()
    key = api_token_create(user=user).key
    user.is_active = False
    user.save()
    response = _with_key(key).get("/api/current-user")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_authentication_is_one_query_by_hash():
    user = make_user()
    key = api_token_create(user=user).key
    client = _with_key(key)
    client.get("/api/version")  # warm-up: the plan of the raw query is cached per connection
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/version").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 1, sql
    assert "key_hash" in sql[0] and "revoked_at IS NULL" in sql[0]
    assert key not in sql[0]


def test_label_studio_token_endpoint_with_a_token_returns_that_token():
    user = make_user()
    key = api_token_create(user=user).key
    assert _with_key(key).get("/api/current-user/token").json() == {"token": key}


def test_label_studio_token_endpoint_from_a_session_issues_a_usable_token(client):
    user = make_user()
    client.force_login(user)
    first = client.get("/api/current-user/token").json()["token"]
    second = client.get("/api/current-user/token").json()["token"]
    assert first != second
    for key in (first, second):
        assert _with_key(key).get("/api/current-user").json()["id"] == user.pk


def test_reset_token_from_a_session_revokes_every_token(client):
    user = make_user()
    keys = [api_token_create(user=user).key for _ in range(2)]
    client.force_login(user)
    new = client.post("/api/current-user/reset-token").json()["token"]
    assert [_with_key(k).get("/api/current-user").status_code for k in keys] == [401, 401]
    assert _with_key(new).get("/api/current-user").status_code == 200


def test_api_token_command_prints_a_working_token():
    user = make_user()
    out = io.StringIO()
    call_command("api_token", user.username, stdout=out)
    assert _with_key(out.getvalue().strip()).get("/api/current-user").json()["id"] == user.pk


def test_anonymous_caller_cannot_list_tokens():
    assert APIClient().get("/api/current-user/tokens").status_code == 401


def test_migration_hashes_existing_drf_tokens_and_drops_the_clear_keys():
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module(
        "annotator.migrations.0003_hash_drf_tokens_audit_append_only"
    )
    user = make_user()
    stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created {stamp} NOT NULL,"
            " user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            ["a" * 40, "2026-01-02 03:04:05", user.pk],
        )
    # The function reads only the editor's connection (SQLite refuses a schema editor
    # inside the test's transaction).
    migration.hash_drf_tokens(apps, SimpleNamespace(connection=connection))
    assert _with_key("a" * 40).get("/api/current-user").json()["id"] == user.pk
    token = ApiToken.objects.get(user=user)
    assert (token.prefix, token.name, token.created_at.year) == ("aaaaaaaa", "migrated", 2026)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")


def test_token_list_is_two_queries_whatever_the_count():
    user = make_user()
    client = api(user)
    for _ in range(4):
        api_token_create(user=user)
    with CaptureQueriesContext(connection) as queries:
        assert len(client.get("/api/current-user/tokens").json()) == 5
    assert len(queries) == 2
