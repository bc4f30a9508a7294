"""The parsed config: what the UI renders, what the API reports and what results are checked against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .results import validate_result
from .tags import TAGS, accepted_result_types


@dataclass(frozen=True)
class LabelDef:
    """One option of a control: a Label, Choice (possibly nested), Relation, Shortcut or Bucket."""

    value: str
    alias: str | None = None
    hotkey: str | None = None
    background: str | None = None
    hint: str | None = None
    selected: bool = False
    children: tuple[LabelDef, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict, compare=False)
    line: int | None = None

    @property
    def result_values(self) -> frozenset[str]:
        # LS writes the alias into results when there is one; results made by tools that
        # ignore aliases carry the value, so both identify this option.
        return frozenset({self.value, self.alias}) if self.alias else frozenset({self.value})

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "alias": self.alias,
            "hotkey": self.hotkey,
            "background": self.background,
            "hint": self.hint,
            "selected": self.selected,
            "children": [child.to_dict() for child in self.children],
            "attrs": dict(self.attrs),
        }


@dataclass(frozen=True)
class ObjectTag:
    tag: str
    name: str
    value_field: str | None  # "$text" -> "text", "$meta.body" -> "meta.body"; None for literals
    value_raw: str | None
    attrs: dict[str, str] = field(default_factory=dict, compare=False)
    line: int | None = None

    @property
    def rendered(self) -> bool:
        return TAGS[self.tag].rendered

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "name": self.name,
            "value_field": self.value_field,
            "value": self.value_raw,
            "rendered": self.rendered,
            "attrs": dict(self.attrs),
            "line": self.line,
        }


@dataclass(frozen=True)
class ControlTag:
    tag: str
    name: str
    to_name: list[str]
    result_type: str | None
    labels: list[LabelDef] = field(default_factory=list)
    choice: str = "single"  # "single" | "single-radio" | "multiple"
    required: bool = False
    per_region: bool = False
    per_item: bool = False
    visible_when: str | None = None
    when_tag_name: str | None = None
    when_label_value: str | None = None
    when_choice_value: str | None = None
    dynamic_field: str | None = None  # Choices/Labels value="$options" -> "options"
    min_value: float | None = None
    max_value: float | None = None
    max_rating: int | None = None
    max_submissions: int | None = None
    leafs_only: bool = False
    allow_nested: bool = False
    attrs: dict[str, str] = field(default_factory=dict, compare=False)
    line: int | None = None

    @property
    def rendered(self) -> bool:
        return TAGS[self.tag].rendered

    @property
    def is_single(self) -> bool:
        return self.choice != "multiple"

    @property
    def has_dynamic_labels(self) -> bool:
        """Options come from task data or a remote API, so results cannot be checked against them."""
        return self.dynamic_field is not None or bool(self.attrs.get("apiUrl"))

    @property
    def result_types(self) -> frozenset[str]:
        return accepted_result_types(self.tag)

    def label_values(self) -> frozenset[str]:
        """Values (and aliases) of the top-level options."""
        return frozenset().union(*(label.result_values for label in self.labels))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "name": self.name,
            "to_name": list(self.to_name),
            "type": self.result_type,
            "rendered": self.rendered,
            "labels": [label.to_dict() for label in self.labels],
            "choice": self.choice,
            "required": self.required,
            "per_region": self.per_region,
            "per_item": self.per_item,
            "visible_when": self.visible_when,
            "when_tag_name": self.when_tag_name,
            "when_label_value": self.when_label_value,
            "when_choice_value": self.when_choice_value,
            "dynamic_field": self.dynamic_field,
            "min": self.min_value,
            "max": self.max_value,
            "max_rating": self.max_rating,
            "max_submissions": self.max_submissions,
            "leafs_only": self.leafs_only,
            "allow_nested": self.allow_nested,
            "attrs": dict(self.attrs),
            "line": self.line,
        }


@dataclass
class LabelConfig:
    objects: dict[str, ObjectTag]
    controls: dict[str, ControlTag]
    data_fields: list[str]
    unsupported_tags: list[str]

    def validate_result(
        self, result: list[dict[str, Any]], data: dict[str, Any] | None = None
    ) -> None:
        """Raise ResultError listing every item of an LS-format result that this config rejects."""
        validate_result(self, result, data)

    def control_names_of_type(self, *tags: str) -> list[str]:
        """Names of controls whose tag is one of `tags` (e.g. "Choices", "Labels"), in config order."""
        return [name for name, control in self.controls.items() if control.tag in tags]

    def controls_for(self, object_name: str) -> list[ControlTag]:
        return [control for control in self.controls.values() if object_name in control.to_name]

    @property
    def is_fully_rendered(self) -> bool:
        return not self.unsupported_tags

    def to_dict(self) -> dict[str, Any]:
        return {
            "objects": [obj.to_dict() for obj in self.objects.values()],
            "controls": [control.to_dict() for control in self.controls.values()],
            "data_fields": list(self.data_fields),
            "unsupported_tags": list(self.unsupported_tags),
        }
