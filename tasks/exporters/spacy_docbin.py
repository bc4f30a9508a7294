"""spaCy training data: a `.spacy` DocBin with one Doc per annotated task.

The one format that is not constant-memory: a DocBin serialises as a single blob and two DocBins
cannot be concatenated, so every Doc is kept (as compact token arrays, not Doc objects) until the
end. Budget about the size of the output file in memory.

Every Doc uses the blank multi-language ("xx") tokenizer so one vocab serves mixed-language
projects; load with `DocBin().from_bytes(data).get_docs(spacy.blank("xx").vocab)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from projects.labelconfig import ControlTag, LabelConfig

from .base import CHUNK_SIZE, Annotation, ExportOptions, Task, result_items
from .spans import LabelledText, labelled_texts, text_source

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span


def _cats(controls: list[ControlTag], annotation: Annotation) -> dict[str, float]:
    """1.0 for each chosen option, 0.0 for the control's other options (textcat convention)."""
    cats: dict[str, float] = {}
    for control in controls:
        for label in control.labels:
            # LS writes the alias into results when a Choice has one.
            cats[label.alias or label.value] = 0.0
        for item in result_items(annotation, [control.name]):
            for choice in (item.get("value") or {}).get("choices") or []:
                cats[choice] = 1.0
    return cats


def _entities(spans: list[Span]) -> list[Span]:
    # The same rule as CoNLL's BIO tags: earliest start wins, then the outermost span.
    kept: list[Span] = []
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def _doc(make_doc: Callable[[str], Doc], labelled: LabelledText, choices: list[ControlTag]) -> Doc:
    doc = make_doc(labelled.text)
    spans = [
        doc.char_span(span.start, span.end, label=span.label, alignment_mode="expand")
        for span in labelled.spans
    ]
    found = [span for span in spans if span is not None]
    doc.spans["sc"] = found
    doc.ents = _entities(found)
    doc.cats = _cats(choices, labelled.annotation)
    doc.user_data["id"] = labelled.task.get("id")
    return doc


def write_spacy(
    config: LabelConfig, tasks: Iterable[Task], options: ExportOptions
) -> Iterator[bytes]:
    # Imported here because spaCy takes about a second to import and only this format needs it.
    import spacy
    from spacy.tokens import DocBin

    source = text_source(config, need_spans=False)
    assert source is not None  # export_stream checked the config
    nlp = spacy.blank("xx")
    docbin = DocBin(store_user_data=True)
    for labelled in labelled_texts(tasks, source, options):
        docbin.add(_doc(nlp.make_doc, labelled, source.choice_controls))
    data = docbin.to_bytes()
    for offset in range(0, len(data), CHUNK_SIZE):
        yield data[offset : offset + CHUNK_SIZE]
