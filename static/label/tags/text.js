// <Text> and <HyperText>: the text, its spans as stacked underlines, and span creation by
// mouse (drag, then a label key or with a label chosen first) or by keyboard (the text has
// focus: arrows select words, Shift+arrows extend, Up/Down jump between entity-like tokens,
// phrases the project already knows and the prediction's spans, then the label key). HyperText is shown as its text (markup dropped): offsets count that text.

import { clear, el } from "../../common/dom.js";
import { colorOf, labelColors } from "./colors.js";
import { candidates, htmlToText, levels, occurrences, segments, stepStop, stops, tokenize, trimRange } from "./textspans.js";

const BAR = 4; // px between stacked underlines

function isSpan(item, name) {
  return item.to_name === name && item.value && typeof item.value.start === "number" && typeof item.value.end === "number";
}

function labelsOf(item) {
  const value = item.value;
  return value[item.type] || value.labels || value.hypertextlabels || [];
}

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

class TextTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.name = ctx.name;
    const raw = ctx.value();
    this.text = ctx.tag === "HyperText" ? htmlToText(raw) : raw == null ? "" : String(raw);
    this.tokens = tokenize(this.text);
    this.candidates = candidates(this.text, this.tokens);
    this.colors = labelColors(ctx.schema);
    this.caret = null; // keyboard selection {start, end}
    this.pending = null; // mouse selection waiting for a label key
    this.active = null; // {control, label} chosen before drawing
    this.body = el("div", { class: "lv-text-body" });
    this.el = el(
      "div",
      {
        class: `lv-text${ctx.tag === "HyperText" ? " lv-hypertext" : ""}`,
        tabindex: "0",
        role: "document",
        "aria-label": `Text ${ctx.name}: arrows select words, then press a label key`,
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

  documentKeys() {
    const keys = [
      ["right / left", "select the next / previous word (text focused)"],
      ["shift+right / shift+left", "extend / shrink the selection by a word"],
      ["down / up", "select the next / previous entity: a known phrase, a predicted span, a number or name"],
      ["home / end", "first / last word"],
    ];
    for (const [keys_, description] of keys) this.ctx.documentKey({ keys: keys_, description });
  }

  // Down/Up stops, read when used: the known phrases grow while the page is open.
  stops() {
    const phrases = (this.ctx.phrases?.() || []).map((p) => p.text);
    const predicted = (this.ctx.prediction?.() || []).filter((item) => isSpan(item, this.name)).map((item) => item.value);
    return stops(this.text, this.candidates, phrases, predicted);
  }

  spans() {
    return this.ctx.store.all().filter((item) => isSpan(item, this.name));
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
    clear(this.body);
    for (const piece of segments(this.text.length, spans, marks)) {
      this.body.append(this.segment(piece, level, maxLevel, selectedId));
      for (const span of ends.get(piece.end) || []) this.body.append(this.chip(span, selectedId));
    }
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

  onMouseUp() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    if (!this.el.contains(range.commonAncestorContainer)) return;
    const a = pointOffset(this.body, range.startContainer, range.startOffset);
    const b = pointOffset(this.body, range.endContainer, range.endOffset);
    const { start, end } = trimRange(this.text, Math.min(a, b), Math.max(a, b));
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
  }

  moveCaret(key, extend) {
    const tokens = this.tokens;
    if (!tokens.length) return false;
    const caret = this.caret;
    const here = caret ? caret.start : -1;
    const next = (list) => list.find((t) => t.start > here) || list[list.length - 1];
    const prev = (list) => [...list].reverse().find((t) => t.start < (caret ? caret.start : Infinity)) || list[0];
    if (key === "ArrowRight" && extend && caret) {
      const after = tokens.find((t) => t.end > caret.end);
      if (after) this.caret = { start: caret.start, end: after.end };
    } else if (key === "ArrowLeft" && extend && caret) {
      const before = [...tokens].reverse().find((t) => t.end < caret.end && t.end > caret.start);
      if (before) this.caret = { start: caret.start, end: before.end };
    } else if (key === "ArrowRight") this.caret = { ...next(tokens) };
    else if (key === "ArrowLeft") this.caret = { ...prev(tokens) };
    else if (key === "ArrowDown" || key === "ArrowUp") {
      const stop = stepStop(this.stops(), caret, key === "ArrowDown" ? 1 : -1);
      if (!stop) return false;
      this.caret = { start: stop.start, end: stop.end };
    }
    else if (key === "Home") this.caret = { ...tokens[0] };
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

  createRegion(control, label, { start, end }) {
    const value = { start, end, text: this.text.slice(start, end), [control.type]: [label.alias || label.value] };
    if (this.ctx.tag === "HyperText") Object.assign(value, { startOffset: start, endOffset: end, globalOffsets: { start, end } });
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
    if (!region || !isSpan(region, this.name)) return 0;
    const labels = labelsOf(region);
    const existing = new Set(this.spans().map((s) => `${s.value.start}:${s.value.end}:${labelsOf(s).join()}`));
    const fresh = occurrences(this.text, region.value.text).filter(
      (o) => !existing.has(`${o.start}:${o.end}:${labels.join()}`),
    );
    this.ctx.store.transact("propagate", () => {
      for (const o of fresh) {
        const value = { ...region.value, start: o.start, end: o.end };
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
    const value = { start, end, text: this.text.slice(start, end), [type]: [label] };
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
