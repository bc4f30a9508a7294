"""Bilingual (en/fr) customer-service utterances with intents and entity spans.

Everything is drawn from a seeded `random.Random`, so the same seed always gives the same
utterances; nothing is downloaded.
"""

import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, NamedTuple

from annotator.demo import text_vocab as vocab
from annotator.demo.labelstudio import config_xml, label_elements, random_id

LANGUAGES: tuple[str, ...] = ("en", "fr")
INTENTS: tuple[str, ...] = tuple(vocab.TEMPLATES["en"])
ENTITY_LABELS: tuple[str, ...] = ("DATE", "LOCATION", "PRODUCT", "AMOUNT", "ORDER_ID")
# Config label -> the labels of a pretrained NER (spaCy's French PER/LOC/ORG/MISC) it maps.
NER_MAP: dict[str, str] = {"LOCATION": "LOC"}

# Letters for entity labels and digits for intents keep every hotkey in the config distinct.
_ENTITY_STYLE: dict[str, tuple[str, str]] = {
    "DATE": ("#4e79a7", "d"),
    "LOCATION": ("#59a14f", "l"),
    "PRODUCT": ("#f28e2b", "p"),
    "AMOUNT": ("#e15759", "a"),
    "ORDER_ID": ("#b07aa1", "o"),
}
_SLOT = re.compile(r"\{([A-Z_]+)\}")
# Above this many utterances the template space is too small to promise unique texts cheaply.
_DEDUPE_LIMIT = 500
_DEDUPE_ATTEMPTS = 50
MODEL_VERSION = "demo-v0"


class EntitySpan(NamedTuple):
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class DemoUtterance:
    text: str
    lang: str
    intent: str
    entities: list[EntitySpan]
    # Previous dialogue turns, `{"author": "agent" | "customer", "text": ...}`, oldest first.
    context: list[dict[str, str]]


def generate_utterances(n: int, *, seed: int = 0) -> list[DemoUtterance]:
    """`n` utterances, half English and half French, unique texts when `n` <= 500."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    langs = [LANGUAGES[i % len(LANGUAGES)] for i in range(n)]
    rng.shuffle(langs)
    seen: set[str] = set()
    utterances: list[DemoUtterance] = []
    for lang in langs:
        utterance = _utterance(lang, rng)
        if n <= _DEDUPE_LIMIT:
            for _ in range(_DEDUPE_ATTEMPTS):
                if utterance.text not in seen:
                    break
                utterance = _utterance(lang, rng)
        seen.add(utterance.text)
        utterances.append(utterance)
    return utterances


def _utterance(lang: str, rng: random.Random) -> DemoUtterance:
    intent = rng.choice(INTENTS)
    template = rng.choice(vocab.TEMPLATES[lang][intent])
    text, entities = _fill(template, lang, rng)
    return DemoUtterance(
        text=text, lang=lang, intent=intent, entities=entities, context=_context(lang, rng)
    )


def _fill(template: str, lang: str, rng: random.Random) -> tuple[str, list[EntitySpan]]:
    parts: list[str] = []
    values: list[str] = []
    entities: list[EntitySpan] = []
    length = 0
    cursor = 0
    for match in _SLOT.finditer(template):
        literal = template[cursor : match.start()]
        value = _slot_value(match.group(1), lang, rng)
        start = length + len(literal)
        parts += [literal, value]
        values.append(value)
        entities.append(EntitySpan(start, start + len(value), vocab.SLOT_LABELS[match.group(1)]))
        length = start + len(value)
        cursor = match.end()
    parts.append(template[cursor:])
    text = "".join(parts)
    # Offsets are counted by hand above; annotations built from them must select the slot text.
    assert all(text[e.start : e.end] == v for e, v in zip(entities, values, strict=True))
    return text, entities


def _slot_value(slot: str, lang: str, rng: random.Random) -> str:
    if slot == "DATE_PAST":
        return _date(lang, "past", rng)
    if slot == "DATE_FUTURE":
        return _date(lang, "future", rng)
    if slot == "LOCATION":
        if rng.random() < 0.3:
            return rng.choice(vocab.STREET_ADDRESSES[lang])
        return rng.choice(vocab.CITIES)
    if slot == "PRODUCT":
        return rng.choice(vocab.PRODUCTS[lang])
    if slot == "AMOUNT":
        return _amount(lang, rng)
    if slot == "ORDER_ID":
        return _order_id(rng)
    raise ValueError(f"unknown slot {slot!r}")


def _date(lang: str, tense: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(vocab.RELATIVE_DATES[lang][tense])
    day = rng.randint(1, 28)
    month = rng.choice(vocab.MONTHS[lang])
    if lang == "en":
        return f"{month} {day}"
    return f"le {'1er' if day == 1 else day} {month}"


def _amount(lang: str, rng: random.Random) -> str:
    units = rng.randint(5, 400)
    cents = rng.choice((0, 99, 50, 90, 49))
    if lang == "en":
        return rng.choice(
            (f"${units}", f"${units}.{cents:02d}", f"{units}.{cents:02d} EUR", f"£{units}")
        )
    return rng.choice(
        (f"{units} €", f"{units},{cents:02d} €", f"{units} euros", f"{units},{cents:02d} EUR")
    )


def _order_id(rng: random.Random) -> str:
    digits = "".join(rng.choices("0123456789", k=7))
    letters = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=2))
    return rng.choice((f"#{digits[:6]}", f"CMD-{digits}", f"ORD-{digits}", f"{letters}{digits}"))


def _context(lang: str, rng: random.Random) -> list[dict[str, str]]:
    greeting = {"author": "agent", "text": rng.choice(vocab.AGENT_GREETINGS[lang])}
    opening = {"author": "customer", "text": rng.choice(vocab.CUSTOMER_OPENINGS[lang])}
    follow_up = {"author": "agent", "text": rng.choice(vocab.AGENT_FOLLOW_UPS[lang])}
    return rng.choice(([greeting], [opening, follow_up], [greeting, opening, follow_up]))


def intent_entity_config() -> str:
    """Label Studio config: the dialogue so far, entity spans on the utterance, one intent."""
    view = ET.Element("View")
    ET.SubElement(
        view,
        "Paragraphs",
        name="context",
        value="$context",
        layout="dialogue",
        nameKey="author",
        textKey="text",
    )
    ET.SubElement(view, "Text", name="text", value="$text")
    labels = ET.SubElement(view, "Labels", name="entities", toName="text")
    label_elements(labels, {label: _ENTITY_STYLE[label] for label in ENTITY_LABELS})
    for element in labels:
        # Label Studio's ML-backend convention: the model labels this label stands for
        # (fr_core_news_sm's LOC pre-annotates LOCATION in French projects).
        if element.get("value") in NER_MAP:
            element.set("predicted_values", NER_MAP[element.get("value", "")])
    choices = ET.SubElement(
        view, "Choices", name="intent", toName="text", choice="single", showInline="true"
    )
    for number, intent in enumerate(INTENTS, start=1):
        ET.SubElement(choices, "Choice", value=intent, hotkey=str(number))
    return config_xml(view)


def utterance_task(
    u: DemoUtterance, *, with_annotation: bool, with_prediction: bool, rng: random.Random
) -> dict[str, Any]:
    """A Label Studio task for `u`; `annotations`/`predictions` are empty lists when not asked.

    The annotation is the ground truth; the prediction is deliberately imperfect (wrong intent,
    missed or mislabelled spans) so review and agreement screens have something to show.
    """
    task: dict[str, Any] = {
        "data": {"text": u.text, "context": [dict(turn) for turn in u.context], "lang": u.lang},
        "annotations": [],
        "predictions": [],
    }
    if with_annotation:
        result = [_span_result(u, span, span.label, rng) for span in u.entities]
        result.append(_intent_result(u.intent, rng))
        task["annotations"].append({"result": result})
    if with_prediction:
        task["predictions"].append(_noisy_prediction(u, rng))
    return task


def _noisy_prediction(u: DemoUtterance, rng: random.Random) -> dict[str, Any]:
    result: list[dict[str, Any]] = []
    for span in u.entities:
        if rng.random() < 0.15:
            continue
        if rng.random() < 0.05:
            wrong = rng.choice([label for label in ENTITY_LABELS if label != span.label])
            item = _span_result(u, span, wrong, rng, score=rng.uniform(0.3, 0.6))
        else:
            item = _span_result(u, span, span.label, rng, score=rng.uniform(0.6, 0.99))
        result.append(item)
    if rng.random() < 0.2:
        wrong_intent = rng.choice([intent for intent in INTENTS if intent != u.intent])
        result.append(_intent_result(wrong_intent, rng, score=rng.uniform(0.3, 0.6)))
    else:
        result.append(_intent_result(u.intent, rng, score=rng.uniform(0.6, 0.99)))
    overall = sum(item["score"] for item in result) / len(result)
    return {"result": result, "score": round(overall, 4), "model_version": MODEL_VERSION}


def _span_result(
    u: DemoUtterance,
    span: EntitySpan,
    label: str,
    rng: random.Random,
    score: float | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": random_id(rng),
        "from_name": "entities",
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": span.start,
            "end": span.end,
            "text": u.text[span.start : span.end],
            "labels": [label],
        },
    }
    if score is not None:
        item["score"] = round(score, 4)
    return item


def _intent_result(intent: str, rng: random.Random, score: float | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": random_id(rng),
        "from_name": "intent",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [intent]},
    }
    if score is not None:
        item["score"] = round(score, 4)
    return item
