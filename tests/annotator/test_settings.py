"""The environment switch: each case runs Django in a fresh process with its own env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'],"
    "'db_options': settings.DATABASES['default'].get('OPTIONS', {}),"
    "'layer': settings.CHANNEL_LAYERS['default']['BACKEND'],"
    "'cache': settings.CACHES['default']['BACKEND'],"
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL,"
    "'storage': settings.STORAGES['default']['BACKEND']}))"
)
ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "HTTPS",
    "ALLOWED_HOSTS",
    "AWS_STORAGE_BUCKET_NAME",
    "CELERY_TASK_ALWAYS_EAGER",
    "CELERY_BROKER_URL",
)
KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyzABCD"


def _run(tmp_path, code=PROBE, args=None, **env):
    base = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    base.update(DJANGO_SETTINGS_MODULE="annotator.settings", ANNOTATOR_DATA_DIR=str(tmp_path))
    base.update(env)
    cmd = [sys.executable, *(args or ["-c", code])]
    return subprocess.run(cmd, cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)


def test_no_environment_means_embedded_defaults(tmp_path):
    out = _run(tmp_path)
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout)
    assert probe["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in probe["db_options"]["init_command"]
    assert probe["layer"] == "channels.layers.InMemoryChannelLayer"
    assert probe["cache"].endswith("LocMemCache")
    assert probe["eager"] is True
    assert probe["storage"].endswith("FileSystemStorage")
    # The embedded secret key is generated once, private, and reused.
    key_file = tmp_path / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    first = key_file.read_text()
    assert _run(tmp_path).returncode == 0
    assert key_file.read_text() == first


def test_database_and_redis_urls_switch_to_postgresql_and_redis(tmp_path):
    out = _run(
        tmp_path,
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/3",
        SECRET_KEY=KEY,
    )
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout)
    assert probe["engine"] == "django.db.backends.postgresql"
    assert probe["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert probe["cache"].endswith("RedisCache")
    assert probe["eager"] is False
    assert probe["broker"] == "redis://127.0.0.1:6379/3"


def test_bucket_switches_media_to_s3(tmp_path):
    out = _run(tmp_path, AWS_STORAGE_BUCKET_NAME="media", S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["storage"] == "storages.backends.s3.S3Storage"


def test_database_url_without_secret_key_refuses_to_start(tmp_path):
    out = _run(tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_placeholder_secret_key_is_refused_without_debug(tmp_path):
    out = _run(tmp_path, SECRET_KEY="django-insecure-change-me")
    assert out.returncode != 0
    assert "SECRET_KEY is too short or a placeholder" in out.stderr


def test_bad_boolean_names_the_variable(tmp_path):
    out = _run(tmp_path, DEBUG="maybe")
    assert out.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in out.stderr


def test_bad_sso_provider_list_names_the_variable_and_the_entry(tmp_path):
    providers = '[{"provider_id": "corp", "name": "Corp", "client_id": "x"}]'
    out = _run(tmp_path, SSO_OIDC_PROVIDERS=providers)
    assert out.returncode != 0
    assert "SSO_OIDC_PROVIDERS[0] lacks server_url" in out.stderr


def test_unsupported_database_is_refused(tmp_path):
    out = _run(tmp_path, DATABASE_URL="mysql://u@127.0.0.1/x", SECRET_KEY=KEY)
    assert out.returncode != 0
    assert "PostgreSQL or SQLite" in out.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    out = _run(
        tmp_path,
        args=["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY=KEY,
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/3",
        ALLOWED_HOSTS="annotator.example.com",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
