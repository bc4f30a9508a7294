// <Labels> (and <HyperTextLabels>): the label buttons of a span control. A label key (or a
// click) labels the pending selection of the target text; with a region of this control
// selected it relabels that region; otherwise it arms the label for the next mouse drag.

import { el } from "../../common/dom.js";
import { safeColor } from "./colors.js";

class LabelsTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.control = ctx.config;
    this.active = null;
    this.buttons = new Map();
    const list = el("div", { class: "lv-labels", role: "toolbar", "aria-label": `Labels ${ctx.name}` });
    this.control.labels.forEach((label, index) => {
      const color = safeColor(label.background, index);
      const button = el(
        "button",
        { type: "button", class: "lv-label", title: label.hint || undefined, on: { click: () => this.apply(label) } },
        el("span", { class: "swatch" }),
        label.value,
        label.hotkey ? el("kbd", { text: label.hotkey }) : null,
      );
      button.querySelector(".swatch").style.background = color;
      button.style.borderColor = color;
      this.buttons.set(label.value, button);
      list.append(button);
      if (label.hotkey) {
        ctx.hotkey({ keys: label.hotkey, description: `label ${label.value}`, handler: () => this.apply(label) });
      }
    });
    this.el = el("div", { class: "lv-control lv-labels-control", dataset: { name: ctx.name } }, list);
    // One armed label on the page: another control (boxes vs polygons of one image) arming
    // its own takes over.
    ctx.on("labels:active", (detail) => {
      if (detail && detail.control !== this.control && this.active) this.show(null);
    });
  }

  apply(label) {
    const store = this.ctx.store;
    for (const objectName of this.control.to_name) {
      const object = this.ctx.object(objectName);
      if (object && object.labelSelection && object.labelSelection(this.control, label)) {
        this.arm(null);
        return true;
      }
    }
    const selected = store.selected;
    if (selected && selected.from_name === this.control.name) {
      store.update(selected.id, { value: { [selected.type]: [label.alias || label.value] } });
      return true;
    }
    this.arm(this.active && this.active.label === label ? null : label);
    return true;
  }

  arm(label) {
    this.show(label);
    this.ctx.emit("labels:active", this.active);
  }

  show(label) {
    this.active = label ? { control: this.control, label, objects: this.control.to_name } : null;
    for (const [value, button] of this.buttons) button.classList.toggle("armed", Boolean(label && label.value === value));
  }
}

export default {
  mount(ctx) {
    return new LabelsTag(ctx);
  },
};
