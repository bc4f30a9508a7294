"""Turn labelling-config XML into a LabelConfig, collecting every problem before failing."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from .issues import ConfigError, ConfigIssue
from .schema import ControlTag, LabelConfig, LabelDef, ObjectTag
from .tags import CHOICE_MODES, HTML_LAYOUT_TAGS, TAGS, Kind, TagSpec
from .xmltree import Node, parse_xml

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
FIELD_RE = re.compile(rf"^\$({_IDENT}(?:\.{_IDENT})*)$")
# Inside a Repeater, once the index placeholder is substituted, values may index into lists.
_REPEATED_FIELD_RE = re.compile(rf"^\$({_IDENT})(?:\.{_IDENT}|\[\d+\])*$")
_DEFAULT_INDEX_FLAG = "{{idx}}"
_DEFAULT_MAX_RATING = 5


def parse_config(xml: str) -> LabelConfig:
    """Parse a Label Studio labelling config; raise ConfigError listing all problems found."""
    return _Parser(parse_xml(xml)).build()


def _flag(attrs: dict[str, str], name: str) -> bool:
    return attrs.get(name, "").strip().lower() == "true"


def _split_names(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


class _Parser:
    def __init__(self, root: Node) -> None:
        self.root = root
        self.issues: list[ConfigIssue] = []
        self.objects: dict[str, ObjectTag] = {}
        self.controls: dict[str, ControlTag] = {}
        self.data_fields: dict[str, None] = {}  # a dict keeps first-seen order without repeats
        self.unsupported: set[str] = set()
        self.name_lines: dict[str, int | None] = {}
        self.hotkey_lines: dict[str, int | None] = {}
        # toName references, checked once every name is known:
        # (node, names, whether they must name controls rather than objects)
        self.references: list[tuple[Node, list[str], bool]] = []
        self.unnamed: list[ControlTag] = []

    def build(self) -> LabelConfig:
        if self.root.tag != "View":
            self.issue(self.root, f"the root element must be <View>, not <{self.root.tag}>")
        self.walk(self.root, (), None)
        self.resolve_references()
        self.name_unnamed()
        if self.issues:
            # Document order reads best.
            self.issues.sort(key=lambda issue: issue.line or 0)
            raise ConfigError(self.issues)
        return LabelConfig(
            objects=self.objects,
            controls=self.controls,
            data_fields=list(self.data_fields),
            unsupported_tags=sorted(self.unsupported),
        )

    def issue(self, node: Node, message: str, attribute: str | None = None) -> None:
        self.issues.append(ConfigIssue(message, node.tag, attribute, node.line))

    # Walking

    def walk(self, node: Node, ancestors: tuple[str, ...], index_flag: str | None) -> None:
        spec = TAGS.get(node.tag)
        self.check_hotkey(node)
        if spec is None:
            if node.tag in HTML_LAYOUT_TAGS:
                self.check_html_attrs(node)
            else:
                self.issue(node, f"unknown tag <{node.tag}> on line {node.line}")
        else:
            if not spec.rendered:
                self.unsupported.add(spec.name)
            self.visit(node, spec, ancestors, index_flag)
            if spec.name == "Repeater":
                index_flag = node.attrs.get("indexFlag") or _DEFAULT_INDEX_FLAG
        for child in node.children:
            self.walk(child, (*ancestors, node.tag), index_flag)

    def visit(
        self, node: Node, spec: TagSpec, ancestors: tuple[str, ...], index_flag: str | None
    ) -> None:
        fields = {
            attr: self.field_ref(node, attr, index_flag)
            for attr in spec.data_attrs
            if attr in node.attrs
        }
        if spec.kind is Kind.ITEM and not set(spec.parents) & set(ancestors):
            parents = ", ".join(f"<{parent}>" for parent in spec.parents)
            self.issue(node, f"<{spec.name}> must be inside one of {parents}")
        elif spec.kind is Kind.OBJECT:
            self.add_object(node, spec, fields)
        elif spec.kind is Kind.CONTROL:
            self.add_control(node, spec, fields)
        elif spec.name == "Filter" and node.attrs.get("toName"):
            self.references.append((node, _split_names(node.attrs["toName"]), True))

    def field_ref(self, node: Node, attr: str, index_flag: str | None) -> str | None:
        """The task-data path an attribute refers to ("$text" -> "text"), or None for literals."""
        raw = node.attrs[attr]
        if not raw.startswith("$"):
            return None
        if index_flag and index_flag in raw:
            match = _REPEATED_FIELD_RE.match(raw.replace(index_flag, "0"))
            if match:
                self.data_fields.setdefault(match.group(1))
                return raw[1:]
        else:
            match = FIELD_RE.match(raw)
            if match:
                self.data_fields.setdefault(match.group(1).split(".")[0])
                return match.group(1)
        self.issue(
            node,
            f"{attr}={raw!r} is not a valid data field reference (expected $name or $name.key)",
            attr,
        )
        return None

    def check_hotkey(self, node: Node) -> None:
        hotkey = node.attrs.get("hotkey", "").strip().lower()
        if not hotkey:
            return
        if hotkey in self.hotkey_lines:
            first = self.hotkey_lines[hotkey]
            self.issue(node, f"hotkey {hotkey!r} is already used on line {first}", "hotkey")
        else:
            self.hotkey_lines[hotkey] = node.line

    def check_html_attrs(self, node: Node) -> None:
        for attr in node.attrs:
            if attr.lower().startswith("on"):
                self.issue(node, f"event handler attribute {attr!r} is not allowed", attr)

    def claim_name(self, node: Node) -> str | None:
        name = node.attrs.get("name", "").strip()
        if not name:
            self.issue(node, f"<{node.tag}> needs a name", "name")
            return None
        if name in self.name_lines:
            first = self.name_lines[name]
            self.issue(node, f"name {name!r} is already used on line {first}", "name")
            return None
        self.name_lines[name] = node.line
        return name

    # Objects

    def add_object(self, node: Node, spec: TagSpec, fields: dict[str, str | None]) -> None:
        name = self.claim_name(node)
        if name is None:
            return
        value_attr = next((attr for attr in spec.data_attrs if attr in node.attrs), None)
        if value_attr is None and spec.result_type is None:
            self.issue(node, f'<{node.tag}> needs a value, e.g. value="$field"', "value")
        self.objects[name] = ObjectTag(
            tag=node.tag,
            name=name,
            value_field=fields.get(value_attr) if value_attr else None,
            value_raw=node.attrs.get(value_attr) if value_attr else None,
            attrs=dict(node.attrs),
            line=node.line,
        )
        if spec.result_type is not None:
            to_name = _split_names(node.attrs.get("toName")) or [name]
            self.references.append((node, to_name, False))
            self.controls[name] = ControlTag(
                tag=node.tag,
                name=name,
                to_name=to_name,
                result_type=spec.result_type,
                attrs=dict(node.attrs),
                line=node.line,
            )

    # Controls

    def add_control(self, node: Node, spec: TagSpec, fields: dict[str, str | None]) -> None:
        unnamed = not spec.needs_name and not node.attrs.get("name", "").strip()
        name = None if unnamed else self.claim_name(node)
        to_name = _split_names(node.attrs.get("toName"))
        if spec.needs_to_name and not to_name:
            self.issue(node, f"<{node.tag}> needs toName naming the object it labels", "toName")
        elif to_name:
            self.references.append((node, to_name, False))
        labels = self.collect_items(node, spec.item_tag) if spec.item_tag else []
        dynamic_field = fields.get("value")
        choice = self.choice_mode(node, spec)
        is_dynamic = dynamic_field is not None or bool(node.attrs.get("apiUrl"))
        if spec.items_required and not labels and not is_dynamic:
            self.issue(node, f"<{node.tag}> has no <{spec.item_tag}> options")
        min_value, max_value = self.number_range(node)
        max_rating = max_submissions = None
        if node.tag == "Rating":
            max_rating = self.positive_int(node, "maxRating", _DEFAULT_MAX_RATING)
        elif node.tag == "TextArea":
            max_submissions = self.positive_int(node, "maxSubmissions", None)
        control = ControlTag(
            tag=node.tag,
            name=name or "",
            to_name=to_name,
            result_type=spec.result_type,
            labels=labels,
            choice=choice,
            required=_flag(node.attrs, "required"),
            per_region=_flag(node.attrs, "perRegion"),
            per_item=_flag(node.attrs, "perItem"),
            visible_when=node.attrs.get("visibleWhen"),
            when_tag_name=node.attrs.get("whenTagName"),
            when_label_value=node.attrs.get("whenLabelValue"),
            when_choice_value=node.attrs.get("whenChoiceValue"),
            dynamic_field=dynamic_field,
            min_value=min_value,
            max_value=max_value,
            max_rating=max_rating,
            max_submissions=max_submissions,
            leafs_only=_flag(node.attrs, "leafsOnly"),
            allow_nested=_flag(node.attrs, "allowNested"),
            attrs=dict(node.attrs),
            line=node.line,
        )
        if name is not None:
            self.controls[name] = control
        elif unnamed:
            self.unnamed.append(control)

    def choice_mode(self, node: Node, spec: TagSpec) -> str:
        # LS defaults: one option for Choices and Labels, any number of taxonomy paths.
        default = "multiple" if spec.name in ("Taxonomy", "Relations") else "single"
        raw = node.attrs.get("choice")
        if raw is None:
            return default
        if raw not in CHOICE_MODES:
            allowed = ", ".join(CHOICE_MODES)
            self.issue(node, f"choice={raw!r} must be one of {allowed}", "choice")
            return default
        return raw

    def positive_int(self, node: Node, attr: str, default: int | None) -> int | None:
        raw = node.attrs.get(attr)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            value = 0
        if value <= 0:
            self.issue(node, f"{attr}={raw!r} must be a positive whole number", attr)
            return default
        return value

    def number_range(self, node: Node) -> tuple[float | None, float | None]:
        if node.tag != "Number":
            return None, None
        bounds: dict[str, float | None] = {"min": None, "max": None}
        for attr in bounds:
            raw = node.attrs.get(attr)
            if raw is None:
                continue
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                bounds[attr] = number
            else:
                self.issue(node, f"{attr}={raw!r} must be a number", attr)
        low, high = bounds["min"], bounds["max"]
        if low is not None and high is not None and low > high:
            self.issue(node, f"min={low:g} is greater than max={high:g}", "min")
        return low, high

    def collect_items(self, node: Node, item_tag: str) -> list[LabelDef]:
        """Options of a control, looking through layout wrappers but not into other controls."""
        items: list[LabelDef] = []
        seen: dict[str, int | None] = {}
        for child in self.item_nodes(node, item_tag):
            item = self.make_item(child, item_tag)
            if item is None:
                continue
            if item.value in seen:
                self.issue(
                    child,
                    f"{item.value!r} is already an option on line {seen[item.value]}",
                    "name" if item_tag == "Bucket" else "value",
                )
                continue
            seen[item.value] = child.line
            items.append(item)
        return items

    def item_nodes(self, node: Node, item_tag: str) -> list[Node]:
        found: list[Node] = []
        for child in node.children:
            if child.tag == item_tag:
                found.append(child)
            elif child.tag not in TAGS or TAGS[child.tag].kind is not Kind.CONTROL:
                found.extend(self.item_nodes(child, item_tag))
        return found

    def make_item(self, node: Node, item_tag: str) -> LabelDef | None:
        # Buckets are identified by name; every other option by value.
        key = "name" if item_tag == "Bucket" else "value"
        value = node.attrs.get(key, "")
        if not value.strip():
            self.issue(node, f"<{node.tag}> needs a {key}", key)
            return None
        nested = self.collect_items(node, item_tag) if item_tag == "Choice" else []
        return LabelDef(
            value=value,
            alias=node.attrs.get("alias") or None,
            hotkey=node.attrs.get("hotkey") or None,
            background=node.attrs.get("background") or None,
            hint=node.attrs.get("hint") or None,
            selected=_flag(node.attrs, "selected"),
            children=tuple(nested),
            attrs=dict(node.attrs),
            line=node.line,
        )

    def name_unnamed(self) -> None:
        for control in self.unnamed:
            base = name = control.tag.lower()
            suffix = 2
            while name in self.name_lines:
                name, suffix = f"{base}_{suffix}", suffix + 1
            self.name_lines[name] = control.line
            self.controls[name] = replace(control, name=name)

    # References

    def resolve_references(self) -> None:
        for node, names, to_control in self.references:
            targets = self.controls if to_control else self.objects
            kind = "control" if to_control else "object tag"
            for name in names:
                if name not in targets:
                    self.issue(node, f"toName {name!r} does not name an {kind}", "toName")
