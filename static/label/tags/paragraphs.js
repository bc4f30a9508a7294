// <Paragraphs>: a list of utterances ({author, text} by default, nameKey/textKey rename
// them); layout="dialogue" shows it as a conversation. With a ParagraphLabels (or Labels)
// control pointing at it, spans are labelled inside one utterance as in a Text (text.js:
// mouse, or arrows on the focused list); otherwise it is read-only context.

import { el } from "../../common/dom.js";
import { TextTag } from "./text.js";

function readOnly(ctx) {
  const value = ctx.value();
  const nameKey = ctx.attrs.nameKey || "author";
  const textKey = ctx.attrs.textKey || "text";
  const list = el("ol", { class: `lv-paragraphs${ctx.attrs.layout === "dialogue" ? " dialogue" : ""}` });
  const rows = Array.isArray(value) ? value : value == null ? [] : [{ [textKey]: String(value) }];
  for (const row of rows) {
    const author = row && typeof row === "object" ? row[nameKey] : "";
    const text = row && typeof row === "object" ? row[textKey] : row;
    list.append(
      el(
        "li",
        { class: `turn ${author ? `by-${String(author).replace(/[^a-z0-9_-]/gi, "")}` : ""}` },
        author ? el("span", { class: "author", text: String(author) }) : null,
        el("span", { class: "said", text: text == null ? "" : String(text) }),
      ),
    );
  }
  return { el: el("section", { class: "lv-object lv-dialogue", "aria-label": `Paragraphs ${ctx.name}` }, list) };
}

export default {
  mount(ctx) {
    const labelled = ctx.controlsFor(ctx.name).some((c) => c.type === "paragraphlabels" || c.type === "labels");
    return labelled ? new TextTag(ctx) : readOnly(ctx);
  },
};
