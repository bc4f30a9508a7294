"""Identity providers for the single sign-on tests, each served by its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextmanager
def idp_process(script: str, *args: str) -> Iterator[list[str]]:
    """Start ``script`` on a free loopback port; yield the words of its ``READY`` line after
    ``READY`` (the port first); stop it on exit."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("READY "):
            proc.kill()
            raise RuntimeError(f"{script} did not start: {line}{proc.communicate()[1]}")
        yield line.split()[1:]
    finally:
        proc.kill()
        proc.wait(timeout=10)
