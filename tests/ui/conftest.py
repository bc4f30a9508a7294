"""Browser fixtures: headless Debian Chromium driven by Playwright against ``live_server``.

Use ``browser_page`` (a Playwright page whose relative URLs go to the live server), log a
user in with ``login(page, user)``, and save evidence with ``screenshot(page, name)`` (PNG
under ``test-output/screenshots/``). ``page_events`` records the dialogs (alert, confirm...)
and uncaught script errors of the page; a test fails at teardown on an uncaught script error.

Without ``/usr/bin/chromium`` (or ``CHROMIUM_PATH``) or the playwright package the browser
tests skip with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.wsgi import WSGIHandler

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
# The live server's URL of each page, for login() to scope its cookie.
_BASE_URLS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests (apt-get install -y chromium)")
    pytest.skip(f"{reason} (apt-get install -y chromium; pip install -r requirements-dev.txt)")


# Per module, not per session: while Playwright runs, its asyncio loop is registered on this
# thread, which breaks async_to_sync (websocket broadcasts) in any other test the same worker
# runs meanwhile. A module of browser tests shares one browser.
@pytest.fixture(scope="module")
def _browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    # Playwright's sync API keeps an asyncio loop registered on this thread, which makes
    # Django refuse ORM calls from test code ("you cannot call this from an async context").
    # The calls are plain synchronous ones; the loop only serves Playwright's pipe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class PageEvents:
    """What the page did that a test may want to assert on."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page_events() -> PageEvents:
    return PageEvents()


class _InFlight:
    """Requests the live server is handling right now (the browser's auto-saves and lease
    heartbeats may still run when a test ends)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.last_change = time.monotonic()

    def wrap(self, handler: Any) -> Any:
        def call(this: Any, environ: Any, start_response: Any) -> Any:
            with self.lock:
                self.count += 1
                self.last_change = time.monotonic()
            try:
                return handler(this, environ, start_response)
            finally:
                with self.lock:
                    self.count -= 1
                    self.last_change = time.monotonic()

        return call

    def wait_quiet(self, quiet: float = 0.3, timeout: float = 15) -> None:
        """Until no request has run for ``quiet`` seconds: the database flush after the test
        must not race a request (on PostgreSQL the two deadlock)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.count == 0 and time.monotonic() - self.last_change >= quiet:
                    return
            time.sleep(0.05)


@pytest.fixture
def browser_page(
    _browser: Any, live_server: Any, page_events: PageEvents, settings: Any, monkeypatch: Any
) -> Iterator[Any]:
    """A fresh browser context and page; ``page.goto("/projects/")`` reaches the live server."""
    # Websocket broadcasts (async_to_sync) cannot run on a thread where Playwright's loop is
    # registered, and no browser test listens to them: no channel layer, no broadcast.
    settings.CHANNEL_LAYERS = {}
    context = _browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Playwright's wait_for_function builds its predicate with new Function, which the pages'
    # Content-Security-Policy forbids (no 'unsafe-eval'): poll page.evaluate (sent over the
    # DevTools protocol, outside the policy) instead.
    page.wait_for_function = lambda expression, arg=None, timeout=15_000, **_: _poll(
        page, expression, timeout, arg
    )
    _BASE_URLS[page] = live_server.url

    def on_dialog(dialog: Any) -> None:
        page_events.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: page_events.errors.append(str(error)))
    page.on(
        "console",
        lambda msg: page_events.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    in_flight = _InFlight()
    monkeypatch.setattr(WSGIHandler, "__call__", in_flight.wrap(WSGIHandler.__call__))
    yield page
    context.close()
    in_flight.wait_quiet()
    assert not page_events.errors, f"uncaught script errors in the page: {page_events.errors}"


def _poll(page: Any, expression: str, timeout: float, arg: Any = None) -> Any:
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression) if arg is None else page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression!r} still false after {timeout} ms")
        page.wait_for_timeout(50)


def login(page: Any, user: Any) -> None:
    """Sign ``user`` in by giving the page's context a session cookie (no login form)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}
    page.context.add_cookies([{**cookie, "url": _BASE_URLS[page]}])


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG as ``test-output/screenshots/<name>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
