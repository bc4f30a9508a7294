from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # The figure the README's reliability table quotes (tests/tasks/test_job_faults.py).
    module = sys.modules.get("tests.tasks.test_job_faults")
    FAULTS = getattr(module, "FAULTS", None)
    if FAULTS:
        survived = sum(FAULTS.values())
        terminalreporter.write_line(
            f"job faults: {len(FAULTS)} injected, {survived} survived"
            + "".join(f"\n  not survived: {name}" for name, ok in FAULTS.items() if not ok)
        )
