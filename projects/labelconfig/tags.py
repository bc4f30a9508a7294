"""The tag vocabulary: what each Label Studio tag is, what it emits, and whether our UI renders it.

Everything the parser and the result validator know about individual tags lives here: TAGS
(what a tag is) and RESULT_TYPES (which result `type` values it may emit). Supporting a new tag is
a row in each, plus a value checker in regions.py or classifications.py if our UI renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    OBJECT = "object"  # shows task data; controls point at it with toName
    CONTROL = "control"  # produces result items
    VISUAL = "visual"  # layout only
    ITEM = "item"  # only meaningful inside a particular parent (Label, Choice, Channel...)


@dataclass(frozen=True)
class TagSpec:
    name: str
    kind: Kind
    rendered: bool = False
    # The result `type` the tag writes (see RESULT_TYPES); object tags that also emit results
    # (Chat, ReactCode) have one too.
    result_type: str | None = None
    # Child tag holding this control's options, and whether at least one is required.
    item_tag: str | None = None
    items_required: bool = False
    # Controls only: whether toName and name are mandatory.
    needs_to_name: bool = True
    needs_name: bool = True
    # For ITEM tags: the tags that may enclose them (not necessarily as direct parent,
    # because LS allows layout tags such as View between a control and its options).
    parents: tuple[str, ...] = ()
    # Attributes holding "$field" references to task data.
    data_attrs: tuple[str, ...] = ()


LABELS_FAMILY = (
    "Labels",
    "RectangleLabels",
    "PolygonLabels",
    "KeyPointLabels",
    "BrushLabels",
    "EllipseLabels",
    "HyperTextLabels",
    "ParagraphLabels",
    "TimeSeriesLabels",
    "TimelineLabels",
    "BitmaskLabels",
    "VectorLabels",
    "VideoVectorLabels",
    "CubeLabels",
)

_RENDERED = frozenset(
    {
        "View",
        "Header",
        "Style",
        "Text",
        "HyperText",
        "Paragraphs",
        "Image",
        "Audio",
        "AudioPlus",
        "Labels",
        "Label",
        "Choices",
        "Choice",
        "Taxonomy",
        "TextArea",
        "Shortcut",
        "Rating",
        "Number",
        "DateTime",
        "RectangleLabels",
        "Rectangle",
        "PolygonLabels",
        "Polygon",
        "KeyPointLabels",
        "KeyPoint",
        "HyperTextLabels",
        "ParagraphLabels",
        "Relations",
        "Relation",
        "Filter",
        "Collapse",
        "Panel",
    }
)


# Result `type` values each emitting tag accepts. The first is the type it writes itself (LS
# uses the lowercase tag name). A Labels control paired with a drawing tool or a rich object
# emits the combined type named after the region, and a drawing tool paired with Labels writes
# its "...labels" type, so those are accepted too.
RESULT_TYPES: dict[str, tuple[str, ...]] = {
    "Labels": (
        "labels",
        "hypertextlabels",
        "paragraphlabels",
        "timeserieslabels",
        "rectanglelabels",
        "polygonlabels",
        "keypointlabels",
        "ellipselabels",
        "brushlabels",
    ),
    **{name: (name.lower(),) for name in LABELS_FAMILY if name != "Labels"},
    "Choices": ("choices",),
    "Taxonomy": ("taxonomy",),
    "TextArea": ("textarea",),
    "Rating": ("rating",),
    "Number": ("number",),
    "DateTime": ("datetime",),
    "Rectangle": ("rectangle", "rectanglelabels"),
    "Polygon": ("polygon", "polygonlabels"),
    "KeyPoint": ("keypoint", "keypointlabels"),
    "Ellipse": ("ellipse", "ellipselabels"),
    "Brush": ("brush", "brushlabels"),
    "MagicWand": ("magicwand", "brushlabels"),
    "Bitmask": ("bitmask", "bitmasklabels"),
    "Vector": ("vector", "vectorlabels"),
    "Cube": ("cube", "cubelabels"),
    "VideoVector": ("videovector", "videovectorlabels"),
    "VideoRectangle": ("videorectangle",),
    "Pairwise": ("pairwise",),
    "Ranker": ("ranker",),
    "Chat": ("chatmessage",),
    "ReactCode": ("reactcode",),
    # Relations has none: relation items carry type "relation" and no from_name.
}


def _object(name: str, *, data_attrs: tuple[str, ...] = ("value",)) -> TagSpec:
    return TagSpec(name, Kind.OBJECT, name in _RENDERED, data_attrs=data_attrs)


def _control(
    name: str,
    *,
    item_tag: str | None = None,
    items_required: bool = False,
    data_attrs: tuple[str, ...] = (),
) -> TagSpec:
    return TagSpec(
        name,
        Kind.CONTROL,
        name in _RENDERED,
        result_type=RESULT_TYPES[name][0],
        item_tag=item_tag,
        items_required=items_required,
        data_attrs=data_attrs,
    )


def _labels(name: str) -> TagSpec:
    return _control(name, item_tag="Label", items_required=True, data_attrs=("value",))


def _item(name: str, *parents: str) -> TagSpec:
    return TagSpec(name, Kind.ITEM, name in _RENDERED, parents=parents)


def _visual(name: str, *, data_attrs: tuple[str, ...] = ()) -> TagSpec:
    return TagSpec(name, Kind.VISUAL, name in _RENDERED, data_attrs=data_attrs)


_SPECS: list[TagSpec] = [
    # Objects
    _object("Audio"),
    _object("AudioPlus"),
    _object("Image", data_attrs=("value", "valueList")),
    _object("HyperText"),
    _object("HTML"),  # the old name of HyperText, still found in older configs
    _object("Paragraphs", data_attrs=("value", "audioUrl")),
    _object("Table"),
    _object("Text"),
    _object("TimeSeries"),
    _object("Video"),
    _object("Pdf"),
    _object("List"),
    _object("Markdown"),
    _object("Object3D", data_attrs=("value", "valueList")),
    # Objects that are also their own control: results name them in from_name and to_name.
    TagSpec("Chat", Kind.OBJECT, result_type=RESULT_TYPES["Chat"][0], data_attrs=("value",)),
    TagSpec(
        "ReactCode", Kind.OBJECT, result_type=RESULT_TYPES["ReactCode"][0], data_attrs=("data",)
    ),
    # Controls
    *(_labels(name) for name in LABELS_FAMILY),
    _control("Choices", item_tag="Choice", items_required=True, data_attrs=("value",)),
    _control("Taxonomy", item_tag="Choice", items_required=True),
    _control("TextArea", item_tag="Shortcut"),
    _control("Rating"),
    _control("Number"),
    _control("DateTime"),
    _control("Rectangle"),
    _control("Polygon"),
    _control("KeyPoint"),
    _control("Brush"),
    _control("Ellipse"),
    _control("MagicWand"),
    _control("Bitmask"),
    _control("Vector"),
    _control("VideoVector"),
    _control("Cube"),
    _control("VideoRectangle"),
    _control("Pairwise"),
    _control("Ranker", item_tag="Bucket"),
    # LS configs almost never name Relations; the parser gives an unnamed one a free name.
    TagSpec(
        "Relations",
        Kind.CONTROL,
        True,
        item_tag="Relation",
        needs_to_name=False,
        needs_name=False,
    ),
    # Items
    _item("Label", *LABELS_FAMILY),
    _item("Choice", "Choices", "Taxonomy"),
    _item("Shortcut", "TextArea"),
    _item("Relation", "Relations"),
    _item("Channel", "TimeSeries"),
    _item("Bucket", "Ranker"),
    _item("Panel", "Collapse"),
    # Visual
    _visual("View"),
    _visual("Header", data_attrs=("value",)),
    _visual("Style"),
    _visual("Filter"),  # its toName names a control to filter, checked by the parser
    _visual("Collapse"),
    _visual("Repeater", data_attrs=("on",)),
]

TAGS: dict[str, TagSpec] = {spec.name: spec for spec in _SPECS}

# Lowercase HTML that LS lets authors mix into a View for layout. Our UI renders these as
# HTML, so anything that can run script or load content (script, iframe, a, img...) stays out.
HTML_LAYOUT_TAGS = frozenset(
    {
        "b",
        "blockquote",
        "br",
        "code",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "u",
        "ul",
    }
)

CHOICE_MODES = ("single", "single-radio", "multiple")


def accepted_result_types(tag: str) -> frozenset[str]:
    return frozenset(RESULT_TYPES.get(tag, ()))
