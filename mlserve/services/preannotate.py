"""Pre-annotation of French projects before any training: ``fr_core_news_sm`` finds PER,
LOC, ORG and MISC entities, and those the labelling config maps to one of its labels become
span predictions.

The map follows Label Studio's ML-backend convention: a ``<Label>`` lists the model labels
it stands for in ``predicted_values`` (``<Label value="LOCATION" predicted_values="LOC"/>``);
a label named exactly like a model label (``<Label value="LOC"/>``) maps to it too. Model
labels the config does not map are left out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import spacy
from spacy.language import Language

from mlserve.builtin.entities import FRENCH_BASE, ScoredSpan, beam_entities
from mlserve.models import ModelKind, ModelVersion
from mlserve.services.common import PREDICT_CHUNK, project_language, text_field, text_of
from mlserve.services.entities import entity_controls, spans_predictions_write
from projects.labelconfig.schema import ControlTag
from projects.models import Project
from tasks.models import Task

logger = logging.getLogger(__name__)
FRENCH_LABELS = ("PER", "LOC", "ORG", "MISC")
_loaded: dict[str, Language] = {}
_lock = threading.Lock()


def _french() -> Language:
    with _lock:
        if FRENCH_BASE not in _loaded:
            _loaded[FRENCH_BASE] = spacy.load(
                FRENCH_BASE,
                exclude=["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer"],
            )
    return _loaded[FRENCH_BASE]


def french_model_version() -> str:
    return f"{FRENCH_BASE}-{_french().meta.get('version', '')}"


def ner_label_map(control: ControlTag) -> dict[str, str]:
    """{model label: the control's label} from ``predicted_values`` (comma-separated) and
    from labels named like a model label."""
    mapping: dict[str, str] = {}
    for label in control.labels:
        target = label.alias or label.value
        for name in label.attrs.get("predicted_values", "").split(","):
            if name.strip():
                mapping.setdefault(name.strip(), target)
        if label.value in FRENCH_LABELS:
            mapping.setdefault(label.value, target)
    return mapping


def _mapped(spans: list[ScoredSpan], mapping: dict[str, str]) -> list[ScoredSpan]:
    return [s._replace(label=mapping[s.label]) for s in spans if s.label in mapping]


def french_preannotate(*, project: Project, task_ids: Iterable[int] | None = None) -> int:
    """Predict the mapped entities of a French project's tasks that have no entity
    prediction yet (from this model or a trained entity version). Returns how many tasks
    got one; 0 for a project that is not French or maps no label."""
    if project_language(project=project) != "fr":
        return 0
    controls = [(c, ner_label_map(c)) for c in entity_controls(project.parsed_config)]
    controls = [(c, m) for c, m in controls if m]
    if not controls:
        return 0
    try:
        nlp = _french()
    except OSError:  # fr-core-news-sm is not installed: nothing to pre-annotate with
        logger.warning("%s is not installed: no French pre-annotation", FRENCH_BASE)
        return 0
    name = french_model_version()
    written = 0
    for control, mapping in controls:
        trained = ModelVersion.objects.filter(
            project=project, control=control.name, kind=ModelKind.ENTITIES
        ).values_list("name", flat=True)
        tasks = Task.objects.filter(project=project).exclude(
            predictions__model_version__in=[name, *trained]
        )
        if task_ids is not None:
            tasks = tasks.filter(pk__in=list(task_ids))
        field = text_field(project, control)
        ids = list(tasks.order_by("id").values_list("pk", flat=True))
        for start in range(0, len(ids), PREDICT_CHUNK):
            rows = Task.objects.filter(pk__in=ids[start : start + PREDICT_CHUNK])
            items = [
                (pk, text)
                for pk, data in rows.values_list("pk", "data")
                if (text := text_of(data, field)) is not None
            ]
            found = beam_entities(nlp, [text for _, text in items])
            written += spans_predictions_write(
                project=project,
                control=control,
                model_version=name,
                items=items,
                spans=[_mapped(spans, mapping) for spans in found],
            )
    return written
