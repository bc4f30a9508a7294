// <Text>, <HyperText> and labelled <Paragraphs>: the text, its spans as stacked underlines,
// and span creation by mouse (drag, then a label key or with a label chosen first) or by
// keyboard (the text has focus: arrows select words, Shift+arrows extend, Up/Down jump
// between entity-like tokens, phrases the project already knows and the prediction's spans,
// then the label key).
//
// The text is made of parts, each rendered in its own host element: one for Text; one per
// text node of the (server-sanitised) HTML for HyperText; one per utterance for Paragraphs.
// Offsets inside the tag are global (the parts' texts one after the other; utterances
// separated by a line break); a region's value is written in its object's Label Studio shape
// (`valueFor`) and read back from it (`rangeOf`).

import { clear, el } from "../../common/dom.js";
import { colorOf, labelColors } from "./colors.js";
import {
  candidates,
  htmlDocument,
  levels,
  occurrences,
  resolvePath,
  segments,
  stepStop,
  stops,
  tokenize,
  trimRange,
} from "./textspans.js";

const BAR = 4; // px between stacked underlines
const MODES = { Text: "text", HyperText: "hypertext", HTML: "hypertext", Paragraphs: "paragraphs" };

function labelsOf(item) {
  const value = item.value;
  return value[item.type] || value.labels || value.hypertextlabels || value.paragraphlabels || [];
}

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

// Offset in the text of a DOM point inside the rendered segments.
function pointOffset(root, node, offset) {
  const seg = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node)?.closest?.(".seg");
  if (seg && root.contains(seg)) {
    const base = Number(seg.dataset.start);
    if (node.nodeType === Node.TEXT_NODE) return base + offset;
    return offset === 0 ? base : Number(seg.dataset.end);
  }
  // A point between segments (or on a chip): the nearest segment boundary before it.
  const segs = [...root.querySelectorAll(".seg")];
  const range = document.createRange();
  range.setStart(node, offset);
  let best = 0;
  for (const s of segs) {
    if (range.comparePoint(s, 0) >= 0) break;
    best = Number(s.dataset.end);
  }
  return best;
}

export class TextTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.name = ctx.name;
    this.mode = MODES[ctx.tag] || "text";
    this.colors = labelColors(ctx.schema);
    this.caret = null; // keyboard selection {start, end}
    this.pending = null; // mouse selection waiting for a label key
    this.active = null; // {control, label} chosen before drawing
    this.body = el("div", { class: "lv-text-body" });
    this.build();
    this.el = el(
      "div",
      {
        class: `lv-text lv-${this.mode}-text`,
        tabindex: "0",
        role: "document",
        "aria-label": `${ctx.tag} ${ctx.name}: arrows select words, then press a label key`,
        dataset: { name: ctx.name },
      },
      this.body,
    );
    this.el.addEventListener("mouseup", () => this.onMouseUp());
    this.el.addEventListener("click", (event) => this.onClick(event));
    this.el.addEventListener("keydown", (event) => this.onKey(event));
    ctx.subscribe(() => this.render());
    ctx.on("selection:cancel", () => this.cancel());
    ctx.on("labels:active", (detail) => this.setActive(detail));
    this.documentKeys();
    this.render();
  }

  // The parts ({start, end, host, xpath?, index?}), the text and its tokens.
  build() {
    const raw = this.ctx.value();
    if (this.mode === "hypertext") {
      const html = this.ctx.task?.html?.[this.name];
      // Only the server's sanitised HTML is rendered as HTML; without it, the text alone.
      const { body, texts } = htmlDocument(typeof html === "string" ? html : "");
      this.parts = texts.map((t) => {
        const host = document.createElement("span");
        host.className = "lv-part";
        t.node.replaceWith(host);
        return { start: t.start, end: t.end, xpath: t.xpath, host, data: t.node.data, block: t.block };
      });

      this.text = this.parts.map((p) => p.data).join("");
      this.body.append(...body.childNodes);
    } else if (this.mode === "paragraphs") {
      const nameKey = this.ctx.attrs.nameKey || "author";
      const textKey = this.ctx.attrs.textKey || "text";
      const rows = Array.isArray(raw) ? raw : raw == null ? [] : [{ [textKey]: String(raw) }];
      const list = el("ol", { class: `lv-paragraphs${this.ctx.attrs.layout === "dialogue" ? " dialogue" : ""}` });
      let offset = 0;
      this.parts = rows.map((row, index) => {
        const author = row && typeof row === "object" ? row[nameKey] : "";
        const said = row && typeof row === "object" ? row[textKey] : row;
        const data = said == null ? "" : String(said);
        const host = el("span", { class: "said lv-part" });
        list.append(
          el(
            "li",
            { class: `turn ${author ? `by-${String(author).replace(/[^a-z0-9_-]/gi, "")}` : ""}`, dataset: { index } },
            author ? el("span", { class: "author", text: String(author) }) : null,
            host,
          ),
        );
        const part = { start: offset, end: offset + data.length, host, index, data };
        offset = part.end + 1; // a line break between utterances: no word spans two
        return part;
      });
      this.text = this.parts.map((p) => p.data).join("\n");
      this.body.append(list);
    } else {
      this.text = raw == null ? "" : String(raw);
      this.parts = [{ start: 0, end: this.text.length, host: this.body }];
    }
    // Tokens never cross parts (text nodes of HTML blocks are not separated by spaces); the
    // first word of each HTML block starts a sentence (no "." or line break says so).
    this.tokens = [];
    const blockStarts = new Set();
    let block = null;
    for (const p of this.parts) {
      for (const t of tokenize(p.data ?? this.text)) {
        const token = { start: t.start + p.start, end: t.end + p.start };
        if (p.block && p.block !== block) blockStarts.add(token.start);
        block = p.block ?? block;
        this.tokens.push(token);
      }
    }
    this.candidates = candidates(this.text, this.tokens, blockStarts);
    this.cuts = this.parts.flatMap((p) => [p.start, p.end]);
  }

  documentKeys() {
    const keys = [
      ["right / left", "select the next / previous word (text focused)"],
      ["shift+right / shift+left", "extend / shrink the selection by a word"],
      ["down / up", "select the next / previous entity: a known phrase, a predicted span, a number or name"],
      ["home / end", "first / last word"],
    ];
    for (const [keys_, description] of keys) this.ctx.documentKey({ keys: keys_, description });
  }

  // --- geometry: Label Studio values <-> offsets ----------------------------------------------
  partAt(offset, isEnd = false) {
    return this.parts.find((p) => (isEnd ? offset > p.start && offset <= p.end : offset >= p.start && offset < p.end)) || null;
  }

  // The value of a span over [start, end), without its labels, in the object's shape.
  valueFor(start, end) {
    const text = this.text.slice(start, end);
    if (this.mode === "hypertext") {
      const a = this.partAt(start);
      const b = this.partAt(end, true);
      return { start: a.xpath, end: b.xpath, startOffset: start - a.start, endOffset: end - b.start, globalOffsets: { start, end }, text };
    }
    if (this.mode === "paragraphs") {
      const p = this.partAt(start);
      return { start: String(p.index), end: String(p.index), startOffset: start - p.start, endOffset: end - p.start, text };
    }
    return { start, end, text };
  }

  // Offsets of an item's span in this object, or null (not a span, or not found here).
  rangeOf(item) {
    if (!item || item.to_name !== this.name || !item.value) return null;
    const v = item.value;
    let range = null;
    if (this.mode === "text" || (isNumber(v.start) && isNumber(v.end) && this.mode === "hypertext")) {
      range = isNumber(v.start) && isNumber(v.end) ? { start: v.start, end: v.end } : null;
    } else if (this.mode === "hypertext") {
      const g = v.globalOffsets;
      if (g && isNumber(g.start) && isNumber(g.end)) range = { start: g.start, end: g.end };
      else {
        const start = resolvePath(this.parts, v.start, v.startOffset);
        const end = resolvePath(this.parts, v.end, v.endOffset);
        range = start !== null && end !== null ? { start, end } : null;
      }
    } else {
      const a = this.parts[Number(v.start)];
      const b = this.parts[Number(v.end)];
      const known = v.start !== undefined && v.end !== undefined && a && b && isNumber(v.startOffset) && isNumber(v.endOffset);
      range = known ? { start: a.start + v.startOffset, end: b.start + v.endOffset } : null;
    }
    return range && range.end > range.start && range.end <= this.text.length ? range : null;
  }

  // Spans of this object, with their offsets as value.start / value.end (for drawing).
  spans() {
    const found = [];
    for (const item of this.ctx.store.all()) {
      const range = item.type === "relation" ? null : this.rangeOf(item);
      if (range) found.push(this.mode === "text" ? item : { ...item, value: { ...item.value, ...range } });
    }
    return found;
  }

  // Down/Up stops, read when used: the known phrases grow while the page is open.
  stops() {
    const phrases = (this.ctx.phrases?.() || []).map((p) => p.text);
    const predicted = (this.ctx.prediction?.() || []).map((item) => this.rangeOf(item)).filter(Boolean);
    return stops(this.text, this.candidates, phrases, predicted);
  }

  // --- rendering ---------------------------------------------------------------------------
  render() {
    const spans = this.spans();
    const level = levels(spans);
    const selectedId = this.ctx.store.selectedId;
    const marks = [];
    if (this.caret) marks.push({ ...this.caret, kind: "caret" });
    if (this.pending) marks.push({ ...this.pending, kind: "pending" });
    const maxLevel = Math.max(-1, ...level.values());
    const ends = new Map(spans.map((s) => [s.value.end, []]));
    spans.forEach((s) => ends.get(s.value.end).push(s));
    for (const part of this.parts) clear(part.host);
    let index = 0; // pieces and parts are both in text order
    for (const piece of segments(this.text.length, spans, marks, this.cuts)) {
      while (index < this.parts.length && piece.start >= this.parts[index].end) index += 1;
      const part = this.parts[index];
      if (!part || piece.start < part.start) continue; // a line break between utterances
      part.host.append(this.segment(piece, level, maxLevel, selectedId));
      for (const span of ends.get(piece.end) || []) part.host.append(this.chip(span, selectedId));
    }
    this.ctx.emit("spans:render", this.name);
  }

  segment(piece, level, maxLevel, selectedId) {
    const node = el("span", { class: "seg", dataset: { start: piece.start, end: piece.end } }, this.text.slice(piece.start, piece.end));
    if (piece.covering.length) {
      const images = [];
      const sizes = [];
      const positions = [];
      for (const span of piece.covering) {
        const color = colorOf(this.colors, span.from_name, labelsOf(span)[0]);
        images.push(`linear-gradient(${color}, ${color})`);
        sizes.push(`100% 3px`);
        positions.push(`0 calc(100% - ${level.get(span.id) * BAR}px)`);
      }
      Object.assign(node.style, {
        backgroundImage: images.join(", "),
        backgroundSize: sizes.join(", "),
        backgroundPosition: positions.join(", "),
        backgroundRepeat: "no-repeat",
        paddingBottom: `${(maxLevel + 1) * BAR}px`,
      });
      node.classList.add("in-span");
      node.title = piece.covering.map((s) => `${labelsOf(s).join(", ")}: ${s.value.text ?? ""}`).join("\n");
      if (piece.covering.some((s) => s.id === selectedId)) node.classList.add("selected");
    }
    for (const kind of piece.marked) node.classList.add(kind);
    return node;
  }

  chip(span, selectedId) {
    const labels = labelsOf(span);
    const color = colorOf(this.colors, span.from_name, labels[0]);
    const conf = this.ctx.confidence(span.score);
    const text = conf ? `${labels.join(", ")} ${Math.round(span.score * 100)}%` : labels.join(", ");
    const chip = el("span", {
      class: `lv-chip${conf ? ` conf-${conf}` : ""}${span.id === selectedId ? " selected" : ""}`,
      dataset: { region: span.id },
      "aria-hidden": "true",
      text,
    });
    chip.style.borderColor = color;
    chip.style.color = color;
    return chip;
  }

  // Client rectangles of a span (for the relation arcs): its first and last segment.
  spanRects(id) {
    const segs = [...this.body.querySelectorAll(".seg.in-span")];
    const item = this.spans().find((s) => s.id === id);
    if (!item) return null;
    const inside = segs.filter((s) => Number(s.dataset.start) >= item.value.start && Number(s.dataset.end) <= item.value.end);
    if (!inside.length) return null;
    return { first: inside[0].getBoundingClientRect(), last: inside[inside.length - 1].getBoundingClientRect() };
  }

  // --- selection ---------------------------------------------------------------------------
  setActive(detail) {
    this.active = detail && detail.objects.includes(this.name) ? detail : null;
  }

  cancel() {
    const had = Boolean(this.caret || this.pending);
    this.caret = null;
    this.pending = null;
    window.getSelection()?.removeAllRanges();
    this.render();
    return had;
  }

  selection() {
    return this.caret || this.pending;
  }

  // A span stays inside one part for Paragraphs (one utterance) and inside the text.
  clamp({ start, end }) {
    if (this.mode !== "paragraphs") return { start, end };
    const part = this.partAt(start) || this.partAt(end, true);
    if (!part) return { start, end: start };
    return trimRange(this.text, Math.max(start, part.start), Math.min(end, part.end));
  }

  onMouseUp() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    if (!this.el.contains(range.commonAncestorContainer)) return;
    const a = pointOffset(this.body, range.startContainer, range.startOffset);
    const b = pointOffset(this.body, range.endContainer, range.endOffset);
    const { start, end } = this.clamp(trimRange(this.text, Math.min(a, b), Math.max(a, b)));
    if (end <= start) return;
    this.caret = null;
    this.justSelected = true;
    if (this.active) {
      sel.removeAllRanges();
      this.createRegion(this.active.control, this.active.label, { start, end });
      return;
    }
    this.pending = { start, end };
  }

  onClick(event) {
    if (this.justSelected) {
      this.justSelected = false;
      return;
    }
    const chip = event.target.closest(".lv-chip");
    if (chip) {
      this.ctx.store.select(chip.dataset.region);
      return;
    }
    const seg = event.target.closest(".seg");
    if (!seg || !window.getSelection()?.isCollapsed) return;
    const at = Number(seg.dataset.start);
    const covering = this.spans()
      .filter((s) => s.value.start <= at && s.value.end > at)
      .sort((a, b) => a.value.end - a.value.start - (b.value.end - b.value.start));
    if (!covering.length) {
      this.ctx.store.select(null);
      return;
    }
    // Clicking again on nested spans walks from the innermost outwards.
    const index = covering.findIndex((s) => s.id === this.ctx.store.selectedId);
    this.ctx.store.select(covering[(index + 1) % covering.length].id);
  }

  onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const handled = this.moveCaret(event.key, event.shiftKey);
    if (!handled) return;
    event.preventDefault();
    event.stopPropagation();
    this.pending = null;
    this.render();
    this.body.querySelector(".seg.caret")?.scrollIntoView?.({ block: "nearest" });
  }

  moveCaret(key, extend) {
    const tokens = this.tokens;
    if (!tokens.length) return false;
    const caret = this.caret;
    const here = caret ? caret.start : -1;
    const next = (list) => list.find((t) => t.start > here) || list[list.length - 1];
    const prev = (list) => [...list].reverse().find((t) => t.start < (caret ? caret.start : Infinity)) || list[0];
    const samePart = (start, end) => this.mode !== "paragraphs" || this.partAt(start) === this.partAt(end, true);
    if (key === "ArrowRight" && extend && caret) {
      const after = tokens.find((t) => t.end > caret.end);
      if (after && samePart(caret.start, after.end)) this.caret = { start: caret.start, end: after.end };
    } else if (key === "ArrowLeft" && extend && caret) {
      const before = [...tokens].reverse().find((t) => t.end < caret.end && t.end > caret.start);
      if (before) this.caret = { start: caret.start, end: before.end };
    } else if (key === "ArrowRight") this.caret = { ...next(tokens) };
    else if (key === "ArrowLeft") this.caret = { ...prev(tokens) };
    else if (key === "ArrowDown" || key === "ArrowUp") {
      const stop = stepStop(this.stops(), caret, key === "ArrowDown" ? 1 : -1);
      if (!stop) return false;
      this.caret = this.clamp({ start: stop.start, end: stop.end });
    } else if (key === "Home") this.caret = { ...tokens[0] };
    else if (key === "End") this.caret = { ...tokens[tokens.length - 1] };
    else return false;
    return true;
  }

  // --- regions -----------------------------------------------------------------------------
  // Called by a Labels control when its label key is pressed: label the pending selection.
  labelSelection(control, label) {
    const range = this.selection();
    if (!range) return false;
    this.createRegion(control, label, range);
    return true;
  }

  createRegion(control, label, range) {
    const { start, end } = this.clamp(range);
    if (end <= start) return null;
    const value = { ...this.valueFor(start, end), [control.type]: [label.alias || label.value] };
    this.caret = null;
    this.pending = null;
    window.getSelection()?.removeAllRanges();
    const item = this.ctx.store.add({ from_name: control.name, to_name: this.name, type: control.type, value });
    this.ctx.store.select(item.id);
    this.el.focus({ preventScroll: true });
    return item;
  }

  // Label every other occurrence of the region's text the same way (one undo step).
  propagate(regionId) {
    const region = this.ctx.store.get(regionId);
    const range = this.rangeOf(region);
    if (!range) return 0;
    const labels = labelsOf(region);
    const existing = new Set(this.spans().map((s) => `${s.value.start}:${s.value.end}:${labelsOf(s).join()}`));
    const fresh = occurrences(this.text, this.text.slice(range.start, range.end))
      .map((o) => this.clamp(o))
      .filter((o) => o.end > o.start && !existing.has(`${o.start}:${o.end}:${labels.join()}`));
    this.ctx.store.transact("propagate", () => {
      for (const o of fresh) {
        const value = { ...region.value, ...this.valueFor(o.start, o.end) };
        this.ctx.store.add({ from_name: region.from_name, to_name: this.name, type: region.type, value });
      }
    });
    return fresh.length;
  }

  // Known entities of the project ({text, label, from_name}) present in this text, not yet labelled.
  suggestionsFrom(known) {
    const labelled = new Set(this.spans().map((s) => `${s.value.start}:${s.value.end}`));
    const found = [];
    for (const entry of known) {
      for (const o of occurrences(this.text, entry.text)) {
        if (!labelled.has(`${o.start}:${o.end}`)) found.push({ ...entry, ...o });
      }
    }
    return found;
  }

  addSpan(fromName, type, start, end, label) {
    const value = { ...this.valueFor(start, end), [type]: [label] };
    return this.ctx.store.add({ from_name: fromName, to_name: this.name, type, value });
  }

  focus() {
    this.el.focus({ preventScroll: true });
  }
}

export default {
  mount(ctx) {
    return new TextTag(ctx);
  },
};
