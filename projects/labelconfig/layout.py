"""The config's layout tree for the labelling interface: where each tag stands.

The schema (``LabelConfig``) says what each tag is; the page also needs the order and nesting
of the tags to place them. Options (Label, Choice...) stay in their control's schema entry.
Lowercase HTML layout tags keep only their tag name and text: no attribute reaches the page.
"""

from __future__ import annotations

import functools
from typing import Any

from .parse import parse_config
from .tags import HTML_LAYOUT_TAGS, TAGS, Kind
from .xmltree import Node, parse_xml

_SKIPPED = frozenset({"Style"})


def config_layout(xml: str) -> dict[str, Any]:
    """The layout tree of a valid config (ConfigError otherwise)."""
    return _layout_cached(xml)


@functools.lru_cache(maxsize=256)
def _layout_cached(xml: str) -> dict[str, Any]:
    config = parse_config(xml)
    relations = iter(config.control_names_of_type("Relations"))
    return _node(parse_xml(xml), relations) or {"kind": "visual", "tag": "View", "children": []}


def _node(node: Node, relations: Any) -> dict[str, Any] | None:
    if node.tag in HTML_LAYOUT_TAGS:
        return {
            "kind": "html",
            "tag": node.tag,
            "text": node.text.strip(),
            **_children(node, relations),
        }
    spec = TAGS.get(node.tag)
    if spec is None or node.tag in _SKIPPED:
        return None
    if spec.kind in (Kind.OBJECT, Kind.CONTROL):
        name = node.attrs.get("name", "").strip()
        if not name and node.tag == "Relations":
            name = next(relations, "")
        return {"kind": str(spec.kind), "tag": node.tag, "name": name, "attrs": node.attrs}
    if spec.kind is Kind.ITEM and node.tag != "Panel":
        return None
    return {
        "kind": str(spec.kind),
        "tag": node.tag,
        "attrs": node.attrs,
        **_children(node, relations),
    }


def _children(node: Node, relations: Any) -> dict[str, Any]:
    children = [child for child in (_node(c, relations) for c in node.children) if child]
    return {"children": children}
