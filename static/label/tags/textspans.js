// Pure helpers of the text tags: tokens, entity-like candidates, keyboard stops, stacking
// levels, segments.
// Offsets are JavaScript string (UTF-16) offsets, as Label Studio writes them.

const TOKEN = /\S+/g;
const LEADING = /^["'«(\[¿¡]+/;
const TRAILING = /["'»)\].,!?;:…]+$/;

export function tokenize(text) {
  const tokens = [];
  for (const match of text.matchAll(TOKEN)) {
    let start = match.index;
    let end = start + match[0].length;
    const lead = match[0].match(LEADING);
    if (lead && lead[0].length < match[0].length) start += lead[0].length;
    const word = text.slice(start, end);
    const trail = word.match(TRAILING);
    if (trail && trail[0].length < word.length) end -= trail[0].length;
    tokens.push({ start, end });
  }
  return tokens;
}

// A sentence starts the text, follows . ! ? or a line break, or starts a block of HTML.
function sentenceStart(text, tokens, index, blockStarts) {
  if (index === 0 || blockStarts.has(tokens[index].start)) return true;
  const before = text.slice(tokens[index - 1].start, tokens[index].start);
  return /([.!?]\s*|\n\s*)$/.test(before);
}

// Tokens that look like entities (a digit, a currency sign, an all-caps word, a capitalised
// word inside a sentence); neighbours separated by one space merge: "March 10", "317,99 EUR".
export function candidates(text, tokens, blockStarts = new Set()) {
  const marked = tokens.map((token, index) => {
    const word = text.slice(token.start, token.end);
    if (/\d|[$€£¥#@]/.test(word)) return true;
    if (/^\p{Lu}{2,}$/u.test(word)) return true;
    return /^\p{Lu}/u.test(word) && word !== "I" && !sentenceStart(text, tokens, index, blockStarts);
  });
  const runs = [];
  tokens.forEach((token, index) => {
    if (!marked[index]) return;
    const last = runs[runs.length - 1];
    if (last && last.lastIndex === index - 1 && text.slice(last.end, token.start) === " ") {
      last.end = token.end;
      last.lastIndex = index;
    } else runs.push({ start: token.start, end: token.end, lastIndex: index });
  });
  return runs.map(({ start, end }) => ({ start, end }));
}

// Keyboard stops of Down/Up: the entity-like runs, every occurrence of a phrase the project
// already knows (text labelled elsewhere), and the spans of the task's prediction (shown or
// not). Ordered by position, longer first at the same start; duplicates once.
export function stops(text, runs, phrases = [], spans = []) {
  const all = [...runs];
  for (const phrase of phrases) all.push(...occurrences(text, phrase));
  for (const span of spans) {
    if (span.start >= 0 && span.end <= text.length && span.end > span.start) all.push(trimRange(text, span.start, span.end));
  }
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  return all.filter((s, i) => s.end > s.start && (i === 0 || s.start !== all[i - 1].start || s.end !== all[i - 1].end));
}

// The stop after (direction 1) or before (-1) the selection, in stops' order; the last /
// first stop when there is none further.
export function stepStop(list, caret, direction) {
  if (!list.length) return null;
  const after = (s) => !caret || s.start > caret.start || (s.start === caret.start && s.end < caret.end);
  const before = (s) => caret && (s.start < caret.start || (s.start === caret.start && s.end > caret.end));
  if (direction > 0) return list.find(after) || list[list.length - 1];
  return [...list].reverse().find(before) || list[0];
}

// Stacking level of each span: nested and overlapping spans get distinct underlines.
export function levels(spans) {
  const sorted = [...spans].sort((a, b) => a.value.start - b.value.start || b.value.end - a.value.end);
  const ends = [];
  const level = new Map();
  for (const span of sorted) {
    let free = ends.findIndex((end) => end <= span.value.start);
    if (free === -1) free = ends.length;
    ends[free] = span.value.end;
    level.set(span.id, free);
  }
  return level;
}

// Cut [0, length) at every span and marker boundary: each piece knows what covers it.
export function segments(length, spans, marks = [], extraCuts = []) {
  const cuts = new Set([0, length, ...extraCuts]);
  for (const span of spans) {
    cuts.add(Math.max(0, Math.min(length, span.value.start)));
    cuts.add(Math.max(0, Math.min(length, span.value.end)));
  }
  for (const mark of marks) {
    cuts.add(mark.start);
    cuts.add(mark.end);
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const pieces = [];
  for (let i = 0; i < sorted.length - 1; i += 1) {
    const start = sorted[i];
    const end = sorted[i + 1];
    if (end <= start) continue;
    const covering = spans.filter((s) => s.value.start <= start && s.value.end >= end);
    const marked = marks.filter((m) => m.start <= start && m.end >= end).map((m) => m.kind);
    pieces.push({ start, end, covering, marked });
  }
  return pieces;
}

export function trimRange(text, start, end) {
  while (start < end && /\s/.test(text[start])) start += 1;
  while (end > start && /\s/.test(text[end - 1])) end -= 1;
  return { start, end };
}

// Every occurrence of `needle` in `text` on word boundaries.
export function occurrences(text, needle) {
  const found = [];
  if (!needle) return found;
  let from = 0;
  for (;;) {
    const at = text.indexOf(needle, from);
    if (at === -1) return found;
    const before = at === 0 ? "" : text[at - 1];
    const after = text[at + needle.length] || "";
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) {
      found.push({ start: at, end: at + needle.length });
    }
    from = at + 1;
  }
}

// HyperText: the server sends the task's HTML sanitised (tasks/label_selectors.py,
// hypertext_html). It is parsed here into an inert document (DOMParser runs no script and
// loads nothing) and checked once more before it is adopted into the page: no script, style,
// frame or form, no event attribute, no javascript: URL. Returns the body's nodes and the
// text nodes with their Label Studio XPath ("/p[1]/text()[1]") and global offsets.
const BLOCKS = "p, div, li, dt, dd, h1, h2, h3, h4, h5, h6, td, th, blockquote, pre, section, article, header, footer, figcaption, caption";
const DROP = "script, style, iframe, frame, object, embed, link, meta, base, form, template, noscript, svg, math";

export function htmlDocument(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  doc.body.querySelectorAll(DROP).forEach((node) => node.remove());
  for (const node of doc.body.querySelectorAll("*")) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "srcdoc" || /^\s*(javascript|data|vbscript):/i.test(attr.value)) node.removeAttribute(attr.name);
    }
  }
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  let offset = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.data.length) continue;
    const block = node.parentElement?.closest(BLOCKS) || doc.body;
    texts.push({ node, xpath: xpathOf(node, doc.body), start: offset, end: offset + node.data.length, block });
    offset += node.data.length;
  }
  return { body: doc.body, texts };
}

// Label Studio's path of a node below `root`: element steps `tag[n]`, then `text()[n]`.
export function xpathOf(node, root) {
  const steps = [];
  for (let n = node; n && n !== root; n = n.parentNode) {
    let index = 1;
    if (n.nodeType === Node.TEXT_NODE) {
      for (let s = n.previousSibling; s; s = s.previousSibling) if (s.nodeType === Node.TEXT_NODE) index += 1;
      steps.unshift(`text()[${index}]`);
    } else {
      for (let s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.nodeName === n.nodeName) index += 1;
      steps.unshift(`${n.nodeName.toLowerCase()}[${index}]`);
    }
  }
  return `/${steps.join("/")}`;
}

// Global offset of (xpath, offset): a text node's path, or an element's (its text starts at
// its first text node: offsets inside it run on in document order). null when not found.
export function resolvePath(parts, xpath, offset) {
  if (typeof xpath !== "string" || typeof offset !== "number") return null;
  const path = xpath.startsWith("/") ? xpath : `/${xpath}`;
  const exact = parts.find((p) => p.xpath === path);
  if (exact) return exact.start + offset;
  const inside = parts.find((p) => p.xpath.startsWith(`${path}/`));
  return inside ? inside.start + offset : null;
}
