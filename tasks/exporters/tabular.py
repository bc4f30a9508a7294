"""JSON (full tasks), JSON_MIN (one flat record per task) and CSV/TSV (JSON_MIN as a table).

Every writer here handles one task at a time, so memory stays flat however many tasks stream in.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from projects.labelconfig import ControlTag, LabelConfig

from .base import Annotation, ExportOptions, RawJSON, ResultItem, Task, pick_annotation

META_COLUMNS = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time")

# Result types whose value collapses to a plain value in JSON_MIN: type -> key inside `value`.
_PLAIN_VALUE_KEYS = {
    "choices": "choices",
    "textarea": "text",
    "rating": "rating",
    "number": "number",
    "datetime": "datetime",
    "taxonomy": "taxonomy",
}
# These value keys hold a list per result item that is flattened into one list of answers.
_LIST_VALUED = frozenset({"choices", "text", "taxonomy"})
# Leading characters that make spreadsheets evaluate a cell (OWASP "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# default=str: callers may hand over datetimes straight from the database. One shared encoder,
# because json.dumps builds a new one per call whenever options are passed.
_std_dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _default(value: Any) -> Any:
    if isinstance(value, RawJSON):
        return orjson.Fragment(str(value))  # orjson takes an exact str only
    return str(value)


def _dumps(value: Any) -> str:
    # orjson is several times faster on whole tasks, and embeds RawJSON (task data read as
    # text from the database) without parsing it; the standard encoder takes what orjson
    # refuses (integers past 64 bits, non-string keys).
    try:
        return orjson.dumps(
            value, default=_default, option=orjson.OPT_PASSTHROUGH_SUBCLASS
        ).decode()
    except (orjson.JSONEncodeError, TypeError):
        if isinstance(value, dict):
            value = {k: json.loads(v) if isinstance(v, RawJSON) else v for k, v in value.items()}
        return _std_dumps(value)


def write_json(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    del config  # full tasks need no config
    yield b"["
    for index, task in enumerate(tasks):
        if options.annotation_filter is not None:
            keep = options.annotation_filter
            task = {**task, "annotations": [a for a in task.get("annotations") or [] if keep(a)]}
        yield (b"," if index else b"") + _dumps(task).encode()
    yield b"]"


def output_controls(config: LabelConfig) -> list[ControlTag]:
    """Controls that produce result items (Relations has no from_name, so it is left out)."""
    return [control for control in config.controls.values() if control.result_type]


def _region(item: ResultItem) -> dict[str, Any]:
    region = dict(item.get("value") or {})
    for key in ("original_width", "original_height"):
        if key in item:
            region[key] = item[key]
    return region


def control_value(control: ControlTag, items: list[ResultItem]) -> Any:
    """One control's answer in JSON_MIN: a plain value for classifications, regions otherwise.

    Like LS, a single answer is the value itself ("positive") and several are a list; taxonomy
    paths always stay a list of paths. Regions (and per-region answers) are the result `value`
    dicts plus the image's original size when the item carries it.
    """
    key = _PLAIN_VALUE_KEYS.get(control.result_type or "")
    if key is None or control.per_region:
        return [_region(item) for item in items]
    values: list[Any] = []
    for item in items:
        value = (item.get("value") or {}).get(key)
        if key in _LIST_VALUED and isinstance(value, list):
            values.extend(value)
        elif value is not None:
            values.append(value)
    if key == "taxonomy" or len(values) != 1:
        return values
    return values[0]


def min_record(
    task: Task, annotation: Annotation | None, controls: list[ControlTag]
) -> dict[str, Any]:
    data = task.get("data") or {}
    record: dict[str, Any] = {"id": task.get("id"), **data}
    record["id"] = task.get("id")  # the task's id wins over a data field called "id"
    annotation = annotation or {}
    by_control: dict[str, list[ResultItem]] = {}
    for item in annotation.get("result") or []:
        by_control.setdefault(item.get("from_name", ""), []).append(item)
    for control in controls:
        if control.name in by_control:
            record[control.name] = control_value(control, by_control[control.name])
    record["annotator"] = annotation.get("completed_by")
    record["annotation_id"] = annotation.get("id")
    for key in ("created_at", "updated_at", "lead_time"):
        record[key] = annotation.get(key)
    return record


def write_json_min(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    controls = output_controls(config)
    yield b"["
    for index, task in enumerate(tasks):
        record = min_record(task, pick_annotation(task, options), controls)
        yield (b"," if index else b"") + _dumps(record).encode()
    yield b"]"


def csv_columns(config: LabelConfig) -> list[str]:
    """The header, from the config alone: a streamed export cannot scan the rows first.

    Data keys the config does not reference are therefore not exported (use JSON_MIN for them).
    """
    columns = ["id"]
    columns += [field.split(".")[0] for field in config.data_fields]
    columns += [control.name for control in output_controls(config)]
    columns += META_COLUMNS
    return list(dict.fromkeys(columns))


def csv_cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_PREFIXES) else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return _dumps(value)


def write_csv(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions, *, delimiter: str = ","
) -> Iterator[bytes]:
    columns = csv_columns(config)
    controls = output_controls(config)
    buffer = io.StringIO()
    # "\n" like LS (pandas) writes; csv still quotes cells holding newlines or delimiters.
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")

    def line(cells: Iterable[Any]) -> bytes:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    yield line(columns)
    for task in tasks:
        record = min_record(task, pick_annotation(task, options), controls)
        # map() rather than a comprehension: this loop runs once per row of a huge table.
        yield line(map(csv_cell, map(record.get, columns)))


def write_tsv(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    return write_csv(config, tasks, options, delimiter="\t")
