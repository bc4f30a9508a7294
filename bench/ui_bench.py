"""Labelling-page figures on the demo intent + entity project, printed as one JSON document.

Starts the app (uvicorn, one worker, fresh SQLite), seeds the demo (`manage.py seed_demo`),
signs the demo admin in through the login form and drives headless Chromium (Debian's
/usr/bin/chromium, or CHROMIUM_PATH) with Playwright:

- interactive: navigation start -> the task is shown and takes keys (`label-ready` mark);
  baseline: the projects page (server-rendered, no script) to DOMContentLoaded, same run;
- task switch: K (next task) and Enter (submit -> next task) -> the new task is shown
  (`label-switch` measure, from the key handler to the rendered task);
- keystrokes: accepting a correct prediction; one entity + one intent from scratch, and the
  same where the entity is a multi-word lowercase phrase the project knows ("yoga mat");
- JavaScript loaded by the page after using it (bytes, decoded).

Timings are medians of several runs; read them against the baseline (shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_bench import Client, Server  # noqa: E402  (bench/ is the script's folder)
from ui_scenarios import (  # noqa: E402
    ACCEPT_KEYS,
    JS_BYTES,
    config_hotkeys,
    matches,
    pick_accept,
    pick_scratch,
    scratch_keys,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = "#label-app[data-state=ready][data-task='{}']"


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 1)


class Bench:
    def __init__(self, server: Server, page: Any, token: str, utterances: int) -> None:
        self.server = server
        self.page = page
        self.client = Client(server.port, token)
        self.url = f"http://127.0.0.1:{server.port}"
        from annotator.demo import generate_utterances

        self.truth = {u.text: u for u in generate_utterances(utterances, seed=0)}
        projects = json.loads(self.client.get("/api/projects?page_size=100")[1])
        rows = projects["results"] if isinstance(projects, dict) else projects
        text = next(p for p in rows if p["title"].startswith("Customer service"))
        self.project = text["id"]
        self.schema = text["parsed_label_config"]
        self.tasks = self.load_tasks()

    def load_tasks(self) -> list[dict[str, Any]]:
        body = self.client.get(f"/api/tasks?project={self.project}&fields=all&page_size=1000")[1]
        tasks: list[dict[str, Any]] = json.loads(body)["tasks"]
        for task in tasks:
            task["predictions"] = [p["result"] for p in task["predictions"]]
            task["annotations"] = [a["result"] for a in task["annotations"]]
        return tasks

    def open(self, task_id: int) -> float:
        self.page.goto(f"{self.url}/projects/{self.project}/label/{task_id}/")
        self.page.wait_for_selector(READY.format(task_id))
        return float(self.page.evaluate("performance.getEntriesByName('label-ready')[0].startTime"))

    def baseline(self) -> float:
        self.page.goto(f"{self.url}/")
        return float(
            self.page.evaluate(
                "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
        )

    def wait(self, expression: str, timeout: float = 15.0) -> None:
        """Poll ``expression`` with page.evaluate: Playwright's wait_for_function compiles
        its predicate with new Function, which the pages' Content-Security-Policy forbids.
        (The figures come from the page's own performance marks, not from this wait.)"""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} still false after {timeout} s")
            self.page.wait_for_timeout(10)

    def switch(self, key: str) -> float:
        before = self.page.evaluate("document.querySelector('#label-app').dataset.task")
        self.page.keyboard.press(key)
        self.wait(
            f"document.querySelector('#label-app').dataset.task !== '{before}'"
            " && document.querySelector('#label-app').dataset.state === 'ready'"
        )
        return float(
            self.page.evaluate("performance.getEntriesByName('label-switch').slice(-1)[0].duration")
        )

    def annotation_of(self, task_id: int) -> list[dict[str, Any]]:
        rows = json.loads(self.client.get(f"/api/tasks/{task_id}/annotations")[1])
        return rows[-1]["result"] if rows else []

    def keystrokes(self) -> dict[str, Any]:
        self.tasks = self.load_tasks()  # the timing runs above annotated some tasks
        accept = pick_accept(self.tasks, self.truth)
        self.open(accept["id"])
        for key in ACCEPT_KEYS:
            self.page.keyboard.press(key)
        self.wait(f"document.querySelector('#label-app').dataset.task !== '{accept['id']}'")
        try:  # --quick's 60 utterances have no such task
            picked = pick_scratch(self.tasks, self.truth, self.known, phrase=True)
        except LookupError:
            phrase: dict[str, Any] = {"keys": None, "correct": None, "entity": None}
        else:
            phrase = self.from_scratch(picked)
            self.tasks = self.load_tasks()  # the phrase's task is annotated now
        scratch = self.from_scratch(pick_scratch(self.tasks, self.truth, self.known))
        return {
            "accept_prediction": len(ACCEPT_KEYS),
            "accept_prediction_correct": matches(
                self.annotation_of(accept["id"]), self.truth[accept["data"]["text"]]
            ),
            "entity_and_intent_from_scratch": len(scratch["keys"]),
            "from_scratch_correct": scratch["correct"],
            "from_scratch_keys": scratch["keys"],
            "from_scratch_entity": scratch["entity"],
            "multi_word_phrase_from_scratch": len(phrase["keys"]) if phrase["keys"] else None,
            "multi_word_phrase_correct": phrase["correct"],
            "multi_word_phrase_keys": phrase["keys"],
            "multi_word_phrase_entity": phrase["entity"],
        }

    def known(self, task: dict[str, Any]) -> list[str]:
        """The phrases the project knows in the task (the page's Down/Up stops)."""
        body = json.loads(self.client.get(f"/api/tasks/{task['id']}/label/entities")[1])
        return [entry["text"] for entry in body["entities"]]

    def from_scratch(self, task: dict[str, Any]) -> dict[str, Any]:
        utterance = self.truth[task["data"]["text"]]
        keys = scratch_keys(utterance, config_hotkeys(self.schema), task["known_phrases"])
        self.open(task["id"])
        for key in keys:
            self.page.keyboard.press(key)
        self.wait(f"document.querySelector('#label-app').dataset.task !== '{task['id']}'")
        entity = utterance.entities[0]
        return {
            "keys": keys,
            "correct": matches(self.annotation_of(task["id"]), utterance),
            "entity": utterance.text[entity.start : entity.end],
        }


def _login(page: Any, url: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", "admin")  # allauth: username or email
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{url}/")


def measure(server: Server, runs: int, utterances: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out = server.manage(
        "seed_demo", "--utterances", str(utterances), "--images", "0", "--clips", "0"
    )
    password = re.search(r"password: (\S+)", out)
    token = re.search(r"API token: (\S+)", out)
    assert password and token, out
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _login(page, f"http://127.0.0.1:{server.port}", password.group(1))
        bench = Bench(server, page, token.group(1), utterances)
        ids = [t["id"] for t in bench.tasks]
        bench.open(ids[0])  # warm: modules compiled, server caches filled
        baseline = [bench.baseline() for _ in range(runs)]
        interactive = [bench.open(ids[i + 1]) for i in range(runs)]
        bench.open(ids[0])
        k_switch = [bench.switch("k") for _ in range(runs)]
        page.goto(f"{bench.url}/projects/{bench.project}/label/")
        page.wait_for_selector("#label-app[data-state=ready]")
        submit_next = [bench.switch("Enter") for _ in range(runs)]
        js_bytes = page.evaluate(JS_BYTES)
        keystrokes = bench.keystrokes()
        browser.close()
    return {
        "runs": runs,
        "baseline_projects_page_ms": _median(baseline),
        "interactive_ms": _median(interactive),
        "interactive_ratio_to_baseline": round(_median(interactive) / _median(baseline), 2),
        "task_switch_k_ms": _median(k_switch),
        "submit_to_next_ms": _median(submit_next),
        "javascript_kb": round(js_bytes / 1024, 1),
        "keystrokes": keystrokes,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="repetitions of each timing")
    parser.add_argument("--utterances", type=int, default=120)
    parser.add_argument("--quick", action="store_true", help="3 runs, 60 utterances")
    args = parser.parse_args(argv)
    runs, utterances = (3, 60) if args.quick else (args.runs, args.utterances)
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    server = Server("sqlite", workers=1)
    server.start()
    try:
        report = {"sqlite": measure(server, runs, utterances)}
    finally:
        server.stop()
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
