"""Reads of the data manager: filtered, sorted task pages by keyset, counts, selections and
"the next task after this one" for labelling in the table's order.

Pages never use OFFSET. A page after the cursor (x, y) is two index seeks on (project, key,
id) merged: ``key = x AND id > y`` then ``key > x``, each ``ORDER BY key, id LIMIT n``; the
database reads at most 2n rows, so page 20 000 costs what page 1 costs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Substr
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from projects.labelconfig import LabelConfig
from projects.models import Project, ProjectMember
from tasks.keyset import Cursor
from tasks.models import Annotation, Task, TaskAssignment, TaskLock

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PREVIEW_CHARS = 200
# Search is a substring scan (no index serves "%text%" on SQLite; see the README): each
# request scans at most this many tasks of the sort order, so its cost stays bounded.
SEARCH_WINDOW = 20_000
# "Next after" looks this many pages (segments or search windows) ahead at most.
NEXT_AFTER_HOPS = 10
# Bulk actions touch at most this many tasks per request.
BULK_MAX = 100_000

# Controls whose whole-task answer one value gives (spans and boxes need positions).
BULK_LABEL_TAGS = ("Choices", "Taxonomy")
# Object tags whose value is text worth previewing and searching, best first.
_TEXT_TAGS = ("Text", "HyperText", "Paragraphs")


class ReviewState(StrEnum):
    NOT_REVIEWED = "not_reviewed"
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


# API name -> Task column. Nullable columns are listed in _NULLABLE_SORTS.
SORT_FIELDS = {
    "id": "id",
    "priority": "priority",
    "annotations": "total_annotations",
    "prediction_score": "prediction_score",
}
_NULLABLE_SORTS = {"prediction_score"}


@dataclass(frozen=True)
class TaskFilter:
    annotated: bool | None = None
    has_predictions: bool | None = None
    review: ReviewState | None = None
    assignee: int | None = None
    unassigned: bool = False
    score_min: float | None = None
    score_max: float | None = None
    search: str = ""
    # Set by the view from projects.permissions, never from the query string: the tasks the
    # caller may see (annotators: those handed to them) ...
    scope: Q | None = None
    # ... and, under blind annotation, the only author whose review states count and show.
    author: int | None = None


@dataclass(frozen=True)
class TaskSort:
    name: str = "id"
    descending: bool = False

    @property
    def column(self) -> str:
        return SORT_FIELDS[self.name]

    @property
    def text(self) -> str:
        return f"-{self.name}" if self.descending else self.name


@dataclass
class TaskRow:
    id: int
    preview: str
    total_annotations: int
    cancelled_annotations: int
    overlap: int
    total_predictions: int
    priority: float
    prediction_score: float | None
    uncertainty: float | None
    agreement: float | None
    route: str = ""
    route_reason: str = ""
    queue_reason: str | None = None
    review_state: str = ""
    assignees: list[dict[str, Any]] = field(default_factory=list)
    leases: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TaskPage:
    """Rows in order and the cursor of the next page. A page can hold fewer rows than asked
    while more follow (end of a search window, end of the scored tasks): stop at next=None."""

    rows: list[TaskRow]
    next: Cursor | None


# --- filters --------------------------------------------------------------------------------
def text_field_of(config: LabelConfig) -> str | None:
    """The data field shown as the preview and searched: the first text object's value
    (``$text``), else the first data field the config names; None for a config without."""
    objects = list(config.objects.values())
    for obj in sorted(objects, key=lambda o: o.tag not in _TEXT_TAGS):
        if obj.value_field:
            return obj.value_field
    return config.data_fields[0] if config.data_fields else None


def _text_expression(config: LabelConfig) -> Any:
    name = text_field_of(config)
    if name is None:
        return Cast("data", TextField())
    return KT("data__" + "__".join(name.split(".")))


def _filter_q(project: Project, flt: TaskFilter, sort: TaskSort | None = None) -> Q:
    """The filter as one condition. Given the page's ``sort``, a score range is written so
    that the database walks the sort's index: SQLite otherwise takes the range on the score
    index and sorts every task in it (0.6 s a page at 200k tasks); counts keep the range."""
    q = Q(project=project)
    if flt.scope is not None:
        q &= flt.scope
    author = Q(completed_by_id=flt.author) if flt.author is not None else Q()
    if flt.annotated is not None:
        q &= Q(total_annotations__gt=0) if flt.annotated else Q(total_annotations=0)
    if flt.has_predictions is not None:
        q &= Q(total_predictions__gt=0) if flt.has_predictions else Q(total_predictions=0)
    score: Any = F("prediction_score")
    if sort is not None and sort.column != "prediction_score":
        score = score + Value(0.0)  # an expression, not the indexed column
    if flt.score_min is not None:
        q &= Q(GreaterThanOrEqual(score, flt.score_min))
    if flt.score_max is not None:
        q &= Q(LessThanOrEqual(score, flt.score_max))
    if flt.review is ReviewState.NOT_REVIEWED:
        # Annotated, with at least one finished annotation nobody has judged or queued.
        unjudged = Annotation.objects.filter(
            author, task=OuterRef("pk"), was_cancelled=False, review_status=""
        )
        q &= Q(total_annotations__gt=0) & Q(Exists(unjudged))
    elif flt.review is not None:
        # Driven from the partial review index: the reviewed annotations are few.
        # The exclude repeats the partial index's condition: SQLite uses such an index only
        # when the query states its WHERE (it does not infer it from review_status = 'x').
        judged = (
            Annotation.objects.exclude(review_status="")
            .filter(author, was_cancelled=False, project=project, review_status=flt.review.value)
            .values("task_id")
        )
        q &= Q(pk__in=judged)
    if flt.assignee is not None and (sort is None or sort.column == "id"):
        # The member's tasks come in id order from their index: no sort, no scan.
        assigned = TaskAssignment.objects.filter(project=project, user_id=flt.assignee)
        q &= Q(pk__in=assigned.values("task_id"))
    elif flt.assignee is not None:
        # Under another sort, walk its index and probe (task, user): a page costs
        # page_size / share-of-tasks-assigned probes instead of sorting all their tasks.
        q &= Q(Exists(TaskAssignment.objects.filter(task=OuterRef("pk"), user_id=flt.assignee)))
    if flt.unassigned:
        q &= ~Q(Exists(TaskAssignment.objects.filter(task=OuterRef("pk"))))
    return q


def datamanager_tasks(*, project: Project, flt: TaskFilter) -> QuerySet[Task]:
    """Every task matching the filter, search included (unbounded: counts, bulk actions)."""
    tasks = Task.objects.filter(_filter_q(project, flt))
    if flt.search:
        tasks = tasks.alias(search_text=_text_expression(project.parsed_config)).filter(
            search_text__icontains=flt.search
        )
    return tasks


def datamanager_count(*, project: Project, flt: TaskFilter) -> int:
    return datamanager_tasks(project=project, flt=flt).count()


# --- pages ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Segment:
    where: Q
    key: str | None  # None: ordered by id alone


def _segments(sort: TaskSort) -> list[_Segment]:
    column = sort.column
    if column == "id":
        return [_Segment(Q(), None)]
    if sort.name in _NULLABLE_SORTS:
        return [
            _Segment(Q(**{f"{column}__isnull": False}), column),
            _Segment(Q(**{f"{column}__isnull": True}), None),
        ]
    return [_Segment(Q(), column)]


def _ordered(tasks: QuerySet[Task], segment: _Segment, sort: TaskSort) -> QuerySet[Task]:
    columns = [segment.key, "id"] if segment.key else ["id"]
    order = [OrderBy(F(c), descending=sort.descending) for c in columns]
    return tasks.filter(segment.where).order_by(*order)


def _after(tasks: QuerySet[Task], segment: _Segment, sort: TaskSort, cursor: Cursor) -> list[Any]:
    """The rows after ``cursor`` as index seeks, in order: the rest of the cursor key's ties,
    then the keys beyond. (A row value ``(key, id) > (?, ?)`` says it in one condition, but
    SQLite 3.40 seeks on its first column only and walks the whole tie group: 0.3 s a page
    deep inside the 700k tasks with no annotation.)"""
    after_id = {"id__lt" if sort.descending else "id__gt": cursor.id}
    if segment.key is None:
        return [tasks.filter(**after_id)]
    beyond = {f"{segment.key}__{'lt' if sort.descending else 'gt'}": cursor.key}
    return [tasks.filter(**{segment.key: cursor.key}, **after_id), tasks.filter(**beyond)]


def _merged(
    parts: list[Any],
    segment: _Segment,
    sort: TaskSort,
    fields: list[str],
    limit: int,
    offset: int = 0,
) -> tuple[str, list[Any]]:
    """SQL of the first ``limit`` rows (after ``offset``) of the parts in sort order: each part
    an ordered, limited index seek, merged by UNION ALL (Django slices no part of a union
    on SQLite, hence the composed SQL)."""
    if len(parts) == 1:
        sql, params = parts[0].values(*fields)[offset : offset + limit].query.sql_with_params()
        return sql, list(params)
    direction = "DESC" if sort.descending else "ASC"
    order = ", ".join(f'"{c}" {direction}' for c in _order_columns(segment))
    pieces, params = [], []
    for n, part in enumerate(parts):
        sql, more = part.values(*fields)[: offset + limit].query.sql_with_params()
        pieces.append(f"SELECT * FROM ({sql}) AS part{n}")  # nosec B608 # noqa: S608 - Django's SQL
        params.extend(more)
    union = " UNION ALL ".join(pieces)
    merged = f"SELECT * FROM ({union}) AS merged ORDER BY {order} LIMIT %s OFFSET %s"  # nosec B608 # noqa: S608 - column names from SORT_FIELDS
    return merged, [*params, limit, offset]


def _fetch(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _order_columns(segment: _Segment) -> list[str]:
    return [segment.key, "id"] if segment.key else ["id"]


def _cursor_of(
    row: dict[str, Any], segment_index: int, segment: _Segment, sort: TaskSort
) -> Cursor:
    key = row[segment.key] if segment.key else None
    return Cursor(sort=sort.text, segment=segment_index, key=key, id=row["id"])


_ROW_FIELDS = [
    "id", "total_annotations", "cancelled_annotations", "overlap", "total_predictions",
    "priority", "prediction_score", "uncertainty", "agreement", "route", "route_reason",
    "queue_reason", "preview_text",
]  # fmt: skip


def datamanager_page(
    *,
    project: Project,
    flt: TaskFilter,
    sort: TaskSort,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
    decorate: bool = True,
) -> TaskPage:
    """One page in ``sort`` order after ``cursor``: one query, two with a search (the end of
    the scanned window), plus three for the page's assignees, leases and review states."""
    segments = _segments(sort)
    index = cursor.segment if cursor is not None else 0
    if index >= len(segments):
        raise ValidationError({"cursor": ["not a cursor of this API"]})
    segment = segments[index]
    text = _text_expression(project.parsed_config)
    tasks = _ordered(Task.objects.filter(_filter_q(project, flt, sort)), segment, sort)
    tasks = tasks.annotate(preview_text=Substr(text, 1, PREVIEW_CHARS + 1))
    parts = [tasks]
    if cursor is not None and cursor.id:  # id 0: the start of a segment
        parts = _after(tasks, segment, sort, cursor)
    keys = _order_columns(segment)
    if flt.search:
        window_sql, window_params = _merged(parts, segment, sort, keys, SEARCH_WINDOW)
        window_ids = f"SELECT id FROM ({window_sql}) AS scanned"  # nosec B608 # noqa: S608 - Django's SQL
        window = RawSQL(window_ids, window_params)  # nosec B611 # noqa: S611
        page = _ordered(Task.objects.filter(pk__in=window), segment, sort)
        page = page.alias(search_text=text).filter(search_text__icontains=flt.search)
        page = page.annotate(preview_text=Substr(text, 1, PREVIEW_CHARS + 1))
        rows = list(page.values(*_ROW_FIELDS)[:size])
    else:
        rows = _fetch(*_merged(parts, segment, sort, _ROW_FIELDS, size))
    if len(rows) == size:
        next_cursor: Cursor | None = _cursor_of(rows[-1], index, segment, sort)
    else:
        next_cursor = None
        if flt.search:
            tail = _fetch(*_merged(parts, segment, sort, keys, 1, offset=SEARCH_WINDOW - 1))
            if tail:
                next_cursor = _cursor_of(tail[0], index, segment, sort)
        if next_cursor is None and index + 1 < len(segments):
            next_cursor = Cursor(sort=sort.text, segment=index + 1, key=None, id=0)
    out = [_row(r) for r in rows]
    if flt.author is not None:
        for row in out:
            row.agreement = None  # agreement tells how others labelled the task
            row.overlap = 1  # and annotators are not told a task goes to several of them
    if decorate and out:
        _decorate(out, flt.author)
    return TaskPage(rows=out, next=next_cursor)


def _row(values: dict[str, Any]) -> TaskRow:
    preview = values.pop("preview_text")
    preview = "" if preview is None else str(preview)
    if len(preview) > PREVIEW_CHARS:
        preview = preview[:PREVIEW_CHARS] + "…"
    score = values["prediction_score"]
    if values["uncertainty"] is None and score is not None:
        # No stored uncertainty (activelearn writes one): the model's own doubt.
        values["uncertainty"] = 1.0 - score
    return TaskRow(preview=preview, **values)


def _decorate(rows: list[TaskRow], author: int | None) -> None:
    """Assignees, running leases and review state of a page's tasks (from ``author``'s
    annotations alone when set): three queries whatever the page size. The leases mark rows
    someone took before the page opened; the page's socket follows them from there."""
    by_id = {r.id: r for r in rows}
    leases = (
        TaskLock.objects.filter(task_id__in=by_id, expires_at__gt=timezone.now())
        .order_by("task_id", "user__username")
        .values("task_id", "user_id", "user__username", "expires_at")
    )
    for lease in leases:
        by_id[lease["task_id"]].leases.append(
            {
                "id": lease["user_id"],
                "username": lease["user__username"],
                "expires_at": lease["expires_at"],
            }
        )
    assignments = (
        TaskAssignment.objects.filter(task_id__in=by_id)
        .order_by("task_id", "user__username")
        .values("task_id", "user_id", "user__username")
    )
    for a in assignments:
        by_id[a["task_id"]].assignees.append({"id": a["user_id"], "username": a["user__username"]})
    states: dict[int, set[str]] = defaultdict(set)
    counted = (
        Annotation.objects.filter(task_id__in=by_id, was_cancelled=False)
        .filter(Q(completed_by_id=author) if author is not None else Q())
        .order_by()
        .values("task_id", "review_status")
        .annotate(n=Count("id"))
    )
    for c in counted:
        states[c["task_id"]].add(c["review_status"])
    for task_id, found in states.items():
        by_id[task_id].review_state = review_state_of(found)


def review_state_of(statuses: set[str]) -> str:
    """One state per task from its finished annotations' review_status: a rejection shows
    first, then work waiting for review, then unjudged work; accepted when all are."""
    if "rejected" in statuses:
        return ReviewState.REJECTED.value
    if "pending" in statuses:
        return ReviewState.PENDING.value
    if "" in statuses:
        return ReviewState.NOT_REVIEWED.value
    return ReviewState.ACCEPTED.value if statuses else ""


def datamanager_next_after(
    *, project: Project, flt: TaskFilter, sort: TaskSort, task_id: int
) -> int | None:
    """The id of the task that follows ``task_id`` under the filter and sort (None at the
    end), for labelling "in order" from the data manager. The task itself need not match the
    filter any more (it was just annotated): its current sort key places it."""
    current = (
        Task.objects.filter(flt.scope or Q(), project=project, pk=task_id)
        .values(sort.column, "id")
        .first()
    )
    if current is None:
        raise ValidationError({"task": [f"task {task_id} is not in project {project.pk}"]})
    key = current[sort.column] if sort.column != "id" else None
    segment = 1 if sort.name in _NULLABLE_SORTS and key is None else 0
    cursor: Cursor | None = Cursor(sort=sort.text, segment=segment, key=key, id=task_id)
    for _ in range(NEXT_AFTER_HOPS):
        assert cursor is not None
        page = datamanager_page(
            project=project, flt=flt, sort=sort, cursor=cursor, size=1, decorate=False
        )
        if page.rows:
            return page.rows[0].id
        if page.next is None:
            return None
        cursor = page.next
    return None


# --- selections -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskSelection:
    """What a bulk action applies to: listed ids, or every task matching ``flt`` but the
    ``excluded`` ids (the table's "select all")."""

    ids: tuple[int, ...] = ()
    all: bool = False
    flt: TaskFilter = field(default_factory=TaskFilter)
    excluded: tuple[int, ...] = ()


def datamanager_selection(*, project: Project, selection: TaskSelection) -> QuerySet[Task]:
    """The selected tasks of the project; ValidationError naming ``selection`` for ids of
    other projects (or unknown ones) and for more than BULK_MAX tasks."""
    if selection.all:
        tasks = datamanager_tasks(project=project, flt=selection.flt)
        if selection.excluded:
            tasks = tasks.exclude(pk__in=selection.excluded)
    else:
        wanted = set(selection.ids)
        tasks = Task.objects.filter(project=project, pk__in=wanted)
        found = set(tasks.values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            shown = ", ".join(str(i) for i in missing[:20])
            raise ValidationError({"selection": [f"tasks not in project {project.pk}: {shown}"]})
    if tasks.values("pk")[: BULK_MAX + 1].count() > BULK_MAX:
        raise ValidationError(
            {"selection": [f"more than {BULK_MAX} tasks: narrow the filter or act in parts"]}
        )
    return tasks


def selection_id_batches(tasks: QuerySet[Task], size: int = 1000) -> Iterator[list[int]]:
    """Ids of ``tasks`` in id order, ``size`` at a time (keyset, constant memory)."""
    last = 0
    while True:
        batch = list(tasks.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not batch:
            return
        yield batch
        last = batch[-1]


# --- the page -------------------------------------------------------------------------------
def datamanager_members(*, project: Project) -> list[dict[str, Any]]:
    """Members a manager can assign tasks to."""
    rows = (
        ProjectMember.objects.filter(project=project)
        .order_by("user__username")
        .values("user_id", "user__username", "role")
    )
    return [{"id": r["user_id"], "username": r["user__username"], "role": r["role"]} for r in rows]


def datamanager_label_controls(*, config: LabelConfig) -> list[dict[str, Any]]:
    """Controls bulk labelling can answer for a whole task, with their top-level options."""
    return [
        {"name": c.name, "tag": c.tag, "values": [label.value for label in c.labels]}
        for c in config.controls.values()
        if c.tag in BULK_LABEL_TAGS and c.labels and not c.has_dynamic_labels
    ]
