"""The active-learning loop of a project, round by round (one round = one model version):
validation accuracy against labels used, labels added, the annotators' median seconds per
annotation, how often they accepted the model's predictions unchanged, and a stopping hint
when the curve has flattened."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mlserve.models import ModelStatus, ModelVersion
from projects.models import Project
from tasks.models import Annotation, Prediction

# The curve is flat when each of the last PLATEAU_ROUNDS versions gained less than this.
PLATEAU_GAIN = 0.005
PLATEAU_ROUNDS = 3


@dataclass
class Round:
    version: str
    control: str
    finished_at: datetime | None
    labels: int
    labels_added: int
    accuracy: float | None
    macro_f1: float | None
    active: bool
    median_seconds: float | None = None  # per annotation made while this version served
    predictions_shown: int = 0
    accepted: int = 0  # annotations equal to the version's prediction they started from

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.predictions_shown if self.predictions_shown else None


@dataclass
class Loop:
    rounds: list[Round] = field(default_factory=list)
    stopping_hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": [{**asdict(r), "acceptance_rate": r.acceptance_rate} for r in self.rounds],
            "stopping_hint": self.stopping_hint,
        }


def _same(result: Any, predicted: Any) -> bool:
    """An annotation equals a prediction when their items match without ids and scores."""

    def key(items: Any) -> list[str]:
        cleaned = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                kept = {k: v for k, v in item.items() if k not in ("id", "score", "origin")}
                cleaned.append(repr(sorted(kept.items())))
        return sorted(cleaned)

    return key(result) == key(predicted)


def learning_loop(*, project: Project, control: str | None = None) -> Loop:
    versions = list(
        ModelVersion.objects.filter(project=project, status=ModelStatus.READY).order_by(
            "control", "number"
        )
    )
    if control:
        versions = [v for v in versions if v.control == control]
    loop = Loop()
    previous: dict[str, ModelVersion] = {}
    for index, version in enumerate(versions):
        before = previous.get(version.control)
        labels = version.train_size + version.validation_size
        loop.rounds.append(
            Round(
                version=version.name,
                control=version.control,
                finished_at=version.finished_at,
                labels=labels,
                labels_added=labels - (before.train_size + before.validation_size if before else 0),
                accuracy=version.metrics.get("accuracy"),
                macro_f1=version.metrics.get("macro_f1"),
                active=version.is_active,
            )
        )
        following = next((v for v in versions[index + 1 :] if v.control == version.control), None)
        _work_while_serving(project, version, following, loop.rounds[-1])
        previous[version.control] = version
    loop.stopping_hint = _stopping_hint(loop.rounds)
    return loop


def _work_while_serving(
    project: Project, version: ModelVersion, following: ModelVersion | None, row: Round
) -> None:
    """The annotations made after ``version`` finished and before the next one did."""
    made = Annotation.objects.filter(project=project, was_cancelled=False)
    if version.finished_at is not None:
        made = made.filter(created_at__gte=version.finished_at)
    if following is not None and following.finished_at is not None:
        made = made.filter(created_at__lt=following.finished_at)
    times = [t for t in made.values_list("lead_time", flat=True) if t is not None]
    row.median_seconds = round(statistics.median(times), 2) if times else None
    started = made.filter(parent_prediction__model_version=version.name)
    predictions = dict(
        Prediction.objects.filter(pk__in=started.values("parent_prediction_id")).values_list(
            "pk", "result"
        )
    )
    for parent, result in started.values_list("parent_prediction_id", "result"):
        row.predictions_shown += 1
        row.accepted += _same(result, predictions.get(parent))


def _stopping_hint(rounds: list[Round]) -> str | None:
    by_control: dict[str, list[Round]] = {}
    for r in rounds:
        if r.accuracy is not None:
            by_control.setdefault(r.control, []).append(r)
    hints = []
    for control, series in by_control.items():
        if len(series) <= PLATEAU_ROUNDS:
            continue
        tail = series[-(PLATEAU_ROUNDS + 1) :]
        gains = [b.accuracy - a.accuracy for a, b in itertools.pairwise(tail)]  # type: ignore[operator]
        if all(g < PLATEAU_GAIN for g in gains):
            added = sum(r.labels_added for r in tail[1:])
            hints.append(
                f"{control}: the last {PLATEAU_ROUNDS} versions ({added} more labels) gained less"
                f" than {PLATEAU_GAIN:.1%} validation accuracy each; more labels of the same kind"
                " may not pay off (consider stopping, or labelling other data)."
            )
    return " ".join(hints) or None
