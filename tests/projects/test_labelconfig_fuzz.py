"""Hostile and random input: parse_config and validate_result fail only with their own errors."""

import json
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projects.labelconfig import TAGS, ConfigError, LabelConfig, ResultError, parse_config
from projects.labelconfig.tags import HTML_LAYOUT_TAGS

SAMPLES = Path(__file__).parent / "labelconfig_samples"
SAMPLE_XML = [path.read_text() for path in sorted(SAMPLES.glob("*.xml"))]

fuzz = hypothesis.settings(
    max_examples=200,
    deadline=None,
    database=None,  # each run explores afresh; failures print their reproducing example
    # The suite's autouse fixtures are function scoped; none of them holds per-example state.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
# Structured examples cost more to generate; fewer of them keep the file at a few seconds.
fuzz_structured = hypothesis.settings(fuzz, max_examples=100)


def parse_or_config_error(xml: str) -> LabelConfig | None:
    try:
        config = parse_config(xml)
    except ConfigError as error:
        assert error.issues
        assert all(isinstance(issue.message, str) and issue.message for issue in error.issues)
        json.dumps([issue.to_dict() for issue in error.issues])
        return None
    json.dumps(config.to_dict())
    return config


def validate_or_result_error(config: LabelConfig, result, data=None) -> None:
    try:
        config.validate_result(result, data)
    except ResultError as error:
        assert error.issues
        json.dumps([issue.to_dict() for issue in error.issues])


# Random and mutated configs


@fuzz
@given(st.text(max_size=300))
def test_random_text(xml):
    parse_or_config_error(xml)


@fuzz
@given(st.text(alphabet="<>/=\"'!?&;$[]{}-: \nViewTextnamevalue", max_size=200))
def test_random_xml_ish_text(xml):
    parse_or_config_error(xml)


MUTATION_CHARS = st.sampled_from([*"<>/=\"'&;$!?-[]{} \n\x00\ud7ff", "&lol;", "<!--", "]]>"])


@st.composite
def mutated_samples(draw):
    text = draw(st.sampled_from(SAMPLE_XML))
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        if draw(st.booleans()) and text:
            length = draw(st.integers(min_value=1, max_value=20))
            text = text[:position] + text[position + length :]
        else:
            text = text[:position] + draw(MUTATION_CHARS) + text[position:]
    return text


@fuzz
@given(mutated_samples())
def test_mutated_sample_configs(xml):
    parse_or_config_error(xml)


TAG_NAMES = st.sampled_from(
    [*sorted(TAGS), *sorted(HTML_LAYOUT_TAGS), "Foo", "script", "view", "iframe", "x:View"]
)
ATTR_NAMES = st.sampled_from(
    [
        "name",
        "toName",
        "value",
        "valueList",
        "hotkey",
        "choice",
        "maxRating",
        "min",
        "max",
        "maxSubmissions",
        "perRegion",
        "on",
        "indexFlag",
        "apiUrl",
        "alias",
        "onclick",
        "data",
    ]
)
ATTR_VALUES = st.one_of(
    st.sampled_from(
        [
            "t",
            "a",
            "b",
            "a,b",
            "$text",
            "$a.b",
            "$1",
            "$",
            "$x[{{idx}}]",
            "{{idx}}",
            "1",
            "0",
            "-1",
            "3.5",
            "true",
            "single",
            "multiple",
            "",
            "x",
        ]
    ),
    st.text(max_size=8),
)


def element(tag: str, attrs: dict[str, str], children: list[str]) -> str:
    rendered = "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
    return f"<{tag}{rendered}>{''.join(children)}</{tag}>"


elements = st.recursive(
    st.builds(
        element, TAG_NAMES, st.dictionaries(ATTR_NAMES, ATTR_VALUES, max_size=4), st.just([])
    ),
    lambda children: st.builds(
        element,
        TAG_NAMES,
        st.dictionaries(ATTR_NAMES, ATTR_VALUES, max_size=4),
        st.lists(st.one_of(children, st.text(max_size=5).map(escape)), max_size=4),
    ),
    max_leaves=15,
)


@fuzz_structured
@given(st.lists(elements, max_size=5))
def test_random_trees_of_known_and_unknown_tags(children):
    parse_or_config_error(f"<View>{''.join(children)}</View>")


@fuzz_structured
@given(elements)
def test_random_root_elements(root):
    parse_or_config_error(root)


# Random results


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
VALUE_KEYS = st.sampled_from(
    [
        "start",
        "end",
        "text",
        "labels",
        "choices",
        "taxonomy",
        "x",
        "y",
        "width",
        "height",
        "rotation",
        "points",
        "rating",
        "number",
        "datetime",
        "startOffset",
        "endOffset",
        "rectanglelabels",
        "polygonlabels",
        "paragraphlabels",
        "hypertextlabels",
        "keypointlabels",
    ]
)


@st.composite
def results_for(draw, config: LabelConfig):
    names = [*sorted(config.controls), "junk"]
    objects = [*sorted(config.objects), "junk"]
    types = sorted({t for control in config.controls.values() for t in control.result_types})
    items = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            items.append(draw(JSON))
            continue
        item = {
            "id": draw(st.sampled_from(["a", "b", 1, None])),
            "from_name": draw(st.sampled_from(names)),
            "to_name": draw(st.sampled_from(objects)),
            "type": draw(st.sampled_from([*types, "relation", "junk"])),
            "value": draw(st.dictionaries(VALUE_KEYS, JSON, max_size=5)),
        }
        if item["type"] == "relation":
            item.update(from_id=draw(st.sampled_from(["a", "b", 2])), labels=draw(JSON))
        items.append(item)
    return items


CONFIGS = [parse_config(xml) for xml in SAMPLE_XML]


@fuzz_structured
@given(st.data())
def test_random_results_against_sample_configs(data):
    config = data.draw(st.sampled_from(CONFIGS))
    result = data.draw(results_for(config))
    task = data.draw(
        st.none() | st.dictionaries(st.sampled_from(config.data_fields or ["x"]), JSON)
    )
    validate_or_result_error(config, result, task)


@fuzz_structured
@given(JSON, JSON)
def test_results_and_data_of_any_shape(result, data):
    validate_or_result_error(CONFIGS[0], result, data)


# Entity expansion, external entities and DTDs


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE View [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<View><Header value="&lol9;"/></View>"""

QUADRATIC_BLOWUP = (
    '<!DOCTYPE View [<!ENTITY a "' + "x" * 50_000 + '">]>'
    '<View><Header value="' + "&a;" * 1000 + '"/></View>'
)


def assert_rejected_quickly(xml: str) -> ConfigError:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        parse_config(xml)
    assert time.monotonic() - started < 1
    return caught.value


def test_billion_laughs_is_rejected_without_expansion():
    error = assert_rejected_quickly(BILLION_LAUGHS)
    assert error.issues[0].line == 2
    assert "lollol" not in str(error)


def test_quadratic_blowup_is_rejected():
    assert_rejected_quickly(QUADRATIC_BLOWUP)


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


def test_external_entity_never_reads_the_file(secret_file):
    xml = (
        f'<!DOCTYPE View [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>\n'
        '<View><Header value="&xxe;"/><Text name="t" value="&xxe;">&xxe;</Text></View>'
    )
    error = assert_rejected_quickly(xml)
    assert "TOP-SECRET-CONTENT" not in str(error)
    assert "TOP-SECRET-CONTENT" not in json.dumps([issue.to_dict() for issue in error.issues])


def test_external_entity_to_etc_passwd_is_rejected():
    xml = '<!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><View>&xxe;</View>'
    error = assert_rejected_quickly(xml)
    assert "root:" not in str(error)


def test_external_dtd_is_rejected(secret_file):
    error = assert_rejected_quickly(
        f'<?xml version="1.0"?>\n<!DOCTYPE View SYSTEM "{secret_file.as_uri()}">\n<View/>'
    )
    assert error.issues[0].line == 2
    assert "DOCTYPE" in str(error)


def test_public_dtd_is_rejected():
    assert_rejected_quickly(
        '<!DOCTYPE View PUBLIC "-//EVIL//DTD//EN" "http://example.com/evil.dtd"><View/>'
    )


def test_parameter_entities_are_rejected(secret_file):
    xml = (
        f'<!DOCTYPE View [<!ENTITY % file SYSTEM "{secret_file.as_uri()}">\n'
        "<!ENTITY % wrap \"<!ENTITY leak '%file;'>\"> %wrap;]>\n<View>&leak;</View>"
    )
    error = assert_rejected_quickly(xml)
    assert "TOP-SECRET-CONTENT" not in str(error)


def test_undeclared_entity_reference_is_malformed():
    error = assert_rejected_quickly('<View>\n<Header value="&xxe;"/>\n</View>')
    assert error.issues[0].line == 2


def test_xinclude_is_just_an_unknown_tag(secret_file):
    xml = (
        '<View xmlns:xi="http://www.w3.org/2001/XInclude">\n'
        f'<xi:include href="{secret_file.as_uri()}" parse="text"/>\n</View>'
    )
    error = assert_rejected_quickly(xml)
    assert error.issues[0].tag == "xi:include"
    assert "TOP-SECRET-CONTENT" not in str(error)
