"""The shared browser fixtures work: a signed-in page reaches the live server."""

from __future__ import annotations

import pytest

from tests.factories import make_project, make_user
from tests.ui.conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_signed_in_page_sees_its_projects(browser_page, page_events):
    user = make_user()
    project = make_project(owner=user, title="Fixture check")
    login(browser_page, user)
    browser_page.goto("/")
    browser_page.get_by_role("link", name=project.title).wait_for()
    path = screenshot(browser_page, "fixtures-project-list")
    assert path.stat().st_size > 1000
    assert page_events.dialogs == []


def test_anonymous_page_is_sent_to_login(browser_page):
    browser_page.goto("/")
    assert "/accounts/login/" in browser_page.url
