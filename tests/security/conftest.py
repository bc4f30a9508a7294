from __future__ import annotations

from tests.security.catalogue import OUTCOMES, summary

# The browser fixtures (tests/ui) for the catalogue's browser test.
from tests.ui.conftest import _browser, browser_page, page_events  # noqa: F401


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # The figure the README quotes: every bad input the catalogue tried, and how many got
    # through (a 2xx, the wrong status, or something stored).
    if OUTCOMES:
        terminalreporter.write_line(summary())
