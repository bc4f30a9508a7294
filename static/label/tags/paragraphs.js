// <Paragraphs>: a list of utterances ({author, text} by default, nameKey/textKey rename
// them); layout="dialogue" shows it as a conversation. Read-only context in this UI.

import { el } from "../../common/dom.js";

export default {
  mount(ctx) {
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
  },
};
