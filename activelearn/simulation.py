"""Active-learning simulation (``python manage.py al_simulate``): the whole loop of the
product, run by an oracle annotator that copies the gold label, against random order.

Every run of a strategy and seed is a fresh project holding the data set's train split as
unlabelled tasks (their order shuffled by the seed), and each round goes through the real
services: ``queue_refresh`` orders the queue (a cold-start seed set first, from the
embeddings), the oracle takes ``batch`` tasks through next-task (``task_next_take``) and
submits the gold label (``label_submit``), a new model version is trained
(``model_version_train``: the product's validation split, calibration and promotion), the
promoted version predicts the unlabelled pool (``predictions_write``, probabilities stored)
and ``queue_refresh_for_version`` scores the pool with the strategy (with the active version
when the new one was kept back), as the signals of ``mlserve.jobs.train_run`` do. After each
round the active version is scored on the held-out test split; a run stops once it reaches
95 % of the full-data accuracy (the same model trained on the whole train split, through the
same services), or at ``max_labels``. The random baseline is the same loop with the
``random`` strategy (random priorities, a random seed set). Embeddings are computed once per
text and copied into each run's tasks (``TaskEmbedding``), so a run pays only for its rounds.
All projects are deleted at the end.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction

from activelearn.models import QueueRound, QueueSettings, Strategy
from activelearn.services import (
    queue_refresh,
    queue_refresh_for_version,
    queue_settings_update,
)
from annotator.models import User
from mlserve.builtin.encoders import DEFAULT_ENCODER
from mlserve.models import ModelVersion, TaskEmbedding
from mlserve.services import (
    model_load,
    model_version_create,
    model_version_train,
    predictions_write,
    task_embeddings,
)
from mlserve.services.evaluation import (
    INTENT_CONTROL,
    DataSet,
    Row,
    dataset_read,
    evaluation_config,
)
from projects.models import Organization, Project
from projects.services import organization_create, project_create
from tasks.models import Task
from tasks.services import tasks_import
from tasks.services.labelling import label_submit
from tasks.services.next import task_next_take

SIMULATION_USER = "al-simulate"
RANDOM = Strategy.RANDOM.value
TARGETS = (0.90, 0.95)
# QueueSettings fields a strategy spec may override ("margin:exploration=0,diversity=no").
_OVERRIDABLE = {
    "exploration": float,
    "diversity": bool,
    "exploration_adaptive": bool,
    "rare_cover": bool,
}

Say = Callable[[str], None]


@dataclass
class StrategySpec:
    """A strategy as the command names it: ``name`` or ``name:field=value,...``."""

    key: str
    strategy: str
    overrides: dict[str, Any] = field(default_factory=dict)


def strategy_parse(text: str) -> StrategySpec:
    name, _, rest = text.partition(":")
    name = name.strip()
    if name not in Strategy.values:
        raise ValidationError(
            {"strategy": [f"unknown strategy {name!r}; known: {Strategy.values}"]}
        )
    overrides: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, _, value = part.partition("=")
        kind = _OVERRIDABLE.get(key.strip())
        if kind is None:
            raise ValidationError(
                {"strategy": [f"{text!r}: can set only {sorted(_OVERRIDABLE)}, not {key!r}"]}
            )
        if kind is bool:
            overrides[key.strip()] = value.strip().lower() in ("1", "true", "yes", "on")
        else:
            overrides[key.strip()] = kind(value)
    return StrategySpec(key=text.strip(), strategy=name, overrides=overrides)


def default_strategy() -> StrategySpec:
    """The project default (QueueSettings' field defaults)."""
    default = QueueSettings._meta.get_field("strategy").default
    return StrategySpec(key=str(default), strategy=str(default))


@dataclass
class Run:
    seed: int
    curve: list[tuple[int, float]] = field(default_factory=list)  # (labels, test accuracy)
    rounds: int = 0
    scoring_seconds_per_10k: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def labels_to(self, target: float) -> int | None:
        return next((labels for labels, acc in self.curve if acc >= target), None)


@dataclass
class _Context:
    data: DataSet
    organization: Organization
    user: User
    vectors: dict[str, Any]  # text -> embedding
    test_texts: list[str]
    test_vectors: Any
    test_gold: Any
    batch: int
    max_labels: int
    say: Say


def _user() -> User:
    user, created = User.objects.get_or_create(
        username=SIMULATION_USER, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _project(ctx: _Context, title: str, rows: list[Row], *, annotated: bool) -> Project:
    intent_only = replace(ctx.data, has_entities=False)
    project = project_create(
        organization=ctx.organization,
        title=title,
        created_by=ctx.user,
        label_config=evaluation_config(intent_only),
    )
    items: list[dict[str, Any]] = []
    for ref, row in enumerate(rows):
        item: dict[str, Any] = {"data": {"text": row.text, "ref": ref}}
        if annotated:
            item["annotations"] = [{"result": _result(row.intent)}]
        items.append(item)
    summary = tasks_import(project=project, items=items, user=ctx.user)
    if ctx.vectors:
        _embeddings_copy(ctx, list(summary.task_ids), rows)
    return project


def _embeddings_copy(ctx: _Context, task_ids: list[int], rows: list[Row]) -> None:
    """The tasks' embeddings from those computed once per text (the encoder is the slow
    part of a round on CPU, and a text's embedding does not depend on the project)."""
    refs = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "data__ref"))
    vectors = ctx.vectors
    TaskEmbedding.objects.bulk_create(
        [
            TaskEmbedding(
                task_id=pk,
                encoder=DEFAULT_ENCODER,
                vector=np.asarray(vectors[rows[int(ref)].text], dtype=np.float32).tobytes(),
            )
            for pk, ref in refs.items()
            if rows[int(ref)].text in vectors
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


def _result(intent: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": INTENT_CONTROL,
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [intent]},
        }
    ]


def _accuracy(ctx: _Context, version: ModelVersion) -> float:
    model = model_load(version)
    probabilities = model.predict_proba(ctx.test_texts, ctx.test_vectors)
    predicted = np.array(model.classes, dtype=object)[probabilities.argmax(axis=1)]
    return float((predicted == ctx.test_gold).mean())


def _train(project: Project) -> ModelVersion:
    version = model_version_create(project=project, control=INTENT_CONTROL)
    return model_version_train(version=version)


def _full_accuracy(ctx: _Context) -> float:
    """The same model trained on every row of the train split (through the same services:
    the product's validation split is held out of training there too)."""
    project = _project(ctx, "al_simulate full data", ctx.data.train, annotated=True)
    try:
        if not ctx.vectors:  # encode once, then keep the vectors for every run
            ids = list(Task.objects.filter(project=project).values_list("pk", flat=True))
            refs = dict(Task.objects.filter(pk__in=ids).values_list("pk", "data__ref"))
            vectors = task_embeddings([(pk, ctx.data.train[int(refs[pk])].text) for pk in ids])
            ctx.vectors.update(
                {ctx.data.train[int(refs[pk])].text: v for pk, v in zip(ids, vectors, strict=True)}
            )
        return _accuracy(ctx, _train(project))
    finally:
        _discard(project)


def _take_batch(ctx: _Context, project: Project, gold: dict[int, str]) -> int:
    """The oracle: next-task, then submit the gold label, ``batch`` times."""
    taken = 0
    for _ in range(ctx.batch):
        task = task_next_take(project=project, user=ctx.user)
        if task is None:
            break
        label_submit(task=task, user=ctx.user, result=_result(gold[task.pk]), lead_time=1.0)
        taken += 1
    return taken


def _run(ctx: _Context, spec: StrategySpec, seed: int, stop_at: float) -> Run:
    rows = list(ctx.data.train)
    random.Random(seed).shuffle(rows)  # noqa: S311 - a reproducible order, not security
    project = _project(ctx, f"al_simulate {spec.key} seed {seed}", rows, annotated=False)
    run = Run(seed=seed)
    try:
        queue_settings_update(
            project=project, strategy=spec.strategy, batch_size=ctx.batch, **spec.overrides
        )
        refs = dict(Task.objects.filter(project=project).values_list("pk", "data__ref"))
        gold = {pk: rows[int(ref)].intent for pk, ref in refs.items()}
        queue_refresh(project=project, seed=seed)  # no model yet: the seed set
        labels = 0
        while True:
            added = _take_batch(ctx, project, gold)
            labels += added
            run.rounds += 1
            version = _train(project)
            if version.is_active:
                unlabelled = Task.objects.filter(project=project, is_labeled=False)
                predictions_write(version=version, task_ids=unlabelled.values_list("pk", flat=True))
            # What the signals of mlserve.jobs.train_run do: promoted, the pool is scored with
            # the new version; kept back, again with the active one.
            queue_refresh_for_version(version=version, seed=seed * 1000 + run.rounds)
            active = ModelVersion.objects.get(project=project, is_active=True)
            accuracy = _accuracy(ctx, active)
            run.curve.append((labels, round(accuracy, 4)))
            ctx.say(f"{spec.key} seed {seed}: {labels} labels, test accuracy {accuracy:.4f}")
            if accuracy >= stop_at or labels >= ctx.max_labels or added < ctx.batch:
                break
        for seconds, scored in (
            QueueRound.objects.filter(project=project, scored__gt=0)
            .exclude(model_version="")
            .values_list("seconds", "scored")
        ):
            run.scoring_seconds_per_10k.append(seconds / scored * 10_000)
        run.notes = sorted(
            set(
                QueueRound.objects.filter(project=project)
                .exclude(note="")
                .values_list("note", flat=True)
            )
        )
    finally:
        _discard(project)
    return run


def _mean_curve(runs: list[Run]) -> list[list[float]]:
    """Mean test accuracy over the seeds at each label count; a run that stopped (it reached
    the target) counts with its last accuracy."""
    counts = sorted({labels for r in runs for labels, _ in r.curve})
    curve = []
    for count in counts:
        values = []
        for r in runs:
            seen = [acc for labels, acc in r.curve if labels <= count]
            if seen:
                values.append(seen[-1])
        curve.append([count, round(statistics.fmean(values), 4)])
    return curve


def _summary(runs: list[Run], targets: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, target in targets.items():
        reached = [r.labels_to(target) for r in runs]
        out[f"labels_to_{name}"] = (
            round(statistics.fmean(reached)) if all(n is not None for n in reached) else None  # type: ignore[arg-type]
        )
    seconds = [s for r in runs for s in r.scoring_seconds_per_10k]
    out["scoring_seconds_per_10k"] = round(statistics.fmean(seconds), 3) if seconds else None
    out["curve"] = _mean_curve(runs)
    out["seeds"] = [
        {
            "seed": r.seed,
            **{f"labels_to_{n}": r.labels_to(t) for n, t in targets.items()},
            "rounds": r.rounds,
            "curve": [list(p) for p in r.curve],
            **({"notes": r.notes} if r.notes else {}),
        }
        for r in runs
    ]
    return out


def simulate(
    *,
    folder: Path,
    strategies: list[str] | None = None,
    seeds: int = 3,
    batch: int = 100,
    max_labels: int = 5000,
    limit: int | None = None,
    say: Say = lambda _msg: None,
) -> dict[str, Any]:
    """Run the simulation and return the report (the command's ``--json`` document)."""
    specs = [strategy_parse(s) for s in strategies] if strategies else [default_strategy()]
    specs = [s for s in specs if s.key != RANDOM] + [StrategySpec(RANDOM, RANDOM)]
    if batch < 1 or seeds < 1:
        raise ValidationError({"batch": ["batch and seeds must be at least 1"]})
    data = dataset_read(folder, limit=limit)
    user = _user()
    organization = organization_create(title=f"al_simulate {data.name}", owner=user)
    started = time.perf_counter()
    try:
        holdout = project_create(
            organization=organization,
            title="al_simulate test split",
            created_by=user,
            label_config=evaluation_config(replace(data, has_entities=False)),
        )
        summary = tasks_import(
            project=holdout,
            items=[{"data": {"text": r.text}} for r in data.test],
            user=user,
        )
        say(f"{data.name}: embedding {len(data.train)} train and {len(data.test)} test texts")
        test_ids = list(summary.task_ids)
        texts = dict(Task.objects.filter(pk__in=test_ids).values_list("pk", "data__text"))
        test_vectors = task_embeddings([(pk, texts[pk]) for pk in test_ids])
        ctx = _Context(
            data=data,
            organization=organization,
            user=user,
            vectors={},
            test_texts=[texts[pk] for pk in test_ids],
            test_vectors=test_vectors,
            test_gold=np.array([r.intent for r in data.test], dtype=object),
            batch=batch,
            max_labels=max_labels,
            say=say,
        )
        full = _full_accuracy(ctx)
        say(f"full-data test accuracy {full:.4f}")
        targets = {f"{round(t * 100)}": t * full for t in TARGETS}
        report: dict[str, Any] = {
            "data": data.name,
            "pool": len(data.train),
            "test": len(data.test),
            "batch": batch,
            "seeds": seeds,
            "full_accuracy": round(full, 4),
            "targets": {k: round(v, 4) for k, v in targets.items()},
            "default_strategy": default_strategy().key,
            "strategies": {},
        }
        for spec in specs:
            runs = [_run(ctx, spec, seed, targets["95"]) for seed in range(seeds)]
            report["strategies"][spec.key] = _summary(runs, targets)
        baseline = report["strategies"][RANDOM]
        for row in report["strategies"].values():
            for name in targets:
                mine, theirs = row[f"labels_to_{name}"], baseline[f"labels_to_{name}"]
                row[f"saving_{name}"] = (
                    round(1 - mine / theirs, 3) if mine is not None and theirs else None
                )
        report["seconds"] = round(time.perf_counter() - started, 1)
        return report
    finally:
        for project in Project.objects.filter(organization=organization):
            _discard(project)
        organization.delete()


@transaction.atomic
def _discard(project: Project) -> None:
    for artifact in ModelVersion.objects.filter(project=project).values_list("artifact", flat=True):
        if artifact:
            default_storage.delete(artifact)
    # A run leaves a prediction per version and pool task (100k+ rows): two plain deletes,
    # instead of the ORM's cascade fetching every row's id first (35 s a run on the loaded
    # 2-core box, most of the clean-up).
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM mlserve_predictionprobabilities WHERE version_id IN"
            " (SELECT id FROM mlserve_modelversion WHERE project_id = %s)",
            [project.pk],
        )
        cursor.execute(
            "UPDATE tasks_annotation SET parent_prediction_id = NULL"
            " WHERE project_id = %s AND parent_prediction_id IS NOT NULL",
            [project.pk],
        )
        cursor.execute("DELETE FROM tasks_prediction WHERE project_id = %s", [project.pk])
    project.delete()


def plot_write(report: dict[str, Any], path: Path) -> None:
    """Mean test-accuracy curve per strategy, with the 90 % and 95 % targets (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for name, row in report["strategies"].items():
        xs = [p[0] for p in row["curve"]]
        ys = [p[1] for p in row["curve"]]
        reached = row.get("labels_to_95")
        label = f"{name}: 95 % at {reached if reached is not None else '-'} labels"
        if name != RANDOM and row.get("saving_95") is not None:
            label += f" ({row['saving_95']:.0%} fewer)"
        axes.plot(xs, ys, marker=".", label=label, linestyle="--" if name == RANDOM else "-")
    for name, target in report["targets"].items():
        axes.axhline(target, color="grey", linewidth=0.8, linestyle=":")
        axes.annotate(f"{name} % of full data", (0, target), fontsize=8, color="grey")
    axes.set_xlabel("labels")
    axes.set_ylabel("test accuracy")
    axes.set_title(
        f"{report['data']}: mean of {report['seeds']} seeds, batches of {report['batch']}"
        f" (full data {report['full_accuracy']:.3f})"
    )
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
