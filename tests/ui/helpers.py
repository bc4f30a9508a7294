"""Data builders shared by the labelling-page browser tests."""

from __future__ import annotations

from typing import Any

from projects.models import Project
from tasks.models import Task
from tasks.services import tasks_import
from tests.factories import make_project


def project_with_tasks(texts: list[str], **fields: Any) -> tuple[Project, list[Task]]:
    project = make_project(**fields)
    ids = tasks_import(project=project, items=[{"text": t} for t in texts], user=None).task_ids
    return project, list(Task.objects.filter(pk__in=ids).order_by("id"))


def open_task(page: Any, project: Project, task: Task) -> None:
    page.goto(f"/projects/{project.pk}/label/{task.pk}/")
    page.wait_for_selector(f"#label-app[data-state=ready][data-task='{task.pk}']")
