"""Check Label Studio format result items against a parsed config.

Each result type maps to one value checker in VALUE_CHECKS; labels-family controls also get their
label names checked. Results of tags our UI does not render yet are only checked for from_name,
to_name and type, since we cannot tell a correct value of theirs from a wrong one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .classifications import CLASSIFICATION_CHECKS
from .issues import ResultError, ResultIssue
from .itemcheck import ResultItem, as_id, is_number, is_str_list
from .regions import REGION_CHECKS, check_label_names
from .tags import TAGS

if TYPE_CHECKING:
    from .schema import ControlTag, LabelConfig

RELATION_DIRECTIONS = ("left", "right", "bi")
# Results about a whole object rather than a region; relations and perRegion items cannot
# point at them.
WHOLE_OBJECT_TYPES = frozenset(
    {"choices", "taxonomy", "textarea", "rating", "number", "datetime", "ranker", "pairwise"}
)
VALUE_CHECKS: dict[str, Callable[[ResultItem], None]] = {**REGION_CHECKS, **CLASSIFICATION_CHECKS}


def validate_result(
    config: LabelConfig, result: list[dict[str, Any]], data: dict[str, Any] | None = None
) -> None:
    if not isinstance(result, list):
        raise ResultError([ResultIssue(None, None, None, "result must be a list of items")])
    run = _Run(config, data if isinstance(data, dict) else None, _region_ids(config, result))
    for index, raw in enumerate(result):
        run.check_item(index, raw)
    if run.issues:
        raise ResultError(run.issues)


def _region_ids(config: LabelConfig, result: list[Any]) -> set[str]:
    ids: set[str] = set()
    for raw in result:
        if not isinstance(raw, dict) or raw.get("type") == "relation" or _id_of(raw) is None:
            continue
        from_name, result_type = raw.get("from_name"), raw.get("type")
        if not isinstance(from_name, str) or not isinstance(result_type, str):
            continue
        control = config.controls.get(from_name)
        if control and not control.per_region and result_type not in WHOLE_OBJECT_TYPES:
            ids.add(str(raw["id"]))
    return ids


def _id_of(raw: dict[str, Any]) -> str | None:
    return as_id(raw.get("id"))


@dataclass
class _Run:
    config: LabelConfig
    data: dict[str, Any] | None
    region_ids: set[str]
    issues: list[ResultIssue] = field(default_factory=list)
    # Texts submitted per TextArea (and per region for perRegion ones), for maxSubmissions.
    submissions: Counter[tuple[str, str | None]] = field(default_factory=Counter)

    def check_item(self, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            self.issues.append(ResultIssue(index, None, None, "result item must be an object"))
            return
        item_id = _id_of(raw)
        if raw.get("id") is not None and item_id is None:
            self.add(index, None, "id", "id must be a string")
        if raw.get("type") == "relation":
            self.check_relation(index, item_id, raw)
            return
        control = self.check_refs(index, item_id, raw)
        if control is None:
            return
        value = raw.get("value")
        if not isinstance(value, dict):
            self.add(index, item_id, "value", "value must be an object")
            return
        self.check_common(index, item_id, raw, control)
        if not control.rendered:
            return
        obj = self.config.objects.get(raw["to_name"])
        item = ResultItem(
            index, item_id, raw, value, control, obj, self.data, self.issues, self.submissions
        )
        if TAGS[control.tag].item_tag == "Label":
            check_label_names(item)
        checker = VALUE_CHECKS.get(raw["type"])
        if checker is not None:
            checker(item)

    def add(self, index: int | None, item_id: str | None, field: str | None, message: str) -> None:
        self.issues.append(ResultIssue(index, item_id, field, message))

    def check_refs(self, index: int, item_id: str | None, raw: dict[str, Any]) -> ControlTag | None:
        from_name = raw.get("from_name")
        control = self.config.controls.get(from_name) if isinstance(from_name, str) else None
        if control is None:
            self.add(index, item_id, "from_name", f"from_name {from_name!r} is not a control")
            return None
        to_name = raw.get("to_name")
        ok = True
        if to_name not in control.to_name:
            targets = ", ".join(control.to_name)
            self.add(index, item_id, "to_name", f"to_name {to_name!r} is not one of: {targets}")
            ok = False
        result_type = raw.get("type")
        if not isinstance(result_type, str) or result_type not in control.result_types:
            expected = ", ".join(sorted(control.result_types))
            message = f"type {result_type!r} does not match <{control.tag}> (expected {expected})"
            self.add(index, item_id, "type", message)
            ok = False
        return control if ok else None

    def check_common(
        self, index: int, item_id: str | None, raw: dict[str, Any], control: ControlTag
    ) -> None:
        for key in ("original_width", "original_height", "original_length"):
            if key in raw and not (is_number(raw[key]) and raw[key] > 0):
                self.add(index, item_id, key, f"{key} must be a positive number")
        if raw.get("score") is not None and not is_number(raw["score"]):
            self.add(index, item_id, "score", "score must be a number")
        if control.per_region and item_id is not None and item_id not in self.region_ids:
            message = f"perRegion <{control.tag}> id {item_id!r} matches no region in this result"
            self.add(index, item_id, "id", message)

    def check_relation(self, index: int, item_id: str | None, raw: dict[str, Any]) -> None:
        for key in ("from_id", "to_id"):
            ref = as_id(raw.get(key))
            if ref is None or ref not in self.region_ids:
                message = f"{key} {raw.get(key)!r} is not the id of a region in this result"
                self.add(index, item_id, key, message)
        direction = raw.get("direction")
        if direction is not None and direction not in RELATION_DIRECTIONS:
            allowed = ", ".join(RELATION_DIRECTIONS)
            self.add(index, item_id, "direction", f"direction must be one of {allowed}")
        labels = raw.get("labels")
        if labels is None:
            return
        if not is_str_list(labels):
            self.add(index, item_id, "labels", "labels must be a list of strings")
            return
        relations = self.config.control_names_of_type("Relations")
        if not relations:
            return
        known = frozenset().union(
            *(self.config.controls[name].label_values() for name in relations)
        )
        unknown = [label for label in labels if label not in known]
        if unknown:
            self.add(index, item_id, "labels", f"unknown relation labels: {', '.join(unknown)}")
