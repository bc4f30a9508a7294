// <Number>: a number input with the config's min/max/step. Value: {"number": n}.

import { el } from "../../common/dom.js";

export default {
  mount(ctx) {
    const control = ctx.config;
    const spec = { from_name: control.name, to_name: control.to_name[0], type: "number" };
    const input = el("input", { type: "number", class: "lv-number", "aria-label": ctx.name, min: control.min ?? undefined, max: control.max ?? undefined, step: ctx.attrs.step || "any" });
    const current = () => ctx.store.valueOf(spec.from_name, spec.to_name)?.value.number;
    input.addEventListener("change", () => {
      const n = input.value === "" ? null : Number(input.value);
      if (n !== null && !Number.isFinite(n)) return;
      ctx.store.setValue(spec, { number: n }, n === null);
    });
    const render = () => {
      if (document.activeElement === input) return;
      const v = current();
      input.value = v === undefined || v === null ? "" : String(v);
    };
    ctx.subscribe(render);
    render();
    return { el: el("div", { class: "lv-control", dataset: { name: ctx.name } }, el("label", { class: "lv-title", text: ctx.name }), input), focus: () => input.focus() };
  },
};
