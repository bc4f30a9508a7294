"""Test data builders. Each returns saved objects made through the services."""

from __future__ import annotations

import itertools
from typing import Any

from annotator.models import User
from projects.models import Organization, Project
from projects.services import organization_create, project_create, project_member_set

_seq = itertools.count(1)

NER_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="text">
    <Label value="PER" hotkey="p"/>
    <Label value="LOC" hotkey="l"/>
  </Labels>
  <Choices name="intent" toName="text" choice="single">
    <Choice value="greet" hotkey="1"/>
    <Choice value="ask" hotkey="2"/>
  </Choices>
</View>"""


def make_user(username: str | None = None, **fields: Any) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    fields.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(username=username, password="pw-for-tests-only", **fields)


def make_organization(owner: User | None = None, title: str = "Org") -> Organization:
    return organization_create(title=title, owner=owner or make_user())


def make_project(
    *,
    owner: User | None = None,
    organization: Organization | None = None,
    label_config: str = NER_CONFIG,
    **fields: Any,
) -> Project:
    owner = owner or make_user()
    organization = organization or make_organization(owner)
    return project_create(
        organization=organization,
        title=fields.pop("title", f"Project {next(_seq)}"),
        created_by=owner,
        label_config=label_config,
        **fields,
    )


def add_member(project: Project, user: User, role: str = "annotator") -> None:
    project_member_set(project=project, user=user, role=role)


def span(
    start: int, end: int, text: str, label: str = "PER", item_id: str = "s1"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": [label]},
    }


def choice(value: str = "greet", item_id: str = "c1") -> dict[str, Any]:
    return {
        "id": item_id,
        "from_name": "intent",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


def hand_task(task_id: int, user: User) -> None:
    """Assign a task to a user (projects.permissions: annotators see the tasks handed to them)."""
    from tasks.models import Task, TaskAssignment

    task = Task.objects.get(pk=task_id)
    TaskAssignment.objects.get_or_create(project_id=task.project_id, task=task, user=user)
