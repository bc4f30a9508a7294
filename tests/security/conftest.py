from __future__ import annotations

import pytest

from tests.security.catalogue import OUTCOMES, summary

# The browser fixtures (tests/ui) for the catalogue's browser test.
from tests.ui.conftest import _browser, browser_page, page_events  # noqa: F401

# Outcomes gathered from the test reports: under xdist the tests run in worker processes and
# only their reports reach the process that prints the summary.
_TRIED: dict[str, bool] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if OUTCOMES:
        outcome.get_result().user_properties.append(("bad_inputs", dict(OUTCOMES)))
        OUTCOMES.clear()


def pytest_runtest_logreport(report):
    for key, value in report.user_properties:
        if key == "bad_inputs":
            _TRIED.update(value)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # The figure the README quotes: every bad input the catalogue tried, and how many got
    # through (a 2xx, the wrong status, or something stored).
    if _TRIED:
        terminalreporter.write_line(summary(_TRIED))
