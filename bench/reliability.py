#!/usr/bin/env python
"""The reliability run (`make reliability`): every figure of the README's Reliability table
from one command.

1. The API fuzzer (tests/security/test_api_fuzz.py) with ``FUZZ_EXAMPLES`` examples per
   operation and caller (20 by default; CI runs 2): operations fuzzed, failures, 5xx.
2. The bad-input catalogue (tests/security/test_bad_inputs_*.py): inputs tried, accepted
   wrongly.
3. The fault tests (every test marked ``fault``: workers killed mid-job, a job outliving the
   broker's visibility timeout, no worker, PostgreSQL and Redis stopped under annotators):
   faults injected, survived.
4. bench/load_check.py: 50 annotators on PostgreSQL for a minute, then the row audit:
   latency percentiles, annotations lost or duplicated.

Prints one JSON document (and a table on stderr); exits non-zero when any part failed. Needs
PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), as CI has them.

    python bench/reliability.py                     # all four
    python bench/reliability.py --skip-load --fuzz-examples 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BAD_INPUTS = [
    "tests/security/test_bad_inputs_api.py",
    "tests/security/test_bad_inputs_web.py",
    "tests/security/test_bad_inputs_browser.py",
]


def _pytest(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, float]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-n", "2", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    text = out.stdout + out.stderr
    sys.stderr.write(text[-3000:])
    return out.returncode, text, round(time.perf_counter() - started, 1)


def fuzz(examples: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "fuzz.xml"
        code, _, seconds = _pytest(
            ["tests/security/test_api_fuzz.py", f"--junitxml={junit}"],
            {"FUZZ_EXAMPLES": str(examples)},
        )
        cases = ET.parse(junit).getroot().iter("testcase")
        operations = failures = server_errors = 0
        for case in cases:
            if not case.get("name", "").startswith("test_api_operation"):
                continue
            operations += 1
            failed = case.find("failure")
            if failed is None:
                failed = case.find("error")
            if failed is not None:
                failures += 1
                text = (failed.get("message") or "") + (failed.text or "")
                server_errors += bool(re.search(r"Server error|\b5\d\d\b", text))
    return {
        "examples_per_operation_and_caller": examples,
        "operations": operations,
        "callers": 7,
        "failures": failures,
        "server_errors": server_errors,
        "seconds": seconds,
        "ok": code == 0,
    }


def _summary_line(text: str, pattern: str) -> tuple[int, int] | None:
    found = re.findall(pattern, text)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def bad_inputs() -> dict[str, Any]:
    code, text, seconds = _pytest(BAD_INPUTS)
    counts = _summary_line(text, r"bad inputs: (\d+) tried, (\d+) accepted wrongly")
    tried, wrong = counts or (0, -1)
    ok = code == 0 and tried > 0 and wrong == 0
    return {"tried": tried, "accepted_wrongly": wrong, "seconds": seconds, "ok": ok}


def faults() -> dict[str, Any]:
    code, text, seconds = _pytest(["-m", "fault", "tests"])
    counts = _summary_line(text, r"faults: (\d+) injected, (\d+) survived")
    injected, survived = counts or (0, 0)
    return {
        "injected": injected,
        "survived": survived,
        "seconds": seconds,
        "ok": code == 0 and injected > 0 and injected == survived,
    }


def load(annotators: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "bench/load_check.py", "--db", "postgresql",
         "--annotators", str(annotators), "--seconds", str(seconds)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-3000:])
        return {"ok": False}
    report = json.loads(out.stdout)["postgresql"]
    audit = report["audit"]
    p95 = {kind: values["p95_ms"] for kind, values in report["latency"].items()}
    lost = audit["lost"] + audit["duplicate_annotations"] + audit["tasks_held_by_two"]
    return {
        "annotators": annotators,
        "seconds": report["seconds"],
        "think_seconds": report["think_seconds"],
        "annotations": report["submits_accepted"],
        "requests_per_s": report["requests_per_s"],
        "p95_ms": p95,
        "audit": audit,
        "errors": report["errors"],
        "ok": lost == 0 and audit["counter_mismatches"] == 0 and not report["errors"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fuzz-examples", type=int, default=20)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "fuzzing": fuzz(args.fuzz_examples),
        "bad_inputs": bad_inputs(),
        "faults": faults(),
    }
    if not args.skip_load:
        report["load"] = load(args.annotators, args.seconds)
    print(json.dumps(report, indent=2))
    f, b, x = report["fuzzing"], report["bad_inputs"], report["faults"]
    lines = [
        f"operations fuzzed: {f['operations']} x {f['callers']} callers, "
        f"{f['server_errors']} 5xx, {f['failures']} failures",
        f"bad inputs: {b['tried']} tried, {b['accepted_wrongly']} accepted wrongly",
        f"faults: {x['injected']} injected, {x['survived']} survived",
    ]
    if "load" in report and report["load"].get("ok") is not None and "p95_ms" in report["load"]:
        ld = report["load"]
        lines.append(
            f"annotators: {ld['annotators']}, p95 ms {ld['p95_ms']}, "
            f"lost {ld['audit']['lost']}, duplicated {ld['audit']['duplicate_annotations']}"
        )
    sys.stderr.write("\n".join(lines) + "\n")
    return 0 if all(part.get("ok") for part in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
