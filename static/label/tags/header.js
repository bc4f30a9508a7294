// <Header value="..."/>: a heading; "$field" values come from the task.
import { el } from "../../common/dom.js";

export default {
  mount(ctx) {
    const value = ctx.resolve(ctx.attrs.value ?? "");
    const size = Math.min(Math.max(Number(ctx.attrs.size) || 4, 1), 6);
    return { el: el(`h${size}`, { class: "lv-header", text: value == null ? "" : String(value) }) };
  },
};
