"""Value checks for classifications: choices, taxonomy, text, rating, number, date/time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from .itemcheck import ResultItem, is_int, is_str_list

if TYPE_CHECKING:
    from .schema import LabelDef

_DATETIME_PARSERS: dict[str, Callable[[str], object]] = {
    "": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
}


def _find_path(options: list[LabelDef], path: list[str]) -> tuple[LabelDef | None, int]:
    """The option at the end of `path`, or None and the depth of the first unknown step."""
    found: LabelDef | None = None
    for depth, step in enumerate(path):
        found = next((option for option in options if step in option.result_values), None)
        if found is None:
            return None, depth
        options = list(found.children)
    return found, len(path)


def _check_path(item: ResultItem, field: str, path: list[str]) -> None:
    found, depth = _find_path(item.control.labels, path)
    if found is None:
        under = f" under {' / '.join(path[:depth])!r}" if depth else ""
        item.problem(field, f"{path[depth]!r} is not an option{under} of {item.control.name!r}")
    elif item.control.leafs_only and found.children:
        item.problem(field, f"{item.control.name!r} only accepts leaf options")


def _all_values(options: tuple[LabelDef, ...] | list[LabelDef]) -> frozenset[str]:
    values: frozenset[str] = frozenset()
    for option in options:
        values |= option.result_values | _all_values(option.children)
    return values


def _check_choices(item: ResultItem) -> None:
    control = item.control
    choices = item.value.get("choices")
    if not isinstance(choices, list) or not choices:
        item.problem("value.choices", "choices must be a non-empty list")
        return
    if control.is_single and len(choices) != 1:
        item.problem("value.choices", f"{control.name!r} allows exactly one choice")
    for position, choice in enumerate(choices):
        field = f"value.choices[{position}]"
        if isinstance(choice, str):
            # A bare value may name an option at any depth of a nested list.
            if not control.has_dynamic_labels and choice not in _all_values(control.labels):
                item.problem(field, f"{choice!r} is not an option of {control.name!r}")
        elif control.allow_nested and is_str_list(choice) and choice:
            if not control.has_dynamic_labels:
                _check_path(item, field, choice)
        else:
            item.problem(field, "choice must be an option value")


def _check_taxonomy(item: ResultItem) -> None:
    control = item.control
    paths = item.value.get("taxonomy")
    if not isinstance(paths, list) or not paths:
        item.problem("value.taxonomy", "taxonomy must be a non-empty list of paths")
        return
    if control.is_single and len(paths) != 1:
        item.problem("value.taxonomy", f"{control.name!r} allows exactly one path")
    for position, path in enumerate(paths):
        field = f"value.taxonomy[{position}]"
        if not is_str_list(path) or not path:
            item.problem(field, "path must be a non-empty list of option values, root first")
        elif not control.has_dynamic_labels:
            _check_path(item, field, path)


def _check_textarea(item: ResultItem) -> None:
    texts = item.value.get("text")
    if not is_str_list(texts):
        item.problem("value.text", "text must be a list of strings")
        return
    limit = item.control.max_submissions
    if limit is None:
        return
    scope = item.item_id if item.control.per_region else None
    key = (item.control.name, scope)
    item.submissions[key] += len(texts)
    if item.submissions[key] > limit:
        item.problem("value.text", f"{item.control.name!r} accepts at most {limit} texts")


def _check_rating(item: ResultItem) -> None:
    rating = item.value.get("rating")
    top = item.control.max_rating or 1
    if not is_int(rating) or not 1 <= rating <= top:
        item.problem("value.rating", f"rating must be a whole number from 1 to {top}")


def _check_number(item: ResultItem) -> None:
    item.number("number", low=item.control.min_value, high=item.control.max_value)


def _check_datetime(item: ResultItem) -> None:
    value = item.value.get("datetime")
    if not isinstance(value, str) or not value.strip():
        item.problem("value.datetime", "datetime must be a non-empty string")
        return
    parser = _DATETIME_PARSERS.get(item.control.attrs.get("only", ""))
    if parser is None:
        return  # month/year and combined formats are free-form in LS
    try:
        parser(value)
    except ValueError:
        item.problem("value.datetime", f"{value!r} is not an ISO 8601 date/time")


CLASSIFICATION_CHECKS: dict[str, Callable[[ResultItem], None]] = {
    "choices": _check_choices,
    "taxonomy": _check_taxonomy,
    "textarea": _check_textarea,
    "rating": _check_rating,
    "number": _check_number,
    "datetime": _check_datetime,
}
