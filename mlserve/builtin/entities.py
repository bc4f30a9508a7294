"""The built-in entity recogniser: a spaCy transition-based NER trained on a project's spans.

Start: a blank pipeline of the project's language, or for French ``fr_core_news_sm``'s
tokenizer and the trained token encoder of its NER (a fresh output layer learns the project's
labels). Both are local files: nothing downloads.

Training and prediction are greedy (spaCy's default and fastest); a beam search over the same
model scores each predicted span by the share of the beam's probability on parses that
contain it (``EntityRecognizer.scored_ents``). How well that score separates right from
wrong spans each version measures on its validation split (``score_correct`` vs
``score_wrong`` in its metrics).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import spacy
import srsly
from spacy.language import Language
from spacy.training import Example
from spacy.training.batchers import minibatch_by_words
from spacy.util import compounding, load_model_from_config
from thinc.api import Adam, Config

FRENCH_BASE = "fr_core_news_sm"
_FRENCH_UNUSED = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer"]
# spaCy's efficiency NER (``spacy init config --pipeline ner``, and fr_core_news_sm's own):
# hashed NORM/PREFIX/SUFFIX/SHAPE embeddings, a 4-layer CNN, a transition-based parser.
NER_MODEL: dict[str, Any] = {
    "@architectures": "spacy.TransitionBasedParser.v2",
    "state_type": "ner",
    "extra_state_tokens": False,
    "hidden_width": 64,
    "maxout_pieces": 2,
    "use_upper": True,
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 96,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
            "rows": [5000, 1000, 2500, 2500],
            "include_static_vectors": False,
        },
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 96,
            "depth": 4,
            "window_size": 1,
            "maxout_pieces": 3,
        },
    },
}
BEAM_WIDTH = 8
# Batches grow from this many words to 1000 (spaCy's default).
BATCH_WORDS_START = 100.0
PREDICT_BATCH = 256


class Span(NamedTuple):
    start: int
    end: int
    label: str


class ScoredSpan(NamedTuple):
    start: int
    end: int
    label: str
    score: float


@dataclass
class AlignmentCounts:
    kept: int = 0
    expanded: int = 0  # character span widened to whole tokens
    dropped: int = 0  # empty after alignment, or overlapping a kept span

    def as_dict(self) -> dict[str, int]:
        return {"kept": self.kept, "expanded": self.expanded, "dropped": self.dropped}


def entity_scores(
    truth: Sequence[Iterable[Span | tuple[int, int, str]]],
    predicted: Sequence[Iterable[Span | ScoredSpan | tuple[Any, ...]]],
) -> dict[str, Any]:
    """Exact-match entity precision, recall and F1 (character offsets and label must all
    agree), per label and micro-averaged over all spans; values in [0, 1]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    for gold_spans, guess_spans in zip(truth, predicted, strict=True):
        gold = {(s[0], s[1], s[2]) for s in gold_spans}
        guess = {(s[0], s[1], s[2]) for s in guess_spans}
        for span in gold & guess:
            counts[span[2]][0] += 1
        for span in guess - gold:
            counts[span[2]][1] += 1
        for span in gold - guess:
            counts[span[2]][2] += 1

    def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    per_label = {label: {**prf(*c), "support": c[0] + c[2]} for label, c in sorted(counts.items())}
    return {**prf(*total), "per_label": per_label}


def beam_entities(
    nlp: Language, texts: Sequence[str], *, beam_width: int = BEAM_WIDTH
) -> list[list[ScoredSpan]]:
    """Entities of ``texts`` by ``nlp``'s "ner" pipe: the greedy parse's spans (what the
    model was trained to decode: on SNIPS the beam's best parse of a greedily trained model
    scored 81.0 test F1 against the greedy parse's 89.6), each scored by the share of a
    beam search's probability on the parses holding that exact span (0 when none has it)."""
    ner: Any = nlp.get_pipe("ner")
    found: list[list[ScoredSpan]] = []
    for start in range(0, len(texts), PREDICT_BATCH):
        docs = [nlp.make_doc(t) for t in texts[start : start + PREDICT_BATCH]]
        for name, pipe in nlp.pipeline:  # components before the NER (none in ours)
            if name == "ner":
                break
            docs = list(pipe.pipe(docs))  # type: ignore[attr-defined]
        nonempty = [d for d in docs if len(d)]
        scores: dict[int, dict[tuple[int, int, str], float]] = {}
        if nonempty:
            beams = ner.beam_parse(nonempty, beam_width=beam_width)
            for doc, scored in zip(nonempty, ner.scored_ents(beams), strict=True):
                scores[id(doc)] = scored
            ner.set_annotations(nonempty, ner.greedy_parse(nonempty))
        for doc in docs:
            scored = scores.get(id(doc), {})
            found.append(
                [
                    ScoredSpan(
                        e.start_char,
                        e.end_char,
                        e.label_,
                        round(
                            min(1.0, max(0.0, float(scored.get((e.start, e.end, e.label_), 0.0)))),
                            4,
                        ),
                    )
                    for e in doc.ents
                ]
            )
    return found


def _blank(lang: str) -> Language:
    try:
        return spacy.blank(lang)
    except ImportError:  # a language spaCy has no class for: its generic tokenizer
        return spacy.blank("xx")


def _start_pipeline(lang: str) -> tuple[Language, Any, str]:
    """A pipeline with a fresh "ner" of spaCy's efficiency architecture (the one its
    quickstart config and ``fr_core_news_sm`` use), and for French the trained token
    encoder of ``fr_core_news_sm``'s NER to copy in once initialised (its PER/LOC/ORG/MISC
    output layer is not kept: resuming it let the old labels outvote the project's)."""
    if lang == "fr":
        try:
            base = spacy.load(FRENCH_BASE, exclude=_FRENCH_UNUSED)
        except OSError:  # the package is missing: a blank French pipeline still works
            base = None
        if base is not None:
            nlp = spacy.blank("fr")
            nlp.add_pipe("ner", config={"model": NER_MODEL})
            encoder = base.get_pipe("ner").model.get_ref("tok2vec")  # type: ignore[attr-defined]
            return nlp, encoder, f"{FRENCH_BASE}-{base.meta.get('version', '')}"
    nlp = _blank(lang)
    nlp.add_pipe("ner", config={"model": NER_MODEL})
    return nlp, None, f"blank:{nlp.lang}"


def _align(nlp: Language, text: str, spans: Iterable[Span], counts: AlignmentCounts) -> Example:
    doc = nlp.make_doc(text)
    offsets: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for start, end, label in sorted(spans):
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or not len(span) or taken & set(range(span.start, span.end)):
            counts.dropped += 1
            continue
        if (span.start_char, span.end_char) != (start, end):
            counts.expanded += 1
        counts.kept += 1
        taken.update(range(span.start, span.end))
        offsets.append((span.start_char, span.end_char, label))
    return Example.from_dict(doc, {"entities": offsets})


@dataclass
class EntityRecognizer:
    nlp: Language
    labels: list[str]
    base: str
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        train: Sequence[tuple[str, Sequence[Span]]],
        *,
        lang: str = "en",
        valid: Sequence[tuple[str, Sequence[Span]]] = (),
        max_epochs: int = 30,
        patience: int = 3,
        min_epochs: int = 5,
        time_limit: float = 240.0,
        seed: int = 0,
        progress: Callable[[float], None] | None = None,
    ) -> EntityRecognizer:
        """Train until validation F1 stops improving for ``patience`` epochs, ``max_epochs``
        or ``time_limit`` seconds, whichever comes first; keep the best epoch's weights."""
        started = time.perf_counter()
        spacy.util.fix_random_seed(seed)
        nlp, encoder, base = _start_pipeline(lang)
        counts = AlignmentCounts()
        examples = [_align(nlp, text, spans, counts) for text, spans in train]
        labels = sorted({e.label_ for ex in examples for e in ex.reference.ents})
        if not labels:
            raise ValueError("training needs at least one entity span")
        ner = nlp.get_pipe("ner")
        for label in labels:
            ner.add_label(label)  # type: ignore[attr-defined]
        # spaCy's training defaults (weight decay, clipping, parameter averages: the
        # averaged weights are the ones evaluated and kept).
        optimizer = Adam(0.001, L2=0.01, L2_is_weight_decay=True, grad_clip=1.0, use_averages=True)
        nlp.initialize(lambda: examples, sgd=optimizer)
        if encoder is not None:
            ner.model.get_ref("tok2vec").from_bytes(encoder.to_bytes())  # type: ignore[attr-defined]
        rng = random.Random(seed)  # noqa: S311 - reproducible shuffles, not security
        best_f1, best_bytes, best_epoch, stale, epochs = float("-inf"), b"", 0, 0, 0
        history = []
        sizes = compounding(BATCH_WORDS_START, 1000.0, 1.001)
        for epoch in range(1, max_epochs + 1):
            rng.shuffle(examples)
            losses: dict[str, float] = {}
            # spaCy's default batching (about 1000 words): fast epochs, stable updates.
            for batch in minibatch_by_words(examples, size=sizes, tolerance=0.2):  # type: ignore[arg-type]
                nlp.update(batch, sgd=optimizer, drop=0.1, losses=losses)
                if time.perf_counter() - started >= time_limit:
                    break  # the time bound holds within an epoch too
            epochs = epoch
            loss = round(float(losses.get("ner", 0.0)), 2)
            with nlp.use_params(optimizer.averages):
                if valid:
                    guess = cls(nlp=nlp, labels=labels, base=base)._greedy([t for t, _ in valid])
                    f1 = entity_scores([spans for _, spans in valid], guess)["f1"]
                else:
                    f1 = -loss  # no validation: the training loss decides
                if f1 > best_f1:
                    best_f1, best_bytes, best_epoch, stale = f1, nlp.to_bytes(), epoch, 0
                else:
                    stale += 1
            history.append({"epoch": epoch, "valid_f1": round(f1, 4), "loss": loss})
            elapsed = time.perf_counter() - started
            if progress is not None:
                progress(min(1.0, max(epoch / max_epochs, elapsed / time_limit)))
            # A small data set can sit at F1 0 for its first epochs: no early stop before
            # min_epochs.
            if (stale >= patience and epoch >= min_epochs) or elapsed >= time_limit:
                break
        nlp.from_bytes(best_bytes)
        info = {
            "base": base,
            "lang": nlp.lang,
            "epochs": epochs,
            "best_epoch": best_epoch,
            "history": history,
            "alignment": counts.as_dict(),
        }
        return cls(nlp=nlp, labels=labels, base=base, info=info)

    def _greedy(self, texts: Sequence[str]) -> list[list[Span]]:
        return [
            [Span(e.start_char, e.end_char, e.label_) for e in doc.ents]
            for doc in self.nlp.pipe(texts, batch_size=PREDICT_BATCH)
        ]

    def predict(
        self, texts: Sequence[str], *, beam_width: int = BEAM_WIDTH
    ) -> list[list[ScoredSpan]]:
        """The beam's best parse of each text, each span with its beam probability in [0, 1]."""
        return beam_entities(self.nlp, texts, beam_width=beam_width)

    def evaluate(self, texts: Sequence[str], truth: Sequence[Sequence[Span]]) -> dict[str, Any]:
        """Entity P/R/F1 of the scored predictions, and the mean score of right and wrong
        spans (a useful score is higher on the right ones)."""
        predicted = self.predict(texts)
        metrics = entity_scores(truth, predicted)
        right: list[float] = []
        wrong: list[float] = []
        for gold, guess in zip(truth, predicted, strict=True):
            gold_set = {(s[0], s[1], s[2]) for s in gold}
            for span in guess:
                (right if (span.start, span.end, span.label) in gold_set else wrong).append(
                    span.score
                )
        metrics["score_correct"] = round(sum(right) / len(right), 4) if right else None
        metrics["score_wrong"] = round(sum(wrong) / len(wrong), 4) if wrong else None
        return metrics

    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps(
            {
                "config": self.nlp.config.to_str(),
                "model": self.nlp.to_bytes(),
                "labels": self.labels,
                "base": self.base,
                "info": self.info,
            }
        )

    @staticmethod
    def from_bytes(data: bytes) -> EntityRecognizer:
        payload = srsly.msgpack_loads(data)
        if not isinstance(payload, dict) or "config" not in payload:
            raise ValueError("not an entity recogniser artifact")
        nlp = load_model_from_config(Config().from_str(payload["config"]), auto_fill=True)
        nlp.from_bytes(payload["model"])
        return EntityRecognizer(
            nlp=nlp, labels=list(payload["labels"]), base=payload["base"], info=payload["info"]
        )
