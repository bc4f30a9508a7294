// <Choices>: single or multiple choice, one button per option with its hotkey (options of a
// control that declares none get the number keys 1-9 when the config uses no digit key).
// A predicted choice shows the model's confidence; a row offers the user's recent picks.

import { clear, el } from "../../common/dom.js";
import { recentValues, rememberValue } from "./recent.js";

function declaredKeys(schema) {
  const keys = new Set();
  const walk = (labels) => labels.forEach((l) => { if (l.hotkey) keys.add(l.hotkey.toLowerCase()); walk(l.children || []); });
  schema.controls.forEach((c) => walk(c.labels));
  return keys;
}

function numberKeys(ctx) {
  const first = ctx.schema.controls.find((c) => c.tag === "Choices");
  const declared = declaredKeys(ctx.schema);
  const usesDigits = [...declared].some((k) => /^\d$/.test(k));
  if (first?.name !== ctx.name || usesDigits || ctx.config.labels.some((l) => l.hotkey)) return null;
  return ctx.config.labels.slice(0, 9).map((_, i) => String(i + 1));
}

class ChoicesTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.control = ctx.config;
    this.toName = this.control.to_name[0];
    this.single = this.control.choice !== "multiple";
    const keys = numberKeys(ctx);
    this.buttons = new Map();
    const inline = (ctx.attrs.showInline || "").toLowerCase() === "true";
    this.list = el("div", { class: `lv-choices${inline ? " inline" : ""}`, role: this.single ? "radiogroup" : "group", "aria-label": ctx.name });
    this.control.labels.forEach((option, index) => {
      const hotkey = option.hotkey || (keys ? keys[index] : null);
      const value = option.alias || option.value;
      const button = el(
        "button",
        { type: "button", class: "lv-choice", role: this.single ? "radio" : "checkbox", "aria-checked": "false", title: option.hint || undefined, dataset: { value }, on: { click: () => this.toggle(value) } },
        hotkey ? el("kbd", { text: hotkey }) : null,
        el("span", { class: "name", text: option.value }),
        el("span", { class: "conf" }),
      );
      this.buttons.set(value, button);
      this.list.append(button);
      if (hotkey) ctx.hotkey({ keys: hotkey, description: `choose ${option.value}`, handler: () => this.toggle(value) });
    });
    this.recentRow = el("div", { class: "lv-recent", "aria-label": "Recent choices" });
    this.el = el("div", { class: "lv-control lv-choices-control", dataset: { name: ctx.name } }, el("div", { class: "lv-title", text: ctx.attrs.title || ctx.name }), this.list, this.recentRow);
    ctx.subscribe(() => this.render());
    this.renderRecent();
    this.render();
  }

  current() {
    return this.ctx.store.valueOf(this.control.name, this.toName);
  }

  selectedValues() {
    const item = this.current();
    return item ? [...(item.value.choices || [])] : [];
  }

  toggle(value) {
    const selected = this.selectedValues();
    let next;
    if (selected.includes(value)) next = selected.filter((v) => v !== value);
    else next = this.single ? [value] : [...selected, value];
    this.set(next);
    if (next.includes(value)) {
      rememberValue(this.ctx.project.id, this.control.name, value);
      this.renderRecent();
    }
    return true;
  }

  set(values) {
    const spec = { from_name: this.control.name, to_name: this.toName, type: "choices" };
    this.ctx.store.setValue(spec, { choices: values }, values.length === 0);
  }

  render() {
    const item = this.current();
    const selected = new Set(item ? item.value.choices || [] : []);
    const conf = item ? this.ctx.confidence(item.score) : null;
    for (const [value, button] of this.buttons) {
      const on = selected.has(value);
      button.setAttribute("aria-checked", String(on));
      button.classList.toggle("on", on);
      button.classList.remove("conf-high", "conf-mid", "conf-low");
      const confText = button.querySelector(".conf");
      confText.textContent = on && conf ? `${Math.round(item.score * 100)}%` : "";
      if (on && conf) button.classList.add(`conf-${conf}`);
    }
  }

  renderRecent() {
    const values = recentValues(this.ctx.project.id, this.control.name).filter((v) => this.buttons.has(v));
    clear(this.recentRow);
    if (!values.length) return;
    this.recentRow.append(el("span", { class: "muted", text: "Recent:" }));
    for (const value of values) {
      this.recentRow.append(el("button", { type: "button", class: "lv-recent-choice", text: value, on: { click: () => (this.selectedValues().includes(value) ? null : this.toggle(value)) } }));
    }
  }
}

export default {
  mount(ctx) {
    return new ChoicesTag(ctx);
  },
};
