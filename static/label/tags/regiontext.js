// <TextArea perRegion="true">: the text of the selected region (a transcription of an audio
// segment, a note on a box...). Its item shares the region's id, as Label Studio writes it:
// {"id": <region id>, "type": "textarea", "value": {"text": ["..."]}}, and goes with the region
// when the region is deleted. Without perRegion the tag is the plain textarea.js.

import { el } from "../../common/dom.js";
import plain from "./textarea.js";

const PAUSE_MS = 600;

class RegionText {
  constructor(ctx) {
    this.ctx = ctx;
    this.control = ctx.config;
    this.regionId = null;
    this.timer = null;
    const multi = (ctx.attrs.rows && Number(ctx.attrs.rows) > 1) || ctx.attrs.editable === "true";
    this.input = el(multi ? "textarea" : "input", {
      class: "lv-textarea lv-region-text",
      "aria-label": `${ctx.name} of the selected region`,
      rows: ctx.attrs.rows || undefined,
      disabled: true,
    });
    this.input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), PAUSE_MS);
    });
    this.input.addEventListener("change", () => this.flush());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !multi) this.flush();
    });
    this.title = el("label", { class: "lv-title", text: ctx.name });
    this.el = el("div", { class: "lv-control lv-textarea-control lv-region-text-control", dataset: { name: ctx.name } }, this.title, this.input);
    ctx.subscribe(() => this.sync());
    ctx.onCleanup(() => clearTimeout(this.timer));
    this.sync();
  }

  // The selected region, when it belongs to one of this control's objects.
  target() {
    const region = this.ctx.store.selected;
    if (!region || region.from_name === this.control.name) return null;
    return this.control.to_name.includes(region.to_name) ? region : null;
  }

  textOf(regionId) {
    const item = regionId ? this.ctx.store.regionValueOf(regionId, this.control.name) : null;
    return (item?.value.text || []).join("\n");
  }

  sync() {
    const id = this.target()?.id || null;
    if (id !== this.regionId) {
      // The selection moved: what was typed belongs to the region it was typed for.
      const previous = this.regionId;
      const typed = this.input.value;
      this.regionId = id;
      this.save(previous, typed);
      this.show(id);
      return;
    }
    if (id && document.activeElement !== this.input) this.input.value = this.textOf(id);
  }

  show(id) {
    this.input.disabled = !id;
    this.input.value = this.textOf(id);
    this.input.placeholder = id ? this.ctx.attrs.placeholder || "Type the text of this region" : "Select a region to write its text";
    this.el.classList.toggle("idle", !id);
  }

  save(regionId, text) {
    clearTimeout(this.timer);
    const store = this.ctx.store;
    const region = regionId ? store.get(regionId) : null;
    if (!region || text === this.textOf(regionId)) return;
    const spec = { from_name: this.control.name, to_name: region.to_name, type: "textarea" };
    store.setRegionValue(regionId, spec, { text: [text] }, text.trim() === "");
  }

  flush() {
    this.save(this.regionId, this.input.value);
  }

  focus() {
    if (!this.input.disabled) this.input.focus();
  }
}

export default {
  mount(ctx) {
    if (!ctx.config?.per_region) return plain.mount(ctx);
    return new RegionText(ctx);
  },
};
