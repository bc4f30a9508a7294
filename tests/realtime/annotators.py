"""Simulated annotators against a real server process, for the outage tests: each thread
loops next-task, draft (auto-save), submit with an Idempotency-Key, and keeps every answer.
A 503 is retried as a page would (the same key for a submit, so a submit the database took
just before it went away is not made twice); any other status ends that step."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.factories import choice

RESULT = [choice()]
RETRY_PAUSE_S = 0.3
# A request that takes longer than this is a hang, not an answer.
CLIENT_TIMEOUT_S = 30


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]  # names in lower case
    seconds: float


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Token {token}"
    started = time.monotonic()
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=sent)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    seconds = time.monotonic() - started
    kind = response.getheader("Content-Type", "")
    parsed: Any = raw.decode(errors="replace")
    if raw and kind.startswith("application/json"):
        parsed = json.loads(raw)
    headers = {name.lower(): value for name, value in response.getheaders()}
    return Answer(response.status, parsed, headers, seconds)


@dataclass
class Record:
    """What the annotators saw, shared by their threads (``lock`` guards it)."""

    statuses: Counter[str] = field(default_factory=Counter)
    # (annotation id, task id, user index): every 201 of a submit
    submits: list[tuple[int, int, int]] = field(default_factory=list)
    # (task id, user index, notes): every 200 of a draft save
    drafts: list[tuple[int, int, str]] = field(default_factory=list)
    unavailable: list[Answer] = field(default_factory=list)  # every 503
    failures: list[str] = field(default_factory=list)  # hangs, refused connections
    successes_at: list[float] = field(default_factory=list)  # monotonic time of each 2xx
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, answer: Answer) -> None:
        with self.lock:
            self.statuses[f"{kind} {answer.status}"] += 1
            if answer.status == 503:
                self.unavailable.append(answer)
            elif 200 <= answer.status < 300:
                self.successes_at.append(time.monotonic())

    def successes_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for t in self.successes_at if t >= moment)

    def status_codes(self) -> set[int]:
        return {int(key.rsplit(" ", 1)[1]) for key in self.statuses}


class Annotators:
    """``count`` threads working on ``project`` until ``stop()``; each finishes the submit it
    started (retrying 503s up to ``finish_s``) before it returns."""

    def __init__(self, port: int, project: int, tokens: list[str], *, finish_s: float = 60) -> None:
        self.port = port
        self.project = project
        self.tokens = tokens
        self.finish_s = finish_s
        self.record = Record()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, args=(n,), daemon=True) for n in range(len(tokens))
        ]

    def __enter__(self) -> Annotators:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.finish_s + CLIENT_TIMEOUT_S)

    def _ask(self, kind: str, n: int, method: str, path: str, **kwargs: Any) -> Answer | None:
        try:
            answer = call(self.port, method, path, token=self.tokens[n], **kwargs)
        except OSError as exc:  # a hang (timeout) or the server gone
            with self.record.lock:
                self.record.failures.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None
        self.record.note(kind, answer)
        return answer

    def _work(self, n: int) -> None:
        step = 0
        while not self._stop.is_set():
            answer = self._ask("next", n, "GET", f"/api/projects/{self.project}/next")
            if answer is None or answer.status != 200:
                if answer is not None and answer.status == 404:
                    return  # nothing left for this annotator
                time.sleep(RETRY_PAUSE_S)
                continue
            task = int(answer.body["id"])
            step += 1
            notes = f"annotator {n}, task {task}, step {step}"
            draft = {"result": RESULT, "lead_time": 1.0, "notes": notes}
            answer = self._ask("draft", n, "POST", f"/api/tasks/{task}/label/draft", body=draft)
            if answer is not None and answer.status == 200:
                with self.record.lock:
                    self.record.drafts.append((task, n, notes))
            self._submit(n, task, notes)

    def _submit(self, n: int, task: int, notes: str) -> None:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"result": RESULT, "lead_time": 2.0, "notes": notes, "next": False}
        give_up = None
        while True:
            answer = self._ask(
                "submit", n, "POST", f"/api/tasks/{task}/label/submit", body=body, headers=key
            )
            if answer is not None and answer.status == 201:
                with self.record.lock:
                    self.record.submits.append((int(answer.body["annotation"]["id"]), task, n))
                return
            if answer is not None and answer.status != 503:
                return
            if self._stop.is_set():
                give_up = give_up or time.monotonic() + self.finish_s
                if time.monotonic() > give_up:
                    with self.record.lock:
                        self.record.failures.append(f"submit of task {task} never accepted")
                    return
            time.sleep(RETRY_PAUSE_S)


def setup_script(annotators: int, tasks: int) -> str:
    """``manage.py shell -c`` code that builds a project with ``tasks`` tasks and
    ``annotators`` members, and prints their tokens and a signed-in session of the owner."""
    return f"""
import json
from django.test import Client
from annotator.services import api_token_create
from tasks.services import tasks_import
from tests.factories import add_member, make_project, make_user
project = make_project()
tasks_import(project=project, items=[{{"text": f"t{{i}}"}} for i in range({tasks})], user=None)
users = [make_user(f"outage{{i}}") for i in range({annotators})]
for user in users:
    add_member(project, user)
browser = Client()
browser.force_login(project.created_by)
print(json.dumps({{
    "project": project.pk,
    "tokens": [api_token_create(user=user).key for user in users],
    "user_ids": [user.pk for user in users],
    "owner_token": api_token_create(user=project.created_by).key,
    "last_task": project.tasks.order_by("-id").values_list("id", flat=True).first(),
    "session": browser.cookies["sessionid"].value,
}}))
"""
