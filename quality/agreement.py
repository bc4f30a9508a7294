"""Agreement from the database: per project, per annotator pair, per annotator against
peers and per task, for one control of the labelling config.

What is compared: the finished annotations (not skips, not ground truth: an arbitration
decision is not a rater) of tasks with two annotations or more. A user's latest annotation
counts when they annotated a task twice. What a control's "answer" is depends on its tag:

=================== ============ ===============================================================
tag                 kind         answer compared; metrics (default first)
=================== ============ ===============================================================
Choices, Rating     categorical  the chosen value(s) (several choices: the set as one category);
                                 krippendorff, fleiss, cohen (mean pairwise), gwet
Labels              spans        (start, end, label) regions: span_f1 (overlap, IoU >= 0.5),
                                 span_f1_exact
RectangleLabels     boxes        (x, y, width, height, label): box_f1 (IoU >= 0.5)
Taxonomy            taxonomy     the set of paths: taxonomy (full path), with F1 per level
=================== ============ ===============================================================

Per task: the share of agreeing annotator pairs (categorical) or the mean pairwise F1; per
pair: the metric on the two raters' shared tasks (categorical) or their mean F1 there; per
annotator: the mean of their pairs' values, weighted by shared tasks; per project: the metric
on the whole tasks x annotators matrix (categorical) or the mean per-task F1.
``Task.agreement`` is the mean per-task value over the config's supported controls that
some annotator of the task used (a control nobody answered on a task is not compared there).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import orjson
from django.db import connection

from projects.labelconfig.schema import ControlTag, LabelConfig
from projects.models import Project
from quality import metrics
from quality.metrics import MISSING, Box, Path, Score, Span

KINDS = {
    "Choices": "categorical",
    "Rating": "categorical",
    "Labels": "spans",
    "RectangleLabels": "boxes",
    "Taxonomy": "taxonomy",
}
METRICS: dict[str, tuple[str, ...]] = {
    "categorical": ("krippendorff", "fleiss", "cohen", "gwet"),
    "spans": ("span_f1", "span_f1_exact"),
    "boxes": ("box_f1",),
    "taxonomy": ("taxonomy",),
}
ALL_METRICS = tuple(m for names in METRICS.values() for m in names)
IOU_THRESHOLD = 0.5


class AgreementInputError(ValueError):
    """A bad ``control`` or ``metric``; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- answers out of results ---------------------------------------------------------------
def _items(result: Any, control: str) -> list[dict[str, Any]]:
    if not isinstance(result, list):
        return []
    return [
        i
        for i in result
        if isinstance(i, dict)
        and i.get("from_name") == control
        and isinstance(i.get("value"), dict)
    ]


def _label(item: dict[str, Any]) -> str:
    value = item["value"]
    labels = value.get(str(item.get("type", ""))) or value.get("labels") or []
    return "|".join(sorted(map(str, labels))) if isinstance(labels, list) else str(labels)


def categorical_answer(result: Any, control: str) -> str | None:
    """The chosen value (several choices joined, sorted), or None when not answered."""
    for item in _items(result, control):
        value = item["value"]
        if "rating" in value:
            return str(value["rating"])
        chosen = value.get("choices")
        if isinstance(chosen, list) and chosen:
            return "|".join(sorted(map(str, chosen)))
    return None


def spans_answer(result: Any, control: str) -> list[Span]:
    out = []
    for item in _items(result, control):
        value = item["value"]
        start, end = value.get("start"), value.get("end")
        if isinstance(start, int | float) and isinstance(end, int | float):
            out.append(Span(float(start), float(end), _label(item)))
    return out


def boxes_answer(result: Any, control: str) -> list[Box]:
    out = []
    for item in _items(result, control):
        v = item["value"]
        try:
            out.append(
                Box(
                    float(v["x"]),
                    float(v["y"]),
                    float(v["width"]),
                    float(v["height"]),
                    _label(item),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return out


def taxonomy_answer(result: Any, control: str) -> list[Path]:
    out: list[Path] = []
    for item in _items(result, control):
        paths = item["value"].get("taxonomy")
        for path in paths if isinstance(paths, list) else []:
            if isinstance(path, list) and path:
                out.append(tuple(map(str, path)))
    return out


# --- controls ------------------------------------------------------------------------------
def supported_controls(config: LabelConfig) -> list[ControlTag]:
    return [c for c in config.controls.values() if c.tag in KINDS]


def control_pick(
    config: LabelConfig, name: str | None, metric: str | None
) -> tuple[ControlTag, str]:
    """The control (named, else the first supported one) and the metric (named, else the
    kind's default); AgreementInputError on a control or metric that does not fit."""
    controls = supported_controls(config)
    if name:
        control = config.controls.get(name)
        if control is None:
            raise AgreementInputError("control", f"No control named '{name}' in the config.")
        if control.tag not in KINDS:
            raise AgreementInputError(
                "control", f"Agreement is not computed for {control.tag} controls."
            )
    elif controls:
        control = controls[0]
    else:
        raise AgreementInputError("control", "The config has no control agreement applies to.")
    allowed = METRICS[KINDS[control.tag]]
    if metric is None:
        return control, allowed[0]
    if metric not in allowed:
        raise AgreementInputError(
            "metric", f"'{metric}' does not apply to {control.tag}; use one of {list(allowed)}."
        )
    return control, metric


# --- reading -------------------------------------------------------------------------------
@dataclass
class Ratings:
    """The latest finished annotation of each user on each task with 2+ annotations."""

    task_ids: list[int]
    user_ids: list[int]
    rows: list[tuple[int, int, Any]]  # (task index, user index, result)


_RATINGS_SQL = (
    "SELECT a.task_id, a.completed_by_id, {result} FROM tasks_annotation a"
    " JOIN tasks_task t ON t.id = a.task_id"
    " WHERE a.project_id = %s AND a.was_cancelled = %s AND a.ground_truth = %s"
    " AND a.completed_by_id IS NOT NULL AND t.total_annotations >= 2{tasks}"
    " ORDER BY a.id"
)


def ratings_read(*, project: Project, task_ids: Iterable[int] | None = None) -> Ratings:
    """One query, in id order so a user's later annotation of a task replaces the earlier.
    Plain SQL with the result as text decoded by orjson: the JSON decoding of the ORM was
    most of the time of a project's agreement."""
    params: list[Any] = [project.pk, False, False]
    tasks_sql = ""
    if task_ids is not None:
        wanted = [int(t) for t in task_ids]
        tasks_sql = (
            f" AND a.task_id IN ({', '.join(['%s'] * len(wanted))})" if wanted else " AND 1 = 0"
        )
        params += wanted
    text = "a.result::text" if connection.vendor == "postgresql" else "a.result"
    sql = _RATINGS_SQL.format(result=text, tasks=tasks_sql)
    latest: dict[tuple[int, int], Any] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for task_id, user_id, result in cursor.fetchall():
            latest[(task_id, user_id)] = result
    tasks = sorted({t for t, _ in latest})
    users = sorted({u for _, u in latest})
    t_index = {t: i for i, t in enumerate(tasks)}
    u_index = {u: i for i, u in enumerate(users)}
    rows = [
        (t_index[t], u_index[u], orjson.loads(r) if isinstance(r, str | bytes) else r)
        for (t, u), r in latest.items()
    ]
    return Ratings(task_ids=tasks, user_ids=users, rows=rows)


# --- results -------------------------------------------------------------------------------
@dataclass
class PairValue:
    a: int
    b: int
    tasks: int
    score: Score


@dataclass
class AnnotatorValue:
    user_id: int
    tasks: int
    value: float | None


@dataclass
class Report:
    control: str
    kind: str
    metric: str
    project: Score
    pairs: list[PairValue] = field(default_factory=list)
    annotators: list[AnnotatorValue] = field(default_factory=list)
    task_values: dict[int, float] = field(default_factory=dict)  # task id -> per-task value
    per_label: dict[str, Score] = field(default_factory=dict)
    macro: float | None = None
    per_level: dict[int, float | None] = field(default_factory=dict)


def _annotators(pairs: Sequence[PairValue], user_ids: Sequence[int]) -> list[AnnotatorValue]:
    weight: dict[int, float] = defaultdict(float)
    total: dict[int, float] = defaultdict(float)
    shared: dict[int, int] = defaultdict(int)
    for p in pairs:
        for user in (p.a, p.b):
            shared[user] += p.tasks
            if p.score.value is not None:
                weight[user] += p.tasks
                total[user] += p.score.value * p.tasks
    return [
        AnnotatorValue(u, shared[u], total[u] / weight[u] if weight[u] else None)
        for u in user_ids
        if shared[u]
    ]


def _categorical(ratings: Ratings, control: ControlTag, metric: str) -> Report:
    labels = [label.value for label in control.labels]
    codes = {v: i for i, v in enumerate(labels)}
    t_idx, u_idx, vals = [], [], []
    for t, u, result in ratings.rows:
        answer = categorical_answer(result, control.name)
        if answer is None:
            continue
        t_idx.append(t)
        u_idx.append(u)
        vals.append(codes.setdefault(answer, len(codes)))
    names = list(codes)
    q = max(len(codes), 1)
    matrix = np.full((len(ratings.task_ids), len(ratings.user_ids)), MISSING, dtype=np.int64)
    matrix[np.asarray(t_idx, dtype=np.int64), np.asarray(u_idx, dtype=np.int64)] = vals
    fn: Callable[..., Score] = metrics.CATEGORICAL[metric]
    project_score = fn(matrix) if metric == "cohen" else fn(matrix, q)
    counts = metrics.count_table(matrix, q)
    per_task = metrics.unit_observed_agreement(counts)
    task_values = {ratings.task_ids[i]: float(v) for i, v in enumerate(per_task) if not np.isnan(v)}
    present = matrix != MISSING
    pairs = []
    for i, j in combinations(range(matrix.shape[1]), 2):
        both = present[:, i] & present[:, j]
        n = int(both.sum())
        if not n:
            continue
        sub = matrix[both][:, [i, j]]
        score = metrics.cohen_kappa(sub[:, 0], sub[:, 1]) if metric == "cohen" else fn(sub, q)
        pairs.append(PairValue(ratings.user_ids[i], ratings.user_ids[j], n, score))
    by_label = metrics.per_label(matrix, metric)
    return Report(
        control=control.name,
        kind="categorical",
        metric=metric,
        project=project_score,
        pairs=pairs,
        annotators=_annotators(pairs, ratings.user_ids),
        task_values=task_values,
        per_label={names[c]: s for c, s in by_label.labels.items()},
        macro=by_label.macro,
    )


def _pairwise_f1(
    ratings: Ratings,
    control: ControlTag,
    kind: str,
    metric: str,
) -> Report:
    extract: Callable[[Any, str], Any]
    compare: Callable[[Any, Any], float | None]
    if kind == "spans":
        extract = spans_answer
        if metric == "span_f1_exact":
            compare = metrics.span_f1_exact
        else:
            compare = lambda a, b: metrics.span_f1_overlap(a, b, IOU_THRESHOLD)  # noqa: E731
    elif kind == "boxes":
        extract = boxes_answer
        compare = lambda a, b: metrics.box_f1(a, b, IOU_THRESHOLD)  # noqa: E731
    else:
        extract, compare = taxonomy_answer, metrics.taxonomy_f1
    by_task: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for t, u, result in ratings.rows:
        by_task[t].append((u, extract(result, control.name)))
    pair_sum: dict[tuple[int, int], float] = defaultdict(float)
    pair_n: dict[tuple[int, int], int] = defaultdict(int)
    task_values: dict[int, float] = {}
    levels: dict[int, list[float]] = defaultdict(list)
    depth = 0
    for t, answers in by_task.items():
        if not any(answer for _, answer in answers):
            continue  # nobody used the control on this task: nothing to compare
        values = []
        for (u1, a1), (u2, a2) in combinations(sorted(answers, key=lambda x: x[0]), 2):
            value = compare(a1, a2)
            if value is None:
                continue
            values.append(value)
            pair_sum[(u1, u2)] += value
            pair_n[(u1, u2)] += 1
            if kind == "taxonomy":
                depth = max(depth, *(len(p) for p in (*a1, *a2)), 0)
                for level in range(1, depth + 1):
                    lv = metrics.taxonomy_f1(a1, a2, level)
                    if lv is not None:
                        levels[level].append(lv)
        if values:
            task_values[ratings.task_ids[t]] = float(np.mean(values))
    pairs = [
        PairValue(
            ratings.user_ids[u1],
            ratings.user_ids[u2],
            n,
            Score(value=pair_sum[(u1, u2)] / n, units=n),
        )
        for (u1, u2), n in pair_n.items()
    ]
    project_score = (
        Score(value=float(np.mean(list(task_values.values()))), units=len(task_values))
        if task_values
        else Score(value=None, units=0, reason=metrics.NO_PAIRS)
    )
    return Report(
        control=control.name,
        kind=kind,
        metric=metric,
        project=project_score,
        pairs=pairs,
        annotators=_annotators(pairs, ratings.user_ids),
        task_values=task_values,
        per_level={lv: float(np.mean(v)) if v else None for lv, v in sorted(levels.items())},
    )


def agreement_report(*, ratings: Ratings, control: ControlTag, metric: str) -> Report:
    """Every figure of one control and metric from ratings already read."""
    kind = KINDS[control.tag]
    if kind == "categorical":
        return _categorical(ratings, control, metric)
    return _pairwise_f1(ratings, control, kind, metric)


def project_agreement(
    *, project: Project, control: str | None = None, metric: str | None = None
) -> Report:
    """The report of one control (default: the first supported) and metric (default: the
    control kind's first). Raises AgreementInputError on a bad control or metric."""
    tag, name = control_pick(project.parsed_config, control, metric)
    return agreement_report(ratings=ratings_read(project=project), control=tag, metric=name)


def task_values(*, project: Project, ratings: Ratings) -> dict[int, float]:
    """Task id -> the mean per-task value over the config's supported controls (default
    metric each), for tasks with at least one comparable pair."""
    sums: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    for control in supported_controls(project.parsed_config):
        report = agreement_report(
            ratings=ratings, control=control, metric=METRICS[KINDS[control.tag]][0]
        )
        for task_id, value in report.task_values.items():
            sums[task_id] += value
            counts[task_id] += 1
    return {t: sums[t] / counts[t] for t in sums}
