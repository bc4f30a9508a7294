"""Data builders shared by the labelling-page browser tests."""

from __future__ import annotations

from typing import Any

from projects.models import Project
from tasks.models import Task
from tasks.services import tasks_import
from tests.factories import make_project


def project_with_tasks(
    texts: list[str | dict[str, Any]], **fields: Any
) -> tuple[Project, list[Task]]:
    """A project (``make_project`` fields) with one task per text (or data dict)."""
    project = make_project(**fields)
    items = [{"text": t} if isinstance(t, str) else t for t in texts]
    ids = tasks_import(project=project, items=items, user=None).task_ids
    return project, list(Task.objects.filter(pk__in=ids).order_by("id"))


def open_task(page: Any, project: Project, task: Task) -> None:
    page.goto(f"/projects/{project.pk}/label/{task.pk}/")
    page.wait_for_selector(f"#label-app[data-state=ready][data-task='{task.pk}']")


_CHAR_BOX = """([start, end]) => {
  const segs = [...document.querySelectorAll('.lv-text .seg')];
  const edge = (offset, right) => {
    const at = right ? offset - 1 : offset;
    const seg = segs.find((s) => +s.dataset.start <= at && at < +s.dataset.end);
    const range = document.createRange();
    range.setStart(seg.firstChild, at - +seg.dataset.start);
    range.setEnd(seg.firstChild, at - +seg.dataset.start + 1);
    const rect = range.getBoundingClientRect();
    return [right ? rect.right - 1 : rect.left + 1, rect.top + rect.height / 2];
  };
  return [edge(start, false), edge(end, true)];
}"""


def drag_text(page: Any, start: int, end: int) -> None:
    """Select text[start:end] with the mouse, as a user drags over it."""
    (x0, y0), (x1, y1) = page.evaluate(_CHAR_BOX, [start, end])
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()


def regions(page: Any) -> list[tuple[str, list[str]]]:
    items = page.evaluate("labelSession.store.result().filter(i => i.type === 'labels')")
    return sorted((i["value"]["text"], i["value"]["labels"]) for i in items)
