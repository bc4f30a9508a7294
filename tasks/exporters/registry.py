"""The export formats, which configs each applies to, and the one entry point that streams them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from projects.labelconfig import LabelConfig

from .archives import write_voc, write_yolo
from .base import ExportError, ExportOptions, Task, coalesce
from .images import BOX_TAGS, SHAPE_TAGS, image_source, write_coco
from .spacy_docbin import write_spacy
from .spans import text_source, write_conll, write_hf_jsonl
from .tabular import write_csv, write_json, write_json_min, write_tsv

Writer = Callable[[LabelConfig, Iterable[Task], ExportOptions], Iterator[bytes]]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    content_type: str
    extension: str
    description: str
    needs: str | None  # what the config must contain, in words; None: any config


@dataclass(frozen=True)
class _Entry:
    format: ExportFormat
    writer: Writer
    applies: Callable[[LabelConfig], bool]


def _always(config: LabelConfig) -> bool:
    return True


def _text_spans(config: LabelConfig) -> bool:
    return text_source(config, need_spans=True) is not None


def _text_labels(config: LabelConfig) -> bool:
    return text_source(config, need_spans=False) is not None


def _image_shapes(config: LabelConfig) -> bool:
    return image_source(config, SHAPE_TAGS) is not None


def _image_boxes(config: LabelConfig) -> bool:
    return image_source(config, BOX_TAGS) is not None


_TEXT_SPANS = "a Labels control on a Text object"
_TEXT_LABELS = "a Labels or Choices control on a Text object"
_IMAGE_SHAPES = "a RectangleLabels or PolygonLabels control on an Image object"
_IMAGE_BOXES = "a RectangleLabels control on an Image object"

_ENTRIES = [
    _Entry(
        ExportFormat(
            "JSON",
            "JSON",
            "application/json",
            "json",
            "Every task with its data, annotations and predictions (Label Studio's format).",
            None,
        ),
        write_json,
        _always,
    ),
    _Entry(
        ExportFormat(
            "JSON_MIN",
            "JSON-MIN",
            "application/json",
            "json",
            "One flat record per task: its data and one key per control with the answer.",
            None,
        ),
        write_json_min,
        _always,
    ),
    _Entry(
        ExportFormat(
            "CSV",
            "CSV",
            "text/csv",
            "csv",
            "JSON-MIN as comma-separated values; nested answers are JSON-encoded.",
            None,
        ),
        write_csv,
        _always,
    ),
    _Entry(
        ExportFormat(
            "TSV",
            "TSV",
            "text/tab-separated-values",
            "tsv",
            "JSON-MIN as tab-separated values; nested answers are JSON-encoded.",
            None,
        ),
        write_tsv,
        _always,
    ),
    _Entry(
        ExportFormat(
            "CONLL2003",
            "CoNLL 2003",
            "text/plain",
            "conll",
            "Tokens with BIO tags, the CoNLL-2003 named entity recognition format.",
            _TEXT_SPANS,
        ),
        write_conll,
        _text_spans,
    ),
    _Entry(
        ExportFormat(
            "SPACY",
            "spaCy DocBin",
            "application/octet-stream",
            "spacy",
            "spaCy v3 training data: entities, span groups and text categories.",
            _TEXT_LABELS,
        ),
        write_spacy,
        _text_labels,
    ),
    _Entry(
        ExportFormat(
            "HF_JSONL",
            "Hugging Face JSON Lines",
            "application/x-ndjson",
            "jsonl",
            "One JSON object per line with text, labels, tokens and BIO tags, for `datasets`.",
            _TEXT_LABELS,
        ),
        write_hf_jsonl,
        _text_labels,
    ),
    _Entry(
        ExportFormat(
            "COCO",
            "COCO",
            "application/json",
            "json",
            "COCO object detection and segmentation JSON with boxes and polygons in pixels.",
            _IMAGE_SHAPES,
        ),
        write_coco,
        _image_shapes,
    ),
    _Entry(
        ExportFormat(
            "YOLO",
            "YOLO",
            "application/zip",
            "zip",
            "A ZIP of YOLO label files (class cx cy w h, normalised) with classes.txt.",
            _IMAGE_BOXES,
        ),
        write_yolo,
        _image_boxes,
    ),
    _Entry(
        ExportFormat(
            "VOC",
            "Pascal VOC XML",
            "application/zip",
            "zip",
            "A ZIP of Pascal VOC XML files, one per image, with boxes in pixels.",
            _IMAGE_BOXES,
        ),
        write_voc,
        _image_boxes,
    ),
]
_BY_NAME = {entry.format.name: entry for entry in _ENTRIES}

FORMATS: dict[str, ExportFormat] = {entry.format.name: entry.format for entry in _ENTRIES}


def formats_for(config: LabelConfig) -> list[ExportFormat]:
    """The formats this config can be exported to (JSON, JSON_MIN, CSV and TSV always)."""
    return [entry.format for entry in _ENTRIES if entry.applies(config)]


def export_stream(
    name: str,
    *,
    config: LabelConfig,
    tasks: Iterable[Task],
    options: ExportOptions | None = None,
) -> Iterator[bytes]:
    """Stream `tasks` (LS full-format dicts, consumed once) as format `name`, in ~64 KiB chunks.

    Raises ExportError at call time, before any task is read, for an unknown format or one that
    does not fit the config. Memory stays flat except for SPACY (see spacy_docbin).
    """
    entry = _BY_NAME.get(name)
    if entry is None:
        known = ", ".join(FORMATS)
        raise ExportError(f"unknown export format {name!r}; known formats: {known}")
    if not entry.applies(config):
        raise ExportError(f"{name} needs {entry.format.needs}; this config has none")
    return coalesce(entry.writer(config, tasks, options or ExportOptions()))
