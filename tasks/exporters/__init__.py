"""Export a project's tasks in Label Studio's formats and a few ML ones, streamed.

Pure Python on purpose (no Django models): the caller turns a QuerySet into an iterator of LS
full-format task dicts and hands the byte chunks to a StreamingHttpResponse or a file.

Which annotation single-label formats (everything but JSON) export: the first usable annotation
that is ground truth, else the first usable one, where usable means not cancelled and passing
`ExportOptions.annotation_filter`. Tasks without one are kept by JSON, kept with empty label
columns by JSON_MIN/CSV/TSV, and skipped by CONLL2003, SPACY, HF_JSONL, COCO, YOLO and VOC. A
usable annotation with an empty result is exported as a negative example (all "O", no boxes).
"""

from .base import ExportError, ExportOptions, RawJSON, pick_annotation
from .registry import FORMATS, ExportFormat, export_stream, formats_for
from .spans import read_conll

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportFormat",
    "ExportOptions",
    "RawJSON",
    "export_stream",
    "formats_for",
    "pick_annotation",
    "read_conll",
]
