"""Validating LS-format annotation results against a parsed labelling config."""

from pathlib import Path

import pytest

from projects.labelconfig import LabelConfig, ResultError, ResultIssue, parse_config

SAMPLES = Path(__file__).parent / "labelconfig_samples"

TEXT = "Ada Lovelace met Charles Babbage in London."
DIALOGUE = [
    {"author": "Alice", "text": "Where is the station?"},
    {"author": "Bob", "text": "Two blocks north."},
]


def config_of(name: str) -> LabelConfig:
    return parse_config((SAMPLES / f"{name}.xml").read_text())


def issues_of(config: LabelConfig, result, data=None) -> list[ResultIssue]:
    with pytest.raises(ResultError) as caught:
        config.validate_result(result, data)
    return caught.value.issues


def only_issue(config: LabelConfig, result, data=None) -> ResultIssue:
    issues = issues_of(config, result, data)
    assert len(issues) == 1, issues
    return issues[0]


def assert_issue(issue: ResultIssue, index: int | None, field: str | None):
    assert (issue.index, issue.field) == (index, field), issue


def item(from_name, to_name, type_, value, **extra):
    return {
        "id": extra.pop("id", "r1"),
        "from_name": from_name,
        "to_name": to_name,
        "type": type_,
        "value": value,
        **extra,
    }


def ner(value, **extra):
    return item("label", "text", "labels", value, **extra)


def box(value, **extra):
    return item("box", "image", "rectanglelabels", {"rectanglelabels": ["Car"], **value}, **extra)


def choices(values, name="sentiment"):
    return item(name, "review", "choices", {"choices": values})


def taxonomy(paths):
    return item("category", "article", "taxonomy", {"taxonomy": paths})


def audio(value, **extra):
    return item("speaker", "audio", "labels", {"labels": ["Noise"], **value}, **extra)


def paragraph(value):
    base = {"start": 0, "end": 0, "startOffset": 0, "endOffset": 5, "paragraphlabels": ["Question"]}
    return item("intent", "chat", "paragraphlabels", {**base, **value})


def score(name, key, value):
    return item(name, "essay", key, {key: value})


# Valid results pass


def test_empty_result_is_valid():
    assert config_of("ner").validate_result([]) is None


def test_valid_ner_spans_pass_with_and_without_data():
    result = [
        ner({"start": 0, "end": 12, "text": "Ada Lovelace", "labels": ["PER"]}, id="a"),
        ner({"start": 36, "end": 42, "text": "London", "labels": ["Location"]}, id="b"),
    ]
    config = config_of("ner")
    assert config.validate_result(result, {"text": TEXT}) is None
    assert config.validate_result(result) is None


def test_label_may_be_given_by_value_or_alias():
    config = config_of("ner")
    config.validate_result([ner({"start": 0, "end": 3, "labels": ["LOC"]})])
    config.validate_result([ner({"start": 0, "end": 3, "labels": ["Location"]})])


def test_span_offsets_in_utf16_units_are_accepted_past_the_bmp():
    text = "🙂 Ada"
    config = config_of("ner")
    code_points = ner({"start": 2, "end": 5, "text": "Ada", "labels": ["PER"]})
    utf16_units = ner({"start": 3, "end": 6, "text": "Ada", "labels": ["PER"]})
    config.validate_result([code_points], {"text": text})
    config.validate_result([utf16_units], {"text": text})


def test_valid_classifications_pass():
    config = config_of("text_classification")
    config.validate_result(
        [
            choices(["Positive"]),
            item("topics", "review", "choices", {"choices": ["Price", "Quality"]}, id="t"),
        ]
    )


def test_valid_taxonomy_paths_pass():
    config_of("taxonomy").validate_result(
        [taxonomy([["Science", "Biology", "Genetics"], ["Sports", "Football"], ["Other"]])]
    )


def test_valid_image_regions_pass():
    config_of("image_bbox").validate_result(
        [
            box({"x": 10, "y": 20.5, "width": 30, "height": 40}, id="a"),
            box({"x": 0, "y": 0, "width": 100, "height": 100}, id="b"),
            box({"x": 90, "y": 90, "width": 20, "height": 20, "rotation": 45}, id="c"),
            item("plain_box", "image", "rectangle", {"x": 1, "y": 1, "width": 1, "height": 1}),
        ]
    )
    config_of("polygons").validate_result(
        [
            item(
                "outline",
                "photo",
                "polygonlabels",
                {"points": [[0, 0], [100, 0], [50, 99.9]], "polygonlabels": ["Road"]},
            ),
            item("free_shape", "photo", "polygon", {"points": [[1, 1], [2, 2], [3, 1]]}, id="p"),
        ]
    )
    config_of("keypoints").validate_result(
        [
            item(
                "joints",
                "img",
                "keypointlabels",
                {"x": 5, "y": 5, "width": 0.5, "keypointlabels": ["Left eye"]},
            ),
            item("point", "img", "keypoint", {"x": 100, "y": 0}, id="k"),
        ]
    )


def test_valid_audio_region_with_per_region_transcription_passes():
    config_of("audio_regions").validate_result(
        [
            audio({"start": 1.5, "end": 3.25, "channel": 0}, id="seg", original_length=10),
            item("transcription", "audio", "textarea", {"text": ["hello"]}, id="seg"),
        ]
    )


def test_valid_dialogue_spans_pass():
    config_of("dialogue").validate_result(
        [paragraph({"start": "0", "end": "1", "startOffset": 3, "endOffset": 2})],
        {"dialogue": DIALOGUE},
    )


def test_valid_html_spans_pass():
    config_of("html").validate_result(
        [
            item(
                "entities",
                "page",
                "hypertextlabels",
                {
                    "start": "/p[1]/text()[1]",
                    "end": "/p[1]/text()[1]",
                    "startOffset": 0,
                    "endOffset": 4,
                    "hypertextlabels": ["Title"],
                },
            ),
            item(
                "spans",
                "page",
                "labels",
                {
                    "start": "/div[1]",
                    "end": "/div[2]",
                    "startOffset": 2,
                    "endOffset": 0,
                    "labels": ["Quote"],
                },
                id="q",
            ),
        ]
    )


def test_valid_scores_pass():
    config_of("scores").validate_result(
        [
            score("quality", "rating", 10),
            score("words", "number", 4999.5),
            score("written", "datetime", "2024-02-29"),
            score("reviewed_at", "datetime", "2024-02-29T13:45"),
        ]
    )


def test_valid_relations_pass():
    config_of("relations").validate_result(
        [
            item("entity", "text", "labels", {"start": 0, "end": 3, "labels": ["Person"]}, id="p"),
            item("entity", "text", "labels", {"start": 5, "end": 9, "labels": ["City"]}, id=7),
            {
                "type": "relation",
                "from_id": "p",
                "to_id": 7,
                "direction": "right",
                "labels": ["lives_in"],
            },
            {"type": "relation", "from_id": 7, "to_id": "p"},
        ]
    )


def test_results_of_unsupported_tags_get_shape_checks_only():
    config_of("video").validate_result(
        [
            item("track", "video", "videorectangle", {"sequence": "anything"}),
            item(
                "activity",
                "video",
                "timelinelabels",
                {"ranges": [{"start": 3, "end": 5}], "timelinelabels": ["Moving"]},
                id="t",
            ),
            item("vehicle", "video", "labels", {"labels": ["Car"]}, id="v"),
        ]
    )
    config_of("ranker").validate_result([item("rank", "results", "ranker", {"ranker": {}})])
    config_of("pairwise").validate_result(
        [item("preference", "answer_a", "pairwise", {"selected": "left"})]
    )
    config_of("misc_objects").validate_result(
        [item("chat", "chat", "chatmessage", {"chatmessage": {"role": "user", "content": "hi"}})]
    )


def test_optional_item_fields_pass():
    config_of("image_bbox").validate_result(
        [
            box(
                {"x": 1, "y": 1, "width": 1, "height": 1},
                score=0.93,
                origin="prediction",
                original_width=640,
                original_height=480,
            )
        ]
    )


# Rejections: the item list and its references


def test_rejects_result_that_is_not_a_list():
    issue = only_issue(config_of("ner"), {"id": "x"})
    assert_issue(issue, None, None)


def test_rejects_item_that_is_not_an_object():
    issue = only_issue(config_of("ner"), ["labels"])
    assert_issue(issue, 0, None)


def test_rejects_unknown_from_name():
    issue = only_issue(config_of("ner"), [item("nope", "text", "labels", {"labels": ["PER"]})])
    assert_issue(issue, 0, "from_name")
    assert issue.item_id == "r1"


def test_rejects_to_name_the_control_does_not_label():
    issue = only_issue(
        config_of("ner"),
        [item("label", "elsewhere", "labels", {"start": 0, "end": 1, "labels": ["PER"]})],
    )
    assert_issue(issue, 0, "to_name")


def test_rejects_type_that_does_not_match_the_control():
    issue = only_issue(config_of("ner"), [item("label", "text", "choices", {"choices": ["PER"]})])
    assert_issue(issue, 0, "type")


def test_rejects_value_that_is_not_an_object():
    issue = only_issue(config_of("ner"), [item("label", "text", "labels", ["PER"])])
    assert_issue(issue, 0, "value")


def test_rejects_id_that_is_not_a_string():
    issue = only_issue(
        config_of("ner"), [ner({"start": 0, "end": 1, "labels": ["PER"]}, id={"x": 1})]
    )
    assert_issue(issue, 0, "id")


def test_rejects_non_positive_original_size():
    issue = only_issue(
        config_of("image_bbox"),
        [box({"x": 1, "y": 1, "width": 1, "height": 1}, original_width=0)],
    )
    assert_issue(issue, 0, "original_width")


def test_rejects_score_that_is_not_a_number():
    issue = only_issue(
        config_of("image_bbox"), [box({"x": 1, "y": 1, "width": 1, "height": 1}, score="high")]
    )
    assert_issue(issue, 0, "score")


def test_rejects_unsupported_tag_result_with_wrong_type():
    issue = only_issue(config_of("video"), [item("track", "video", "rectangle", {})])
    assert_issue(issue, 0, "type")


# Labels


def test_rejects_unknown_label():
    issue = only_issue(config_of("ner"), [ner({"start": 0, "end": 3, "labels": ["DATE"]})])
    assert_issue(issue, 0, "value.labels")
    assert "DATE" in issue.message


def test_rejects_two_labels_on_a_single_choice_labels_control():
    issue = only_issue(config_of("ner"), [ner({"start": 0, "end": 3, "labels": ["PER", "ORG"]})])
    assert_issue(issue, 0, "value.labels")


@pytest.mark.parametrize("labels", [None, [], "PER", [1]])
def test_rejects_missing_or_malformed_labels(labels):
    value = {"start": 0, "end": 3} | ({} if labels is None else {"labels": labels})
    issue = only_issue(config_of("ner"), [ner(value)])
    assert_issue(issue, 0, "value.labels")


# Text spans


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"start": "0", "end": 3}, "value.start"),
        ({"start": 0.5, "end": 3}, "value.start"),
        ({"start": True, "end": 3}, "value.start"),
        ({"start": -1, "end": 3}, "value.start"),
        ({"start": 0}, "value.end"),
        ({"start": 3, "end": 3}, "value.end"),
        ({"start": 5, "end": 2}, "value.end"),
    ],
)
def test_rejects_bad_span_offsets(value, field):
    issue = only_issue(config_of("ner"), [ner({**value, "labels": ["PER"]})])
    assert_issue(issue, 0, field)


def test_rejects_span_past_the_end_of_the_text():
    issue = only_issue(
        config_of("ner"), [ner({"start": 40, "end": 44, "labels": ["PER"]})], {"text": TEXT}
    )
    assert_issue(issue, 0, "value.end")
    assert "43 characters" in issue.message


def test_rejects_span_text_that_differs_from_the_task_text():
    issue = only_issue(
        config_of("ner"),
        [ner({"start": 0, "end": 3, "text": "Bob", "labels": ["PER"]})],
        {"text": TEXT},
    )
    assert_issue(issue, 0, "value.text")


def test_span_text_is_not_compared_without_task_data():
    config_of("ner").validate_result(
        [ner({"start": 0, "end": 3, "text": "Bob", "labels": ["PER"]})]
    )


# HTML and dialogue spans


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"end": "/p[1]", "startOffset": 0, "endOffset": 1}, "value.start"),
        ({"start": "", "end": "/p[1]", "startOffset": 0, "endOffset": 1}, "value.start"),
        (
            {"start": "/p[1]", "end": "/p[1]", "startOffset": -1, "endOffset": 1},
            "value.startOffset",
        ),
        ({"start": "/p[1]", "end": "/p[1]", "startOffset": 0}, "value.endOffset"),
    ],
)
def test_rejects_bad_html_span(value, field):
    result = [item("entities", "page", "hypertextlabels", {**value, "hypertextlabels": ["Title"]})]
    issue = only_issue(config_of("html"), result)
    assert_issue(issue, 0, field)


def test_rejects_paragraph_index_past_the_dialogue():
    issue = only_issue(
        config_of("dialogue"), [paragraph({"start": 1, "end": 2})], {"dialogue": DIALOGUE}
    )
    assert_issue(issue, 0, "value.end")


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"start": "first"}, "value.start"),
        ({"start": 1, "end": 0}, "value.end"),
        ({"startOffset": 4, "endOffset": 2}, "value.endOffset"),
        ({"startOffset": None}, "value.startOffset"),
    ],
)
def test_rejects_bad_paragraph_span(value, field):
    issue = only_issue(config_of("dialogue"), [paragraph(value)])
    assert_issue(issue, 0, field)


# Image geometry


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"x": 101, "y": 0, "width": 0, "height": 0}, "value.x"),
        ({"x": 0, "y": -0.1, "width": 1, "height": 1}, "value.y"),
        ({"x": 0, "y": 0, "width": -1, "height": 1}, "value.width"),
        ({"x": 0, "y": 0, "width": 1, "height": -1}, "value.height"),
        ({"x": 60, "y": 0, "width": 41, "height": 1}, "value.width"),
        ({"x": 0, "y": 50, "width": 1, "height": 50.001}, "value.height"),
        ({"x": "1", "y": 0, "width": 1, "height": 1}, "value.x"),
        ({"x": float("nan"), "y": 0, "width": 1, "height": 1}, "value.x"),
        ({"y": 0, "width": 1, "height": 1}, "value.x"),
        ({"x": 0, "y": 0, "width": 1, "height": 1, "rotation": "90"}, "value.rotation"),
    ],
)
def test_rejects_bad_box(value, field):
    issue = only_issue(config_of("image_bbox"), [box(value)])
    assert_issue(issue, 0, field)


def test_box_edge_tolerates_float_rounding():
    config_of("image_bbox").validate_result(
        [box({"x": 33.3333333, "y": 0, "width": 66.6666667 + 1e-7, "height": 1})]
    )


@pytest.mark.parametrize(
    ("points", "field"),
    [
        ([[0, 0], [1, 1]], "value.points"),
        (None, "value.points"),
        ([[0, 0], [1, 1], [101, 5]], "value.points[2]"),
        ([[0, 0], [1, 1], [5]], "value.points[2]"),
        ([[0, 0], ["1", 1], [5, 5]], "value.points[1]"),
    ],
)
def test_rejects_bad_polygon(points, field):
    value = {"polygonlabels": ["Road"]} | ({} if points is None else {"points": points})
    issue = only_issue(config_of("polygons"), [item("outline", "photo", "polygonlabels", value)])
    assert_issue(issue, 0, field)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"x": 100.5, "y": 1}, "value.x"),
        ({"x": 1}, "value.y"),
        ({"x": 1, "y": 1, "width": -2}, "value.width"),
    ],
)
def test_rejects_bad_keypoint(value, field):
    issue = only_issue(config_of("keypoints"), [item("point", "img", "keypoint", value)])
    assert_issue(issue, 0, field)


# Audio


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"start": -1, "end": 2}, "value.start"),
        ({"start": 3, "end": 2}, "value.end"),
        ({"start": 1, "end": 10.5}, "value.end"),
        ({"start": 1}, "value.end"),
    ],
)
def test_rejects_bad_audio_region(value, field):
    issue = only_issue(config_of("audio_regions"), [audio(value, original_length=10)])
    assert_issue(issue, 0, field)


def test_audio_region_length_is_unchecked_without_original_length():
    config_of("audio_regions").validate_result([audio({"start": 1, "end": 1000})])


# Classifications


def test_rejects_unknown_choice():
    issue = only_issue(config_of("text_classification"), [choices(["Angry"])])
    assert_issue(issue, 0, "value.choices[0]")


def test_rejects_two_choices_on_single_choice_control():
    issue = only_issue(config_of("text_classification"), [choices(["Positive", "Negative"])])
    assert_issue(issue, 0, "value.choices")


@pytest.mark.parametrize("value", [[], "Positive", None])
def test_rejects_missing_or_empty_choices(value):
    issue = only_issue(config_of("text_classification"), [choices(value)])
    assert_issue(issue, 0, "value.choices")


def test_rejects_choice_that_is_not_a_string():
    issue = only_issue(config_of("text_classification"), [choices([["Positive"]])])
    assert_issue(issue, 0, "value.choices[0]")


def test_dynamic_choices_accept_any_value():
    config = parse_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>'
    )
    config.validate_result([item("c", "t", "choices", {"choices": ["anything"]})])


def test_nested_choices_accept_paths_when_allowed():
    config = parse_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t" allowNested="true">'
        '<Choice value="A"><Choice value="A1"/></Choice></Choices></View>'
    )
    config.validate_result([item("c", "t", "choices", {"choices": [["A", "A1"]]})])
    issue = only_issue(config, [item("c", "t", "choices", {"choices": [["A1"]]})])
    assert_issue(issue, 0, "value.choices[0]")


def test_rejects_taxonomy_path_through_a_missing_node():
    issue = only_issue(config_of("taxonomy"), [taxonomy([["Science", "Football"]])])
    assert_issue(issue, 0, "value.taxonomy[0]")
    assert "under 'Science'" in issue.message


def test_rejects_taxonomy_path_to_a_non_leaf_when_leafs_only():
    issue = only_issue(config_of("taxonomy"), [taxonomy([["Science", "Physics"], ["Science"]])])
    assert_issue(issue, 0, "value.taxonomy[1]")


def test_rejects_several_paths_on_a_single_choice_taxonomy():
    config = parse_config(
        '<View><Text name="t" value="$t"/><Taxonomy name="x" toName="t" choice="single">'
        '<Choice value="A"/><Choice value="B"/></Taxonomy></View>'
    )
    config.validate_result([item("x", "t", "taxonomy", {"taxonomy": [["A"]]})])
    issue = only_issue(config, [item("x", "t", "taxonomy", {"taxonomy": [["A"], ["B"]]})])
    assert_issue(issue, 0, "value.taxonomy")


@pytest.mark.parametrize(
    ("paths", "field"),
    [([], "value.taxonomy"), ([[]], "value.taxonomy[0]"), (["Science"], "value.taxonomy[0]")],
)
def test_rejects_malformed_taxonomy(paths, field):
    issue = only_issue(config_of("taxonomy"), [taxonomy(paths)])
    assert_issue(issue, 0, field)


@pytest.mark.parametrize("text", ["hello", [1], None])
def test_rejects_textarea_text_that_is_not_a_list_of_strings(text):
    result = [
        audio({"start": 0, "end": 1}, id="seg"),
        item("transcription", "audio", "textarea", {"text": text}, id="seg"),
    ]
    issue = only_issue(config_of("audio_regions"), result)
    assert_issue(issue, 1, "value.text")


def test_rejects_more_texts_than_max_submissions():
    result = [
        audio({"start": 0, "end": 1}, id="seg"),
        item("transcription", "audio", "textarea", {"text": ["a", "b"]}, id="seg"),
    ]
    issue = only_issue(config_of("audio_regions"), result)
    assert_issue(issue, 1, "value.text")


def test_max_submissions_counts_per_region():
    config_of("audio_regions").validate_result(
        [
            audio({"start": 0, "end": 1}, id="a"),
            audio({"start": 1, "end": 2}, id="b"),
            item("transcription", "audio", "textarea", {"text": ["x"]}, id="a"),
            item("transcription", "audio", "textarea", {"text": ["y"]}, id="b"),
        ]
    )


def test_rejects_per_region_item_that_matches_no_region():
    result = [
        audio({"start": 0, "end": 1}, id="seg"),
        item("transcription", "audio", "textarea", {"text": ["a"]}, id="other"),
    ]
    issue = only_issue(config_of("audio_regions"), result)
    assert_issue(issue, 1, "id")


@pytest.mark.parametrize("rating", [0, 11, 5.0, True, "5", None])
def test_rejects_rating_outside_max_rating(rating):
    issue = only_issue(config_of("scores"), [score("quality", "rating", rating)])
    assert_issue(issue, 0, "value.rating")


@pytest.mark.parametrize("number", [-1, 5000.5, "12", None, float("inf")])
def test_rejects_number_outside_its_bounds(number):
    issue = only_issue(config_of("scores"), [score("words", "number", number)])
    assert_issue(issue, 0, "value.number")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("written", "29/02/2024"),
        ("written", "2023-02-29"),
        ("reviewed_at", "soon"),
        ("reviewed_at", ""),
        ("written", 20240229),
    ],
)
def test_rejects_bad_datetime(name, value):
    issue = only_issue(config_of("scores"), [score(name, "datetime", value)])
    assert_issue(issue, 0, "value.datetime")


# Relations


def relations_result(*relations):
    return [
        item("entity", "text", "labels", {"start": 0, "end": 3, "labels": ["Person"]}, id="p"),
        item("entity", "text", "labels", {"start": 5, "end": 9, "labels": ["City"]}, id="c"),
        *relations,
    ]


def test_rejects_relation_to_an_unknown_region():
    issue = only_issue(
        config_of("relations"), relations_result({"type": "relation", "from_id": "p", "to_id": "x"})
    )
    assert_issue(issue, 2, "to_id")


def test_rejects_relation_without_from_id():
    issue = only_issue(config_of("relations"), relations_result({"type": "relation", "to_id": "c"}))
    assert_issue(issue, 2, "from_id")


def test_rejects_relation_to_a_whole_object_classification():
    config = config_of("text_classification")
    result = [choices(["Positive"]), {"type": "relation", "from_id": "r1", "to_id": "r1"}]
    issues = issues_of(config, result)
    assert [(issue.index, issue.field) for issue in issues] == [(1, "from_id"), (1, "to_id")]


def test_rejects_unknown_relation_direction():
    issue = only_issue(
        config_of("relations"),
        relations_result({"type": "relation", "from_id": "p", "to_id": "c", "direction": "up"}),
    )
    assert_issue(issue, 2, "direction")


@pytest.mark.parametrize("labels", [["married_to"], "lives_in"])
def test_rejects_bad_relation_labels(labels):
    relation = {"type": "relation", "from_id": "p", "to_id": "c", "labels": labels}
    issue = only_issue(config_of("relations"), relations_result(relation))
    assert_issue(issue, 2, "labels")


def test_relation_labels_are_free_without_a_relations_control():
    config = parse_config(
        '<View><Text name="text" value="$t"/><Labels name="entity" toName="text">'
        '<Label value="Person"/><Label value="City"/></Labels></View>'
    )
    relation = {"type": "relation", "from_id": "p", "to_id": "c", "labels": ["anything"]}
    config.validate_result(relations_result(relation))


# Reporting


def test_reports_every_bad_item():
    result = [
        ner({"start": 0, "end": 3, "labels": ["PER"]}, id="ok"),
        ner({"start": 3, "end": 1, "labels": ["DATE"]}, id="bad"),
        "junk",
        item("label", "text", "rating", {"rating": 1}, id="worse"),
    ]
    issues = issues_of(config_of("ner"), result)
    assert [(issue.index, issue.item_id, issue.field) for issue in issues] == [
        (1, "bad", "value.labels"),
        (1, "bad", "value.end"),
        (2, None, None),
        (3, "worse", "type"),
    ]


def test_result_error_message_and_issue_dict():
    with pytest.raises(ResultError) as caught:
        config_of("ner").validate_result([ner({"start": 0, "end": 3, "labels": ["DATE"]})])
    assert str(caught.value) == "item 0, id 'r1', value.labels: unknown labels for 'label': DATE"
    assert caught.value.issues[0].to_dict() == {
        "index": 0,
        "item_id": "r1",
        "field": "value.labels",
        "message": "unknown labels for 'label': DATE",
    }
