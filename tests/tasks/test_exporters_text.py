"""CONLL2003, SPACY and HF_JSONL exports."""

from __future__ import annotations

import json
import random

import spacy
from spacy.tokens import DocBin

from projects.labelconfig import parse_config
from tasks.exporters import export_stream, read_conll
from tasks.exporters.spans import tokenize
from tests.tasks.exporter_data import (
    TEXT_CONFIG,
    annotation,
    choices_item,
    span_item,
    task,
    text_task,
)


def export(name, tasks, config=TEXT_CONFIG) -> bytes:
    return b"".join(export_stream(name, config=config, tasks=tasks))


def generated(count=40, seed=3):
    rng = random.Random(seed)
    return [text_task(rng, task_id) for task_id in range(1, count + 1)]


def spans_from_tags(text, tags):
    """Rebuild (start, end, label) from BIO tags over the exporter's tokenisation of `text`."""
    spans = []
    for token, tag in zip(tokenize(text), tags, strict=True):
        if tag.startswith("B-"):
            spans.append([token.start, token.end, tag[2:]])
        elif tag.startswith("I-"):
            assert spans and spans[-1][2] == tag[2:], "I- tag without its B-"
            spans[-1][1] = token.end
    return [tuple(span) for span in spans]


def one_task(text, result, task_id=1):
    return task(task_id, {"text": text}, [annotation(1, result)])


# CoNLL 2003


def test_conll_round_trips_token_aligned_spans():
    pairs = generated()
    output = export("CONLL2003", [item for item, _ in pairs]).decode()
    assert output.startswith("-DOCSTART- -X- O\n")
    sentences = read_conll(output)
    assert len(sentences) == len(pairs)
    assert sum(len(spans.spans) for _, spans in pairs) > 20
    for (tokens, tags), (_, spans) in zip(sentences, pairs, strict=True):
        assert tokens == [token.text for token in tokenize(spans.text)]
        assert spans_from_tags(spans.text, tags) == spans.spans


def test_conll_lines_use_the_ls_layout():
    output = export("CONLL2003", [one_task("Hi Bob.", [span_item("Hi Bob.", 3, 6, "PER")])])
    assert output.decode() == "-DOCSTART- -X- O\n\nHi -X- _ O\nBob -X- _ B-PER\n. -X- _ O\n\n"


def test_conll_keeps_the_first_and_outermost_of_overlapping_spans():
    text = "Acme Corp of New York City"
    result = [
        span_item(text, 13, 21, "LOC"),  # "New York", inside the next one
        span_item(text, 13, 26, "LOC"),  # "New York City", outermost
        span_item(text, 0, 12, "ORG"),  # "Acme Corp of"
        span_item(text, 5, 9, "PER"),  # "Corp", overlaps the first span
    ]
    [(_, tags)] = read_conll(export("CONLL2003", [one_task(text, result)]).decode())
    assert tags == ["B-ORG", "I-ORG", "I-ORG", "B-LOC", "I-LOC", "I-LOC"]


def test_conll_expands_spans_to_whole_tokens():
    text = "Visit Zürich today"
    [(_, tags)] = read_conll(
        export("CONLL2003", [one_task(text, [span_item(text, 8, 10, "LOC")])]).decode()
    )
    assert tags == ["O", "B-LOC", "O"]


def test_conll_skips_tasks_without_a_usable_annotation():
    cancelled = task(2, {"text": "skipped"}, [annotation(2, [], cancelled=True)])
    bare = task(3, {"text": "also skipped"})
    negative = one_task("no entities here", [], task_id=4)
    sentences = read_conll(export("CONLL2003", [cancelled, bare, negative]).decode())
    assert sentences == [(["no", "entities", "here"], ["O", "O", "O"])]


def test_read_conll_ignores_docstart_and_blank_runs():
    text = "-DOCSTART- -X- O\n\n\nA -X- _ B-X\nb -X- _ I-X\n\n\nc -X- _ O\n"
    assert read_conll(text) == [(["A", "b"], ["B-X", "I-X"]), (["c"], ["O"])]


# spaCy


def load_docs(data):
    return list(DocBin().from_bytes(data).get_docs(spacy.blank("xx").vocab))


def test_spacy_docbin_has_entities_and_categories():
    pairs = generated()
    docs = load_docs(export("SPACY", [item for item, _ in pairs]))
    assert len(docs) == len(pairs)
    for doc, (item, spans) in zip(docs, pairs, strict=True):
        result = item["annotations"][0]["result"]
        assert doc.text == spans.text
        assert doc.user_data["id"] == item["id"]
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == spans.spans
        chosen = {c for r in result if r["type"] == "choices" for c in r["value"]["choices"]}
        options = {"positive", "negative", "neutral", "sport", "politics", "tech"}
        assert doc.cats == {option: float(option in chosen) for option in options}


def test_spacy_keeps_overlapping_spans_in_the_span_group_only():
    text = "New York City"
    result = [
        span_item(text, 0, 8, "LOC"),
        span_item(text, 0, 13, "LOC"),
        span_item(text, 4, 13, "ORG"),
    ]
    [doc] = load_docs(export("SPACY", [one_task(text, result)]))
    assert [(e.text, e.label_) for e in doc.ents] == [("New York City", "LOC")]
    group = sorted((span.text, span.label_) for span in doc.spans["sc"])
    assert group == [("New York", "LOC"), ("New York City", "LOC"), ("York City", "ORG")]


def test_spacy_skips_unannotated_tasks():
    tasks = [task(1, {"text": "bare"}), one_task("labelled", [], task_id=2)]
    assert [doc.user_data["id"] for doc in load_docs(export("SPACY", tasks))] == [2]


# Hugging Face JSON Lines


def test_hf_jsonl_lines_share_keys_and_types():
    pairs = generated()
    lines = export("HF_JSONL", [item for item, _ in pairs]).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(pairs)
    keys = ["id", "text", "sentiment", "topics", "label", "tokens", "ner_tags"]
    for record, (item, spans) in zip(records, pairs, strict=True):
        assert list(record) == keys
        assert (record["id"], record["text"]) == (item["id"], spans.text)
        assert isinstance(record["sentiment"], str)
        assert isinstance(record["topics"], list)
        assert [(s["start"], s["end"], s["label"]) for s in record["label"]] == spans.spans
        assert all(s["text"] == spans.text[s["start"] : s["end"]] for s in record["label"])
        assert len(record["tokens"]) == len(record["ner_tags"])
        assert spans_from_tags(spans.text, record["ner_tags"]) == spans.spans


def test_hf_jsonl_tags_match_conll():
    tasks = [item for item, _ in generated(10)]
    records = [json.loads(line) for line in export("HF_JSONL", tasks).splitlines()]
    sentences = read_conll(export("CONLL2003", tasks).decode())
    assert [(r["tokens"], r["ner_tags"]) for r in records] == sentences


def test_hf_jsonl_for_classification_has_no_token_columns():
    config = parse_config(
        '<View><Text name="text" value="$text"/>'
        '<Choices name="sentiment" toName="text"><Choice value="positive"/></Choices></View>'
    )
    tasks = [
        one_task("good", [choices_item("sentiment", "positive")]),
        one_task("meh", [], task_id=2),
    ]
    records = [json.loads(line) for line in export("HF_JSONL", tasks, config).splitlines()]
    assert records == [
        {"id": 1, "text": "good", "sentiment": "positive"},
        {"id": 2, "text": "meh", "sentiment": None},
    ]
