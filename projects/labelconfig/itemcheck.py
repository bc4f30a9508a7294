"""Shared helpers for result checks: JSON type guards and the item under check."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from .issues import ResultIssue

if TYPE_CHECKING:
    from .schema import ControlTag, ObjectTag


def as_id(value: Any) -> str | None:
    # LS generates string ids; some importers write integers, which identify a region as well.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


# Bigger ints overflow when mixed with floats and cannot be printed in messages, and no
# coordinate or offset is ever that large.
_INT_LIMIT = 10**300


def is_int(value: Any) -> TypeGuard[int]:
    return (
        isinstance(value, int) and not isinstance(value, bool) and -_INT_LIMIT < value < _INT_LIMIT
    )


def is_number(value: Any) -> TypeGuard[int | float]:
    return is_int(value) or (isinstance(value, float) and math.isfinite(value))


def is_str_list(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(part, str) for part in value)


@dataclass
class ResultItem:
    """One region or classification item being checked, with what it refers to."""

    index: int
    item_id: str | None
    raw: dict[str, Any]
    value: dict[str, Any]
    control: ControlTag
    obj: ObjectTag | None
    data: dict[str, Any] | None
    issues: list[ResultIssue]
    # Texts submitted per TextArea (and per region for perRegion ones), shared by all items of
    # one result so maxSubmissions can be checked across them.
    submissions: Counter[tuple[str, str | None]]

    def problem(self, field: str, message: str) -> None:
        self.issues.append(ResultIssue(self.index, self.item_id, field, message))

    def object_data(self) -> Any:
        """The task data the target object shows, or None when it is unknown."""
        if self.obj is None or self.obj.value_field is None or self.data is None:
            return None
        current: Any = self.data
        for key in self.obj.value_field.split("."):
            if not isinstance(current, dict) or key not in current:
                return None
            current = current[key]
        return current

    def number(
        self, key: str, *, low: float | None = None, high: float | None = None
    ) -> float | None:
        """value[key] if it is a number within bounds; otherwise report it and return None."""
        number = self.value.get(key)
        if not is_number(number):
            self.problem(f"value.{key}", f"{key} must be a number")
            return None
        if low is not None and number < low:
            self.problem(f"value.{key}", f"{key} must be at least {low:g}, got {number}")
            return None
        if high is not None and number > high:
            self.problem(f"value.{key}", f"{key} must be at most {high:g}, got {number}")
            return None
        return number

    def offset(self, key: str) -> int | None:
        offset = self.value.get(key)
        if not is_int(offset) or offset < 0:
            self.problem(f"value.{key}", f"{key} must be a whole number >= 0")
            return None
        return offset
