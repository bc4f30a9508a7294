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

function sentenceStart(text, tokens, index) {
  if (index === 0) return true;
  const before = text.slice(tokens[index - 1].start, tokens[index].start);
  return /[.!?]\s*$/.test(before);
}

// Tokens that look like entities (a digit, a currency sign, an all-caps word, a capitalised
// word inside a sentence); neighbours separated by one space merge: "March 10", "317,99 EUR".
export function candidates(text, tokens) {
  const marked = tokens.map((token, index) => {
    const word = text.slice(token.start, token.end);
    if (/\d|[$€£¥#@]/.test(word)) return true;
    if (/^\p{Lu}{2,}$/u.test(word)) return true;
    return /^\p{Lu}/u.test(word) && word !== "I" && !sentenceStart(text, tokens, index);
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
export function segments(length, spans, marks = []) {
  const cuts = new Set([0, length]);
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

// Text of sanitised-away HTML: block elements become line breaks. Parsing with DOMParser
// runs no script and loads nothing.
export function htmlToText(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  doc.querySelectorAll("script, style, template").forEach((node) => node.remove());
  doc.querySelectorAll("br").forEach((node) => node.replaceWith("\n"));
  doc.querySelectorAll("p, div, li, h1, h2, h3, h4, h5, h6, tr, blockquote, pre").forEach((node) => {
    node.append("\n");
  });
  return (doc.body.textContent || "").replace(/\n{3,}/g, "\n\n").trim();
}
