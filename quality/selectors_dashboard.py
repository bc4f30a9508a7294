"""The numbers of the quality dashboards (project and per annotator), for the pages, their
CSV downloads and the API alike: one computation, three outputs.

Definitions (the README repeats them):

- an annotation's *label* is the sorted choices of its first choice control ("a|b" for two);
  annotations without one (spans only) have none and count in no label-based figure;
- *gold accuracy*: the mean score (tasks/accuracy.py, a skip scores 0) of the annotator's
  answers to gold tasks, the same scores certification uses;
- *expert agreement*: the mean score of their annotations against an expert member's
  annotation of the same task;
- *peer kappa*: Cohen's kappa of their labels with each peer's on the tasks both labelled
  (at least two), averaged over peers;
- *time*: median and quartiles of their recorded lead times; *rushing* when the median is
  under half the median of the other annotators' medians, *struggling* over twice it;
- *inaccurate*: gold accuracy more than 0.2 under the median of the other annotators';
- *rejection rate*: rejections among the review decisions on their work;
- *reference* of a task for the confusion matrix: its ground-truth label (by someone else),
  else the strict majority label of the other annotators (at least two of them).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

from django.db.models import Count, Q
from sklearn.metrics import cohen_kappa_score

from projects.models import Project, ProjectMember, ProjectRole
from quality.models_workflow import ReviewAction, ReviewDecision
from tasks.accuracy import result_accuracy
from tasks.models import Annotation, Task
from tasks.services.certification import gold_answers_list

RUSH_FACTOR = 0.5
STRUGGLE_FACTOR = 2.0
ACCURACY_GAP = 0.2
CONFUSED_PAIRS = 10
AGREEMENT_BINS = 10


def label_of(result: Any) -> str | None:
    for item in result if isinstance(result, list) else []:
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict) and isinstance(value.get("choices"), list):
            return "|".join(sorted(str(c) for c in value["choices"]))
    return None


def pair_kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two annotators' labels on the same tasks (None under two tasks).
    Both constant: 1 when they agree everywhere, else 0 (kappa itself is undefined)."""
    if len(first) < 2:
        return None
    kappa = float(cohen_kappa_score(first, second))
    if math.isnan(kappa):
        return 1.0 if first == second else 0.0
    return kappa


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _quartiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


@dataclass
class AnnotatorRow:
    user_id: int
    username: str
    level: str | None
    annotations: int = 0
    gold_answers: int = 0
    gold_accuracy: float | None = None
    expert_agreement: float | None = None
    peer_kappa: float | None = None
    median_lead_time: float | None = None
    lead_time_q1: float | None = None
    lead_time_q3: float | None = None
    reviewed: int = 0
    rejection_rate: float | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class _Work:
    """One finished annotation, as the dashboards need it."""

    task_id: int
    user_id: int
    result: Any
    label: str | None
    lead_time: float | None
    day: str
    ground_truth: bool


@dataclass
class _Data:
    work: list[_Work]
    names: dict[int, str]
    levels: dict[int, str]


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _load(project: Project) -> _Data:
    rows = (
        Annotation.objects.filter(project=project, was_cancelled=False, completed_by__isnull=False)
        .order_by("id")
        .values_list(
            "task_id",
            "completed_by_id",
            "result",
            "lead_time",
            "created_at",
            "ground_truth",
            "completed_by__username",
        )
    )
    work: list[_Work] = []
    names: dict[int, str] = {}
    for task_id, user_id, result, lead, created, truth, name in rows:
        if not truth:  # a ground truth's author is the reference, not an annotator
            names[user_id] = name
        work.append(_Work(task_id, user_id, result, label_of(result), lead, _day(created), truth))
    members = ProjectMember.objects.filter(project=project).select_related("user")
    levels = {}
    for m in members:
        levels[m.user_id] = m.level
        if m.role == ProjectRole.ANNOTATOR:
            names.setdefault(m.user_id, m.user.username)
    return _Data(work=work, names=names, levels=levels)


def _newest_by_user(work: list[_Work]) -> dict[int, dict[int, _Work]]:
    """user -> task -> their newest finished, non-ground-truth annotation."""
    out: dict[int, dict[int, _Work]] = defaultdict(dict)
    for w in work:
        if not w.ground_truth:
            out[w.user_id][w.task_id] = w
    return out


def _peer_kappas(labels: dict[int, dict[int, str]]) -> dict[int, float | None]:
    per_user: dict[int, list[float]] = defaultdict(list)
    for a, b in combinations(sorted(labels), 2):
        shared = sorted(set(labels[a]) & set(labels[b]))
        kappa = pair_kappa([labels[a][t] for t in shared], [labels[b][t] for t in shared])
        if kappa is not None:
            per_user[a].append(kappa)
            per_user[b].append(kappa)
    return {user: _mean(values) for user, values in per_user.items()}


def _expert_agreement(
    user: int, own: dict[int, _Work], by_user: dict[int, dict[int, _Work]], levels: dict[int, str]
) -> float | None:
    scores = []
    experts = [u for u in by_user if u != user and levels.get(u) == "expert"]
    for task_id, mine in own.items():
        for expert in experts:
            theirs = by_user[expert].get(task_id)
            if theirs is not None:
                scores.append(result_accuracy(expected=theirs.result, answer=mine.result))
    return _mean(scores)


def annotator_rows(project: Project, data: _Data | None = None) -> list[AnnotatorRow]:
    """Every annotator's row, by username (see the module docstring for each figure)."""
    data = data or _load(project)
    by_user = _newest_by_user(data.work)
    gold: dict[int, list[float]] = defaultdict(list)
    for answer in gold_answers_list(project=project):
        gold[answer.user_id].append(answer.score)
    labels = {
        user: {t: w.label for t, w in tasks.items() if w.label is not None}
        for user, tasks in by_user.items()
    }
    kappas = _peer_kappas(labels)
    decisions = (
        ReviewDecision.objects.filter(project=project)
        .values("author_id")
        .annotate(n=Count("id"), rejected=Count("id", filter=Q(action=ReviewAction.REJECT)))
    )
    reviews = {d["author_id"]: (d["n"], d["rejected"]) for d in decisions}
    rows: list[AnnotatorRow] = []
    times: dict[int, list[float]] = {
        user: [w.lead_time for w in tasks.values() if w.lead_time is not None]
        for user, tasks in by_user.items()
    }
    for user, name in data.names.items():
        own = by_user.get(user, {})
        q1, q3 = _quartiles(sorted(times.get(user, [])))
        reviewed, rejected = reviews.get(user, (0, 0))
        rows.append(
            AnnotatorRow(
                user_id=user,
                username=name,
                level=data.levels.get(user),
                annotations=len(own),
                gold_answers=len(gold.get(user, [])),
                gold_accuracy=_mean(gold.get(user, [])),
                expert_agreement=_expert_agreement(user, own, by_user, data.levels),
                peer_kappa=kappas.get(user),
                median_lead_time=_median(times.get(user, [])),
                lead_time_q1=q1,
                lead_time_q3=q3,
                reviewed=reviewed,
                rejection_rate=rejected / reviewed if reviewed else None,
            )
        )
    _flag(rows)
    return sorted(rows, key=lambda r: r.username)


def _flag(rows: list[AnnotatorRow]) -> None:
    for row in rows:
        others = [r for r in rows if r is not row]
        peer_time = _median([r.median_lead_time for r in others if r.median_lead_time is not None])
        if row.median_lead_time is not None and peer_time:
            if row.median_lead_time < RUSH_FACTOR * peer_time:
                row.flags.append("rushing")
            elif row.median_lead_time > STRUGGLE_FACTOR * peer_time:
                row.flags.append("struggling")
        peer_accuracy = _median([r.gold_accuracy for r in others if r.gold_accuracy is not None])
        if (
            row.gold_accuracy is not None
            and peer_accuracy is not None
            and row.gold_accuracy < peer_accuracy - ACCURACY_GAP
        ):
            row.flags.append("inaccurate")


def _daily(work: list[_Work], user: int | None = None) -> list[dict[str, Any]]:
    days = Counter(w.day for w in work if user is None or w.user_id == user)
    return [{"day": day, "annotations": n} for day, n in sorted(days.items())]


def _references(project: Project, data: _Data, user: int) -> dict[int, str]:
    """task -> reference label for ``user``'s answers: ground truth by someone else, else
    the strict majority of at least two other annotators."""
    refs: dict[int, str] = {}
    truth = Annotation.objects.filter(project=project, ground_truth=True).exclude(
        completed_by_id=user
    )
    for task_id, result in truth.order_by("updated_at", "id").values_list("task_id", "result"):
        label = label_of(result)
        if label is not None:
            refs[task_id] = label
    others: dict[int, Counter[str]] = defaultdict(Counter)
    for other, tasks in _newest_by_user(data.work).items():
        if other == user:
            continue
        for task_id, w in tasks.items():
            if w.label is not None:
                others[task_id][w.label] += 1
    for task_id, votes in others.items():
        total = sum(votes.values())
        label, top = votes.most_common(1)[0]
        if task_id not in refs and total >= 2 and top * 2 > total:
            refs[task_id] = label
    return refs


def annotator_dashboard(*, project: Project, user_id: int) -> dict[str, Any] | None:
    """One annotator's view: their row, their work per day, and their error patterns (a
    confusion matrix against the reference, and the label pairs they confuse most)."""
    data = _load(project)
    rows = {r.user_id: r for r in annotator_rows(project, data)}
    if user_id not in rows:
        return None
    own = _newest_by_user(data.work).get(user_id, {})
    refs = _references(project, data, user_id)
    pairs = Counter((refs[t], w.label) for t, w in own.items() if t in refs and w.label is not None)
    labels = sorted({label for pair in pairs for label in pair})
    matrix = [[pairs.get((ref, ans), 0) for ans in labels] for ref in labels]
    confused = sorted(
        ((ref, ans, n) for (ref, ans), n in pairs.items() if ref != ans),
        key=lambda x: (-x[2], x[0], x[1]),
    )[:CONFUSED_PAIRS]
    return {
        "annotator": asdict(rows[user_id]),
        "daily": _daily(data.work, user_id),
        "confusion": {"labels": labels, "matrix": matrix},
        "confusion_rows": [
            {"reference": ref, "answer": ans, "count": n} for (ref, ans), n in sorted(pairs.items())
        ],
        "confused_pairs": [{"reference": r, "answer": a, "count": n} for r, a, n in confused],
    }


def _agreement_distribution(work: list[_Work]) -> list[dict[str, Any]]:
    per_task: dict[int, list[str]] = defaultdict(list)
    for tasks in _newest_by_user(work).values():
        for task_id, w in tasks.items():
            if w.label is not None:
                per_task[task_id].append(w.label)
    bins = [0] * AGREEMENT_BINS
    for task_labels in per_task.values():
        pairs = list(combinations(task_labels, 2))
        if not pairs:
            continue
        agreement = sum(a == b for a, b in pairs) / len(pairs)
        bins[min(int(agreement * AGREEMENT_BINS), AGREEMENT_BINS - 1)] += 1
    width = 1 / AGREEMENT_BINS
    return [
        {"from": round(i * width, 2), "to": round((i + 1) * width, 2), "tasks": n}
        for i, n in enumerate(bins)
    ]


def _label_distribution(work: list[_Work]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for w in work:
        if w.label is not None:
            counts.update(w.label.split("|"))
    return [{"label": label, "count": n} for label, n in sorted(counts.items())]


def _progress(project: Project) -> dict[str, int]:
    tasks = Task.objects.filter(project=project).aggregate(
        tasks=Count("id"), labeled=Count("id", filter=Q(is_labeled=True))
    )
    annotations = Annotation.objects.filter(project=project).aggregate(
        finished=Count("id", filter=Q(was_cancelled=False)),
        skipped=Count("id", filter=Q(was_cancelled=True)),
        gold_tasks=Count("task_id", filter=Q(ground_truth=True), distinct=True),
        review_pending=Count("id", filter=Q(review_status="pending", was_cancelled=False)),
        review_accepted=Count("id", filter=Q(review_status="accepted", was_cancelled=False)),
        review_rejected=Count("id", filter=Q(review_status="rejected", was_cancelled=False)),
    )
    return {**tasks, **annotations}


def project_dashboard(*, project: Project) -> dict[str, Any]:
    """The project view: progress, work per day, agreement and label distributions, and
    every annotator's row."""
    data = _load(project)
    return {
        "progress": _progress(project),
        "daily": _daily(data.work),
        "agreement_distribution": _agreement_distribution(data.work),
        "label_distribution": _label_distribution(data.work),
        "annotators": [asdict(r) for r in annotator_rows(project, data)],
    }


# The charts with a CSV download, per view.
PROJECT_CHARTS = ("progress", "daily", "agreement_distribution", "label_distribution", "annotators")
ANNOTATOR_CHARTS = ("daily", "confusion", "confused_pairs")


def chart_rows(dashboard: dict[str, Any], chart: str) -> list[dict[str, Any]]:
    """The rows of one chart of a dashboard (project or annotator), flat for CSV."""
    if chart == "progress":
        return [{"metric": k, "value": v} for k, v in dashboard["progress"].items()]
    if chart == "annotators":
        return [{**row, "flags": " ".join(row["flags"])} for row in dashboard["annotators"]]
    if chart == "confusion":
        return list(dashboard["confusion_rows"])
    return list(dashboard[chart])
