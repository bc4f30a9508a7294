from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The public data sets beside the repo; a user's clone has none, CI must."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_DATA} is missing: CI needs ../shared/data")
        pytest.skip(f"{SHARED_DATA} not present (public data sets live beside the repo)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    # Jobs run in the test process whatever the environment says; the broker path is
    # exercised by the jobs' own tests.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at production strength costs ~0.5 s a user on this machine class.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
