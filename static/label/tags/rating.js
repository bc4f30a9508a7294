// <Rating>: 1..maxRating stars; click, or focus the group and use the arrow keys.
// Value: {"rating": n}.

import { el } from "../../common/dom.js";

export default {
  mount(ctx) {
    const control = ctx.config;
    const max = control.max_rating || 5;
    const spec = { from_name: control.name, to_name: control.to_name[0], type: "rating" };
    const value = () => ctx.store.valueOf(spec.from_name, spec.to_name)?.value.rating || 0;
    const set = (n) => ctx.store.setValue(spec, { rating: n }, n === 0);
    const group = el("div", { class: "lv-rating", role: "radiogroup", tabindex: "0", "aria-label": `${ctx.name} rating` });
    const stars = [];
    for (let n = 1; n <= max; n += 1) {
      const star = el("button", { type: "button", class: "star", role: "radio", tabindex: "-1", "aria-label": `${n} of ${max}`, text: "★", on: { click: () => set(value() === n ? 0 : n) } });
      stars.push(star);
      group.append(star);
    }
    group.addEventListener("keydown", (event) => {
      const delta = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[event.key];
      if (!delta) return;
      event.preventDefault();
      event.stopPropagation();
      set(Math.max(0, Math.min(max, value() + delta)));
    });
    const render = () => {
      const v = value();
      stars.forEach((star, i) => {
        star.classList.toggle("on", i < v);
        star.setAttribute("aria-checked", String(i + 1 === v));
      });
    };
    if (ctx.attrs.hotkey) ctx.hotkey({ keys: ctx.attrs.hotkey, description: "focus the rating", handler: () => group.focus() });
    ctx.subscribe(render);
    render();
    return { el: el("div", { class: "lv-control", dataset: { name: ctx.name } }, el("div", { class: "lv-title", text: ctx.name }), group) };
  },
};
