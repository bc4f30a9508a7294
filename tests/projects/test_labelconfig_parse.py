"""Parsing labelling configs: accepted configs, the schema they produce, and every rejection."""

import json
from pathlib import Path

import pytest

from projects.labelconfig import TAGS, ConfigError, ConfigIssue, Kind, parse_config
from projects.labelconfig.tags import RESULT_TYPES
from projects.labelconfig.xmltree import MAX_CONFIG_CHARS, MAX_DEPTH, MAX_ELEMENTS, parse_xml

SAMPLES = Path(__file__).parent / "labelconfig_samples"
SAMPLE_NAMES = sorted(path.stem for path in SAMPLES.glob("*.xml"))


def sample(name: str) -> str:
    return (SAMPLES / f"{name}.xml").read_text()


def issues_of(xml: str) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        parse_config(xml)
    return caught.value.issues


def only_issue(xml: str) -> ConfigIssue:
    issues = issues_of(xml)
    assert len(issues) == 1, issues
    return issues[0]


def assert_issue(issue: ConfigIssue, tag: str | None, attribute: str | None, line: int | None):
    assert (issue.tag, issue.attribute, issue.line) == (tag, attribute, line), issue


# Accepted configs


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_config_parses(name):
    config = parse_config(sample(name))
    assert config.controls or config.objects
    json.dumps(config.to_dict())


def test_samples_use_every_known_tag():
    used = {node.tag for name in SAMPLE_NAMES for node in parse_xml(sample(name)).iter()}
    assert set(TAGS) - used == set()


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_unsupported_tags_are_exactly_the_known_tags_our_ui_does_not_render(name):
    used = {node.tag for node in parse_xml(sample(name)).iter()}
    expected = sorted(tag for tag in used if tag in TAGS and not TAGS[tag].rendered)
    assert parse_config(sample(name)).unsupported_tags == expected


def test_every_control_but_relations_has_a_result_type_row():
    emitting = {name for name, spec in TAGS.items() if spec.result_type}
    controls = {name for name, spec in TAGS.items() if spec.kind is Kind.CONTROL}
    assert controls - emitting == {"Relations"}
    assert emitting == set(RESULT_TYPES)
    for name in emitting:
        assert TAGS[name].result_type == RESULT_TYPES[name][0]


def test_fully_rendered_config_has_no_unsupported_tags():
    config = parse_config(sample("ner"))
    assert config.unsupported_tags == []
    assert config.is_fully_rendered


def test_unsupported_tags_are_sorted_and_unique():
    config = parse_config(sample("image_segmentation"))
    assert config.unsupported_tags == [
        "Bitmask",
        "BitmaskLabels",
        "Brush",
        "BrushLabels",
        "Ellipse",
        "EllipseLabels",
        "MagicWand",
    ]


def test_ner_schema():
    config = parse_config(sample("ner"))
    text = config.objects["text"]
    assert (text.tag, text.value_field, text.value_raw, text.line) == ("Text", "text", "$text", 7)
    labels = config.controls["label"]
    assert (labels.tag, labels.to_name, labels.result_type, labels.line) == (
        "Labels",
        ["text"],
        "labels",
        2,
    )
    assert [label.value for label in labels.labels] == ["PER", "ORG", "LOC"]
    assert labels.labels[0].hotkey == "p"
    assert labels.labels[0].background == "#FF0000"
    assert labels.labels[2].alias == "Location"
    assert labels.label_values() == {"PER", "ORG", "LOC", "Location"}
    assert labels.choice == "single"
    assert config.data_fields == ["text"]


def test_choices_attributes():
    config = parse_config(sample("text_classification"))
    sentiment = config.controls["sentiment"]
    assert sentiment.choice == "single-radio"
    assert sentiment.is_single
    assert sentiment.required
    assert config.controls["topics"].choice == "multiple"
    assert not config.controls["topics"].is_single


def test_choices_default_to_single():
    config = parse_config(
        '<View><Text name="t" value="$t"/>'
        '<Choices name="c" toName="t"><Choice value="a"/></Choices></View>'
    )
    assert config.controls["c"].choice == "single"


def test_taxonomy_tree():
    config = parse_config(sample("taxonomy"))
    taxonomy = config.controls["category"]
    assert taxonomy.leafs_only
    assert taxonomy.choice == "multiple"
    science = taxonomy.labels[0]
    assert science.value == "Science"
    assert [child.value for child in science.children] == ["Physics", "Biology"]
    assert [child.value for child in science.children[1].children] == ["Genetics", "Ecology"]
    tree = config.to_dict()["controls"][0]["labels"]
    assert tree[0]["children"][1]["children"][0]["value"] == "Genetics"


def test_same_option_value_in_different_taxonomy_branches_is_allowed():
    taxonomy = parse_config(sample("taxonomy")).controls["category"]
    assert [label.value for label in taxonomy.labels] == ["Science", "Sports", "Other"]
    assert taxonomy.labels[1].children[1].value == "Other"


def test_rating_number_and_datetime_settings():
    config = parse_config(sample("scores"))
    assert config.controls["quality"].max_rating == 10
    assert (config.controls["words"].min_value, config.controls["words"].max_value) == (0, 5000)
    assert config.controls["written"].attrs["only"] == "date"


def test_rating_defaults_to_five_stars():
    config = parse_config('<View><Text name="t" value="$t"/><Rating name="r" toName="t"/></View>')
    assert config.controls["r"].max_rating == 5


def test_per_region_textarea_with_shortcuts():
    textarea = parse_config(sample("audio_regions")).controls["transcription"]
    assert textarea.per_region
    assert textarea.max_submissions == 1
    assert [(s.value, s.hotkey) for s in textarea.labels] == [("[inaudible]", "ctrl+i")]


def test_to_name_may_list_several_objects():
    config = parse_config(sample("pairwise"))
    assert config.controls["preference"].to_name == ["answer_a", "answer_b"]
    assert config.unsupported_tags == ["Pairwise"]


def test_unnamed_relations_gets_a_free_name():
    config = parse_config(sample("relations"))
    relations = config.controls["relations"]
    assert relations.tag == "Relations"
    assert [label.value for label in relations.labels] == ["works_for", "lives_in"]
    assert config.control_names_of_type("Relations") == ["relations"]


def test_unnamed_relations_name_avoids_taken_names():
    config = parse_config(
        '<View><Text name="relations" value="$t"/><Relations><Relation value="r"/></Relations>'
        "<Relations/></View>"
    )
    assert config.control_names_of_type("Relations") == ["relations_2", "relations_3"]


def test_ranker_buckets_are_its_options():
    ranker = parse_config(sample("ranker")).controls["rank"]
    assert [(bucket.value, bucket.attrs["title"]) for bucket in ranker.labels] == [
        ("relevant", "Relevant"),
        ("irrelevant", "Not relevant"),
    ]


def test_objects_that_emit_their_own_results_are_objects_and_controls():
    config = parse_config(sample("misc_objects"))
    assert config.controls["chat"].to_name == ["chat"]
    assert config.controls["chat"].result_type == "chatmessage"
    assert config.objects["widget"].value_field == "payload"
    assert config.controls["widget"].result_type == "reactcode"


def test_data_fields_in_order_of_appearance_without_repeats():
    config = parse_config(
        """<View>
  <Header value="$title"/>
  <Text name="a" value="$body"/>
  <Text name="b" value="$body"/>
  <Image name="c" valueList="$pages"/>
  <Text name="d" value="$meta.summary"/>
  <Paragraphs name="e" value="$dialogue" audioUrl="$recording"/>
  <Choices name="f" toName="a" value="$options"/>
  <Text name="g" value="A literal instruction"/>
</View>"""
    )
    assert config.data_fields == [
        "title",
        "body",
        "pages",
        "meta",
        "dialogue",
        "recording",
        "options",
    ]
    assert config.objects["d"].value_field == "meta.summary"
    assert config.objects["g"].value_field is None
    assert config.objects["g"].value_raw == "A literal instruction"


def test_choices_with_dynamic_options_need_no_children():
    config = parse_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>'
    )
    assert config.controls["c"].dynamic_field == "options"
    assert config.controls["c"].has_dynamic_labels


def test_taxonomy_loaded_from_an_api_needs_no_children():
    config = parse_config(
        '<View><Text name="t" value="$t"/>'
        '<Taxonomy name="x" toName="t" apiUrl="https://example.com/tree"/></View>'
    )
    assert config.controls["x"].has_dynamic_labels


def test_repeater_templates_are_accepted():
    config = parse_config(sample("repeater"))
    assert config.data_fields == ["utterances"]
    assert config.controls["intent_{{idx}}"].to_name == ["utterance_{{idx}}"]
    assert config.objects["utterance_{{idx}}"].value_field == "utterances[{{idx}}].text"
    assert config.unsupported_tags == ["Repeater"]


def test_repeater_with_custom_index_flag():
    config = parse_config(
        '<View><Repeater on="$images" indexFlag="{{i}}">'
        '<Image name="img_{{i}}" value="$images[{{i}}]"/></Repeater></View>'
    )
    assert config.data_fields == ["images"]


def test_index_templates_outside_a_repeater_are_rejected():
    issue = only_issue('<View>\n<Image name="i" value="$images[{{idx}}]"/>\n</View>')
    assert_issue(issue, "Image", "value", 2)


def test_layout_html_tags_are_accepted():
    config = parse_config(sample("layout"))
    assert set(config.objects) == {"text"}
    assert config.controls["tags"].to_name == ["text"]
    assert config.unsupported_tags == []


def test_nested_views_and_comments_are_fine():
    config = parse_config(
        """<?xml version="1.0" encoding="utf-8"?>
<!-- a comment -->
<View><View><View><Text name="t" value="$t"/></View></View></View>"""
    )
    assert config.objects["t"].line == 3


def test_label_options_may_sit_inside_layout_wrappers():
    config = parse_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
        '<View style="columns: 2"><Header value="Pick"/><Choice value="a"/></View>'
        '<Choice value="b"/></Choices></View>'
    )
    assert [choice.value for choice in config.controls["c"].labels] == ["a", "b"]


def test_to_dict_is_json_and_describes_the_ui():
    config = parse_config(sample("ner"))
    schema = json.loads(json.dumps(config.to_dict()))
    assert schema["data_fields"] == ["text"]
    assert schema["unsupported_tags"] == []
    assert schema["objects"][0]["name"] == "text"
    control = schema["controls"][0]
    assert (control["name"], control["type"], control["to_name"]) == ("label", "labels", ["text"])
    assert control["labels"][0] == {
        "value": "PER",
        "alias": None,
        "hotkey": "p",
        "background": "#FF0000",
        "hint": None,
        "selected": False,
        "children": [],
        "attrs": {"value": "PER", "background": "#FF0000", "hotkey": "p"},
    }


def test_helpers_find_controls():
    config = parse_config(sample("image_bbox"))
    assert config.control_names_of_type("RectangleLabels", "Rectangle") == ["box", "plain_box"]
    assert [control.name for control in config.controls_for("image")] == ["box", "plain_box"]


# Rejections: each names the tag, the attribute and the line


def test_rejects_unknown_tag():
    issue = only_issue('<View>\n  <Text name="t" value="$t"/>\n  <Foo/>\n</View>')
    assert_issue(issue, "Foo", None, 3)
    assert issue.message == "unknown tag <Foo> on line 3"


def test_rejects_script_tag():
    issue = only_issue("<View>\n<script>alert(1)</script>\n</View>")
    assert_issue(issue, "script", None, 2)


def test_tag_names_are_case_sensitive():
    issue = only_issue('<View>\n<text name="t" value="$t"/>\n</View>')
    assert_issue(issue, "text", None, 2)


def test_rejects_event_handlers_on_html_tags():
    issue = only_issue('<View>\n<div onclick="steal()">hi</div>\n</View>')
    assert_issue(issue, "div", "onclick", 2)


def test_rejects_root_other_than_view():
    issue = only_issue('<Text name="t" value="$t"/>')
    assert_issue(issue, "Text", None, 1)
    assert "<View>" in issue.message


def test_rejects_control_without_name():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Choices toName="t">\n<Choice value="a"/>\n'
        "</Choices>\n</View>"
    )
    assert_issue(issue, "Choices", "name", 3)


def test_rejects_object_without_name():
    issue = only_issue('<View>\n<Image value="$image"/>\n</View>')
    assert_issue(issue, "Image", "name", 2)


def test_rejects_object_without_value():
    issue = only_issue('<View>\n<Text name="t"/>\n</View>')
    assert_issue(issue, "Text", "value", 2)


def test_rejects_control_without_to_name():
    issue = only_issue('<View>\n<Text name="t" value="$t"/>\n<Rating name="r"/>\n</View>')
    assert_issue(issue, "Rating", "toName", 3)


def test_rejects_to_name_of_missing_object():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Rating name="r" toName="missing"/>\n</View>'
    )
    assert_issue(issue, "Rating", "toName", 3)
    assert "'missing'" in issue.message


def test_rejects_to_name_of_a_control():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Rating name="r" toName="t"/>\n'
        '<Number name="n" toName="r"/>\n</View>'
    )
    assert_issue(issue, "Number", "toName", 4)


def test_rejects_one_bad_name_in_a_to_name_list():
    issue = only_issue(
        '<View>\n<Text name="a" value="$a"/>\n<Pairwise name="p" toName="a,b"/>\n</View>'
    )
    assert_issue(issue, "Pairwise", "toName", 3)


def test_rejects_filter_pointing_at_no_control():
    issue = only_issue('<View>\n<Text name="t" value="$t"/>\n<Filter toName="t"/>\n</View>')
    assert_issue(issue, "Filter", "toName", 3)


def test_rejects_duplicate_names():
    issue = only_issue('<View>\n<Text name="x" value="$a"/>\n<Text name="x" value="$b"/>\n</View>')
    assert_issue(issue, "Text", "name", 3)
    assert "line 2" in issue.message


def test_rejects_duplicate_name_shared_by_object_and_control():
    issue = only_issue(
        '<View>\n<Text name="t" value="$a"/>\n<Rating name="t" toName="t"/>\n</View>'
    )
    assert_issue(issue, "Rating", "name", 3)


def test_rejects_duplicate_hotkeys_within_a_control():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Labels name="l" toName="t">\n'
        '<Label value="A" hotkey="a"/>\n<Label value="B" hotkey="a"/>\n</Labels>\n</View>'
    )
    assert_issue(issue, "Label", "hotkey", 5)
    assert "line 4" in issue.message


def test_rejects_duplicate_hotkeys_across_controls():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Labels name="l" toName="t">\n'
        '<Label value="A" hotkey="1"/>\n</Labels>\n<Choices name="c" toName="t">\n'
        '<Choice value="x" hotkey="1"/>\n</Choices>\n</View>'
    )
    assert_issue(issue, "Choice", "hotkey", 7)


def test_hotkeys_compare_case_insensitively():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Choices name="c" toName="t">\n'
        '<Choice value="x" hotkey="Q"/>\n<Choice value="y" hotkey="q"/>\n</Choices>\n</View>'
    )
    assert_issue(issue, "Choice", "hotkey", 5)


@pytest.mark.parametrize("value", ["$1abc", "$a-b", "$", "$a..b", "$a.", "$ a", "$a[0]"])
def test_rejects_invalid_data_field_reference(value):
    issue = only_issue(f'<View>\n<Text name="t" value="{value}"/>\n</View>')
    assert_issue(issue, "Text", "value", 2)


def test_rejects_invalid_header_data_field():
    issue = only_issue('<View>\n<Header value="$9"/>\n</View>')
    assert_issue(issue, "Header", "value", 2)


@pytest.mark.parametrize("control", ["Labels", "RectangleLabels", "Choices", "Taxonomy"])
def test_rejects_control_without_options(control):
    issue = only_issue(
        f'<View>\n<Image name="i" value="$i"/>\n<{control} name="c" toName="i">\n'
        f"</{control}>\n</View>"
    )
    assert_issue(issue, control, None, 3)


def test_rejects_duplicate_label_values():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Labels name="l" toName="t">\n'
        '<Label value="A"/>\n<Label value="A"/>\n</Labels>\n</View>'
    )
    assert_issue(issue, "Label", "value", 5)


def test_rejects_duplicate_sibling_choices_in_taxonomy():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Taxonomy name="x" toName="t">\n'
        '<Choice value="A">\n<Choice value="A1"/>\n<Choice value="A1"/>\n</Choice>\n'
        "</Taxonomy>\n</View>"
    )
    assert_issue(issue, "Choice", "value", 6)


def test_rejects_duplicate_ranker_buckets():
    issue = only_issue(
        '<View>\n<List name="l" value="$items"/>\n<Ranker name="r" toName="l">\n'
        '<Bucket name="a"/>\n<Bucket name="a"/>\n</Ranker>\n</View>'
    )
    assert_issue(issue, "Bucket", "name", 5)


def test_rejects_label_without_value():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Labels name="l" toName="t">\n'
        '<Label value="A"/>\n<Label background="red"/>\n</Labels>\n</View>'
    )
    assert_issue(issue, "Label", "value", 5)


def test_rejects_option_outside_its_control():
    issue = only_issue('<View>\n<Text name="t" value="$t"/>\n<Label value="A"/>\n</View>')
    assert_issue(issue, "Label", None, 3)


def test_rejects_label_inside_choices():
    issues = issues_of(
        '<View>\n<Text name="t" value="$t"/>\n<Choices name="c" toName="t">\n'
        '<Label value="A"/>\n</Choices>\n</View>'
    )
    assert [(issue.tag, issue.line) for issue in issues] == [("Choices", 3), ("Label", 4)]


@pytest.mark.parametrize("choice", ["one", "Single", ""])
def test_rejects_unknown_choice_mode(choice):
    issue = only_issue(
        f'<View>\n<Text name="t" value="$t"/>\n<Choices name="c" toName="t" choice="{choice}">\n'
        '<Choice value="a"/>\n</Choices>\n</View>'
    )
    assert_issue(issue, "Choices", "choice", 3)


@pytest.mark.parametrize("max_rating", ["0", "-3", "five", "2.5", ""])
def test_rejects_max_rating_that_is_not_a_positive_int(max_rating):
    issue = only_issue(
        f'<View>\n<Text name="t" value="$t"/>\n<Rating name="r" toName="t" maxRating="{max_rating}"/>\n</View>'
    )
    assert_issue(issue, "Rating", "maxRating", 3)


def test_rejects_number_min_above_max():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<Number name="n" toName="t" min="10" max="1"/>\n</View>'
    )
    assert_issue(issue, "Number", "min", 3)


@pytest.mark.parametrize("attr", ["min", "max"])
def test_rejects_number_bound_that_is_not_a_number(attr):
    issue = only_issue(
        f'<View>\n<Text name="t" value="$t"/>\n<Number name="n" toName="t" {attr}="lots"/>\n</View>'
    )
    assert_issue(issue, "Number", attr, 3)


def test_rejects_bad_max_submissions():
    issue = only_issue(
        '<View>\n<Text name="t" value="$t"/>\n<TextArea name="x" toName="t" maxSubmissions="0"/>\n</View>'
    )
    assert_issue(issue, "TextArea", "maxSubmissions", 3)


def test_reports_every_problem_at_once_in_line_order():
    issues = issues_of(
        """<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="txt">
    <Label value="A" hotkey="a"/>
    <Label value="A" hotkey="a"/>
  </Labels>
  <Choices toName="text" choice="many"/>
  <Widget/>
  <Text name="text" value="$other"/>
</View>"""
    )
    assert [(issue.line, issue.tag, issue.attribute) for issue in issues] == [
        (3, "Labels", "toName"),
        (5, "Label", "value"),
        (5, "Label", "hotkey"),
        (7, "Choices", "name"),
        (7, "Choices", "choice"),
        (7, "Choices", None),
        (8, "Widget", None),
        (9, "Text", "name"),
    ]


def test_config_error_message_joins_the_issues():
    with pytest.raises(ConfigError) as caught:
        parse_config("<View>\n<Foo/>\n<Bar/>\n</View>")
    assert str(caught.value) == (
        "line 2: unknown tag <Foo> on line 2; line 3: unknown tag <Bar> on line 3"
    )
    assert caught.value.issues[0].to_dict() == {
        "message": "unknown tag <Foo> on line 2",
        "tag": "Foo",
        "attribute": None,
        "line": 2,
    }


# Rejections of the XML itself


def test_rejects_malformed_xml_with_its_line():
    issue = only_issue('<View>\n  <Text name="t" value="$t">\n</View>')
    assert issue.line == 3
    assert issue.message.startswith("malformed XML")


@pytest.mark.parametrize("xml", ["", "   \n ", "just words", "<!-- only a comment -->"])
def test_rejects_empty_or_non_xml(xml):
    assert issues_of(xml)


def test_rejects_non_string():
    with pytest.raises(ConfigError):
        parse_config(b"<View/>")  # type: ignore[arg-type]


def test_rejects_text_that_is_not_unicode():
    issue = only_issue("<View>\ud800</View>")
    assert "Unicode" in issue.message


def test_rejects_huge_config():
    issue = only_issue("<View>" + " " * MAX_CONFIG_CHARS + "</View>")
    assert "longer than" in issue.message


def test_rejects_deep_nesting():
    depth = MAX_DEPTH + 5
    issue = only_issue("<View>" * depth + "</View>" * depth)
    assert_issue(issue, "View", None, 1)
    assert "deeper" in issue.message


def test_accepts_nesting_up_to_the_limit():
    parse_xml("<View>" * MAX_DEPTH + "</View>" * MAX_DEPTH)


def test_rejects_too_many_elements():
    issue = only_issue("<View>\n" + "<View/>\n" * MAX_ELEMENTS + "</View>")
    assert_issue(issue, "View", None, MAX_ELEMENTS + 1)
    assert "more than" in issue.message


def test_xml_declaration_cannot_change_the_encoding():
    config = parse_config(
        '<?xml version="1.0" encoding="latin-1"?><View><Header value="café"/></View>'
    )
    assert config.objects == {}
