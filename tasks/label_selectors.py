"""Reads of the labelling interface: what one task page needs, progress, similar tasks and
known entities. Each read is bounded: indexed lookups, or the newest N rows of an index."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

import nh3
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q

from annotator.models import User
from projects.labelconfig import LabelConfig
from projects.models import Project
from projects.permissions import handed_neighbours_sql
from tasks.models import Annotation, Draft, Prediction, Task

# The newest annotations of a project that similar tasks and entity suggestions look at:
# a bounded, indexed read (annotation_project_idx) whatever the project's size.
RECENT_ANNOTATIONS = 300
SIMILAR_LIMIT = 5
ENTITY_LIMIT = 30
# Known phrases embedded in the labelling page (keyboard stops): at most this many, each short.
PHRASE_LIMIT = 500
PHRASE_MAX_CHARS = 120
LEAD_TIME_SAMPLE = 50
_WORD = re.compile(r"\w+", re.UNICODE)
_TEXT_TAGS = ("Text", "HyperText")


def task_text(*, config: LabelConfig, data: dict[str, Any]) -> str:
    """The text of the task's first Text/HyperText object ("" when it has none)."""
    for obj in config.objects.values():
        if obj.tag in _TEXT_TAGS and obj.value_field:
            value: Any = data
            for key in obj.value_field.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            return value if isinstance(value, str) else ""
    return ""


_HTML_TAGS = ("HyperText", "HTML")
# nh3's safe tags less those that load something (images, image maps): the page stays offline
# and task data cannot call home; their alt text is not part of the labelled text anyway.
_HTML_ALLOWED = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}


def _data_at(data: Any, path: str) -> Any:
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def hypertext_html(*, config: LabelConfig, data: dict[str, Any]) -> dict[str, str]:
    """The HTML of each HyperText object of the task, sanitised (nh3: no script, no event
    attribute, no javascript: URL, no style, no image): the labelling page renders this, never
    the raw task data; spans count offsets in its text and their XPaths address its nodes."""
    html: dict[str, str] = {}
    for name, obj in config.objects.items():
        if obj.tag in _HTML_TAGS and obj.value_field:
            value = _data_at(data, obj.value_field)
            if isinstance(value, str):
                html[name] = nh3.clean(
                    value,
                    tags=_HTML_ALLOWED,
                    url_schemes={"http", "https", "mailto"},
                    link_rel="noopener noreferrer",
                    # A link opens beside the labelling page, never in its place.
                    set_tag_attribute_values={"a": {"target": "_blank"}},
                )
    return html


def label_prediction_get(*, task: Task, project: Project) -> Prediction | None:
    """The prediction that pre-fills the task: the newest of the project's active model
    version when it has one, else the newest; none when the project hides predictions."""
    if not project.show_collab_predictions:
        return None
    predictions = Prediction.objects.filter(task=task).order_by("-id")
    if project.model_version:
        active = predictions.filter(model_version=project.model_version).first()
        if active is not None:
            return active
    return predictions.first()


@dataclass(frozen=True)
class Neighbours:
    previous: int | None
    next: int | None


def task_neighbours(*, task: Task, handed_to: User | None = None) -> Neighbours:
    """The tasks before and after this one in the project (import order), for J/K; with
    ``handed_to``, among the tasks handed to that annotator (projects.permissions)."""
    if handed_to is not None:
        sql, params = handed_neighbours_sql(
            user=handed_to, project_id=task.project_id, task_id=task.pk
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            before, after = cursor.fetchone()
        return Neighbours(previous=before, next=after)
    tasks = Task.objects.filter(project_id=task.project_id)
    previous = tasks.filter(pk__lt=task.pk).order_by("-pk").values_list("pk", flat=True).first()
    following = tasks.filter(pk__gt=task.pk).order_by("pk").values_list("pk", flat=True).first()
    return Neighbours(previous=previous, next=following)


@dataclass(frozen=True)
class LabelStart:
    """Where the user starts on a task: their draft, else their own annotation (edited in
    place), else the prediction."""

    draft: Draft | None
    annotation: Annotation | None
    prediction: Prediction | None


def label_start_get(*, task: Task, user: User) -> LabelStart:
    draft = Draft.objects.filter(task=task, user=user).order_by("-updated_at").first()
    annotation = (
        Annotation.objects.filter(task=task, completed_by=user, was_cancelled=False)
        .order_by("-id")
        .first()
    )
    prediction = label_prediction_get(task=task, project=task.project)
    return LabelStart(draft=draft, annotation=annotation, prediction=prediction)


@dataclass(frozen=True)
class Progress:
    done: int
    skipped: int
    remaining: int
    median_lead_time: float | None
    eta_seconds: float | None
    remaining_estimated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "skipped": self.skipped,
            "remaining": self.remaining,
            "remaining_estimated": self.remaining_estimated,
            "median_lead_time": self.median_lead_time,
            "eta_seconds": self.eta_seconds,
        }


# "Remaining" is counted exactly up to this many unlabelled tasks: a COUNT over at most this
# many entries of the partial index task_next_idx, whatever the project's size. Above it the
# figure is an estimate (remaining_estimated): PostgreSQL's planner statistics (no scan), or
# elsewhere (SQLite, a laptop) one full count per project shared through the cache for
# REMAINING_CACHE_SECONDS. Submits write nothing for it: no counter row that 8 annotators
# submitting at once would queue on.
REMAINING_EXACT_UP_TO = 10_000
REMAINING_CACHE_SECONDS = 60


def _unlabelled(project_id: int) -> tuple[int, bool]:
    """The project's unlabelled tasks and whether that figure is exact."""
    unlabelled = Task.objects.filter(project_id=project_id, is_labeled=False)
    bounded = unlabelled[: REMAINING_EXACT_UP_TO + 1].count()  # COUNT of a LIMITed subquery
    if bounded <= REMAINING_EXACT_UP_TO:
        return bounded, True
    if connection.vendor == "postgresql":
        return max(_planner_rows(unlabelled), bounded), False
    key = f"label-unlabelled:{project_id}"
    cached = cache.get(key)
    if cached is None:
        cached = unlabelled.count()
        cache.set(key, cached, REMAINING_CACHE_SECONDS)
    return int(cached), False


def _planner_rows(queryset: Any) -> int:
    """PostgreSQL's estimate of the rows a query returns (EXPLAIN: plans, runs nothing)."""
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def label_progress(*, project: Project, user: User) -> Progress:
    """The user's work in the project, what is left for them, and an ETA from the median of
    their own recent lead times. Left: the unlabelled tasks (exact up to
    REMAINING_EXACT_UP_TO, else estimated) less those the user already did (skipped, or
    annotated where a task wants several annotations; estimated: less those you skipped)."""
    mine = Annotation.objects.filter(project=project, completed_by=user)
    # One pass over the user's entries of annotation_user_project_idx (no table read).
    counts = mine.aggregate(
        done=Count("id", filter=Q(was_cancelled=False)),
        skipped=Count("id", filter=Q(was_cancelled=True)),
    )
    done, skipped = counts["done"], counts["skipped"]
    unlabelled, exact = _unlabelled(project.pk)
    if exact:  # at most REMAINING_EXACT_UP_TO tasks, one index probe each
        annotated = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)
        remaining = (
            Task.objects.filter(project=project, is_labeled=False)
            .exclude(Exists(annotated))[: REMAINING_EXACT_UP_TO + 1]
            .count()
        )
    else:  # the tasks you skipped stay unlabelled but are not yours to do again
        remaining = max(0, unlabelled - skipped)
    # The newest LEAD_TIME_SAMPLE annotations (annotation_user_project_idx, no sort), those
    # with a lead time: a filter on lead_time in SQL would walk all of a user's work without.
    recent = (
        mine.filter(was_cancelled=False)
        .order_by("-id")
        .values_list("lead_time", flat=True)[:LEAD_TIME_SAMPLE]
    )
    times = [t for t in recent if t is not None]
    median = statistics.median(times) if times else None
    eta = median * remaining if median is not None else None
    return Progress(done, skipped, remaining, median, eta, remaining_estimated=not exact)


def _recent_annotations(
    project_id: int, exclude_task: int, author: int | None = None
) -> list[dict[str, Any]]:
    mine = Q(completed_by_id=author) if author is not None else Q()
    rows: list[dict[str, Any]] = list(
        Annotation.objects.filter(mine, project_id=project_id, was_cancelled=False)
        .exclude(task_id=exclude_task)
        .order_by("-id")
        .values("task_id", "result")[:RECENT_ANNOTATIONS]  # type: ignore[arg-type]
    )
    return rows


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def _summary(result: Any) -> dict[str, Any]:
    """Choices and entities of a result, for showing next to a similar task."""
    choices: list[str] = []
    entities: list[list[str]] = []
    for item in result if isinstance(result, list) else []:
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("choices"), list):
            choices.extend(str(c) for c in value["choices"])
        elif isinstance(value.get("taxonomy"), list):
            choices.extend(" / ".join(map(str, path)) for path in value["taxonomy"])
        labels = value.get(item.get("type", "")) or value.get("labels")
        if isinstance(value.get("text"), str) and isinstance(labels, list) and labels:
            entities.append([value["text"], str(labels[0])])
    return {"choices": choices, "entities": entities}


def label_similar_tasks(
    *, task: Task, text: str, author: int | None = None
) -> list[dict[str, Any]]:
    """Already-annotated tasks whose text is most like this one (token Jaccard over the
    project's newest annotations, or ``author``'s alone: an annotator sees only tasks handed
    to them), with their labels. Embeddings replace this later."""
    words = _words(text)
    if not words:
        return []
    recent = _recent_annotations(task.project_id, task.pk, author)
    first_per_task: dict[int, Any] = {}
    for row in recent:
        first_per_task.setdefault(row["task_id"], row["result"])
    config = task.project.parsed_config
    datas = Task.objects.filter(pk__in=list(first_per_task)).values_list("pk", "data")
    scored: list[tuple[float, int, str]] = []
    for pk, data in datas:
        other = task_text(config=config, data=data) if isinstance(data, dict) else ""
        other_words = _words(other)
        if other_words:
            score = len(words & other_words) / len(words | other_words)
            if score > 0:
                scored.append((score, pk, other))
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [
        {"task": pk, "text": other, "score": round(score, 3), **_summary(first_per_task[pk])}
        for score, pk, other in scored[:SIMILAR_LIMIT]
    ]


def label_known_entities(
    *, task: Task, text: str, author: int | None = None
) -> list[dict[str, Any]]:
    """Span texts labelled in the project's newest annotations (or ``author``'s alone) that
    occur in this text, each with its most frequent label: offered as suggestions."""
    if not text:
        return []
    rows = _recent_annotations(task.project_id, task.pk, author)
    return _best_labels(rows, keep=lambda span_text: span_text in text)[:ENTITY_LIMIT]


def label_known_phrases(*, project: Project, author: int | None = None) -> list[dict[str, Any]]:
    """Every span text labelled in the project's newest annotations (or ``author``'s alone,
    as for the suggestions), with its most frequent label: the labelling page's keyboard
    stops on them (Down/Up select a whole known phrase in one key). Embedded once in the
    page; the same bounded read as the suggestions."""
    rows = _recent_annotations(project.pk, 0, author)
    return _best_labels(rows, keep=lambda span_text: len(span_text) <= PHRASE_MAX_CHARS)[
        :PHRASE_LIMIT
    ]


def _best_labels(rows: list[dict[str, Any]], keep: Any) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for row in rows:
        for item in row["result"] if isinstance(row["result"], list) else []:
            entry = _entity(item)
            if entry is not None and keep(entry[0]):
                counts[entry] += 1
    best: dict[str, tuple[str, str, str, str]] = {}
    for entry, _count in counts.most_common():
        best.setdefault(entry[0], entry)
    return [
        {"text": t, "label": label, "from_name": from_name, "type": kind}
        for t, label, from_name, kind in best.values()
    ]


def _entity(item: Any) -> tuple[str, str, str, str] | None:
    if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
        return None
    value, kind = item["value"], item.get("type")
    labels = value.get(kind) if isinstance(kind, str) else None
    span_text = value.get("text")
    if not (isinstance(span_text, str) and len(span_text.strip()) >= 2):
        return None
    if not (isinstance(labels, list) and labels and isinstance(item.get("from_name"), str)):
        return None
    return span_text, str(labels[0]), item["from_name"], str(kind)
