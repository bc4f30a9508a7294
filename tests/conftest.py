from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _shared_data_candidates() -> list[Path]:
    """Where the public data sets may be: ``ANNOTATOR_SHARED_DATA``, ``../shared/data``
    beside the checkout (or beside any folder above it: CI may clone deeper), and the
    team machines' ``/work/shared/data``."""
    found = [Path(p) for p in [os.environ.get("ANNOTATOR_SHARED_DATA", "")] if p]
    found += [folder / "shared" / "data" for folder in REPO.parents]
    found.append(Path("/work/shared/data"))
    return found


SHARED_DATA = next(
    (p for p in _shared_data_candidates() if p.is_dir()), REPO.parent / "shared" / "data"
)


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


def _missing(what: str) -> None:
    """A real service the test needs is absent: CI must have it; a user's laptop may not."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI must provide it: .ci/run starts it)")
    pytest.skip(what)


@pytest.fixture
def redis_url() -> str:
    """The running Redis (REDIS_URL, or the default local one)."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        _missing(f"no Redis answers at {url}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_server_binary() -> str:
    """redis-server, for tests that start and stop a Redis of their own."""
    import shutil

    found = shutil.which("redis-server")
    if found is None:
        _missing("redis-server is not installed")
    return str(found)


@pytest.fixture(autouse=True)
def _no_default_overlap(settings):
    # The suite's tests expect Label Studio's default (one annotation a task); new projects
    # get QUALITY_OVERLAP_PERCENTAGE of overlap in production. tests/quality sets it back.
    settings.QUALITY_OVERLAP_PERCENTAGE = 0


# --- faults (make reliability) -----------------------------------------------------------------
# A test marked ``@pytest.mark.fault("worker killed mid-import", ...)`` injects those faults and
# asserts the system came through them; the summary line is the figure the README's Reliability
# table quotes (bench/reliability.py reads it). The names travel in the report's
# user_properties, so they are counted under xdist too (the controller never collects).
_FAULTS: dict[str, bool] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    for marker in item.iter_markers("fault"):
        report.user_properties.append(("faults", list(marker.args)))


def pytest_runtest_logreport(report):
    names = [n for key, value in report.user_properties if key == "faults" for n in value]
    if not names:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        for name in names:
            _FAULTS[f"{report.nodeid}: {name}"] = report.passed


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _FAULTS:
        survived = sum(_FAULTS.values())
        terminalreporter.write_line(
            f"faults: {len(_FAULTS)} injected, {survived} survived"
            + "".join(f"\n  not survived: {name}" for name, ok in _FAULTS.items() if not ok)
        )
