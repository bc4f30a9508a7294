"""The layout tree the labelling page is built from."""

from __future__ import annotations

from projects.labelconfig.layout import config_layout

CONFIG = """<View>
  <Header value="$title"/>
  <p>Read <b>carefully</b></p>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/></Labels>
  <Relations><Relation value="knows"/></Relations>
  <Style>.x { color: red }</Style>
  <Image name="img" value="$image"/>
</View>"""


def test_layout_keeps_order_and_nesting_and_drops_options():
    root = config_layout(CONFIG)
    assert [(c["kind"], c["tag"]) for c in root["children"]] == [
        ("visual", "Header"),
        ("html", "p"),
        ("object", "Text"),
        ("control", "Labels"),
        ("control", "Relations"),
        ("object", "Image"),
    ]
    paragraph = root["children"][1]
    assert paragraph["text"] == "Read" and paragraph["children"][0]["text"] == "carefully"
    assert "children" not in root["children"][3]  # Label options live in the schema


def test_unnamed_relations_get_the_parsers_name():
    root = config_layout(CONFIG)
    assert root["children"][4]["name"] == "relations"


def test_html_layout_tags_carry_no_attributes():
    root = config_layout(
        '<View><div style="x" class="y">hi</div><Text name="t" value="$t"/></View>'
    )
    assert "attrs" not in root["children"][0]
