// <TextArea>: free text. The store is written when typing pauses (one undo step per pause,
// not per key); <Shortcut value hotkey> children become buttons that insert their text.
// Value: {"text": ["..."]}.

import { el } from "../../common/dom.js";

const PAUSE_MS = 600;

export default {
  mount(ctx) {
    const control = ctx.config;
    const spec = { from_name: control.name, to_name: control.to_name[0], type: "textarea" };
    const multi = (ctx.attrs.rows && Number(ctx.attrs.rows) > 1) || ctx.attrs.editable === "true";
    const input = el(multi ? "textarea" : "input", { class: "lv-textarea", "aria-label": ctx.attrs.placeholder || ctx.name, placeholder: ctx.attrs.placeholder || "", rows: ctx.attrs.rows || undefined });
    let timer = null;
    const current = () => (ctx.store.valueOf(spec.from_name, spec.to_name)?.value.text || []).join("\n");
    const commit = () => {
      clearTimeout(timer);
      if (input.value === current()) return;
      ctx.store.setValue(spec, { text: [input.value] }, input.value.trim() === "");
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(commit, PAUSE_MS);
    });
    input.addEventListener("change", commit);
    ctx.subscribe(() => {
      if (document.activeElement !== input) input.value = current();
    });
    input.value = current();
    const shortcuts = control.labels.map((shortcut) =>
      el("button", { type: "button", class: "lv-shortcut", text: shortcut.value, on: { click: () => { input.value += shortcut.alias || shortcut.value; commit(); } } }),
    );
    ctx.onCleanup(() => clearTimeout(timer));
    const root = el("div", { class: "lv-control lv-textarea-control", dataset: { name: ctx.name } }, el("label", { class: "lv-title", text: ctx.name }), input, shortcuts.length ? el("div", { class: "lv-shortcuts" }, shortcuts) : null);
    return { el: root, flush: commit, focus: () => input.focus() };
  },
};
