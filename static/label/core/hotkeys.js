// Page-wide keyboard shortcuts. Keys are written Label Studio's way: "ctrl+shift+z", "1", "a",
// "enter", "?". "ctrl" also matches the Mac's Cmd key. Shortcuts never fire while the user
// types in an input, textarea, select or contenteditable (except those registered with
// `inInput: true`, such as Escape), and Enter/Space on a focused button keep their native
// meaning (activate the button).

import { isTyping } from "../../common/dom.js";

const NAMED = {
  " ": "space",
  escape: "escape",
  esc: "escape",
  enter: "enter",
  return: "enter",
  arrowup: "up",
  arrowdown: "down",
  arrowleft: "left",
  arrowright: "right",
  up: "up",
  down: "down",
  left: "left",
  right: "right",
  delete: "delete",
  del: "delete",
  backspace: "backspace",
  tab: "tab",
};
const MODIFIERS = ["ctrl", "alt", "shift"];

function keyName(key) {
  const lower = key.toLowerCase();
  return NAMED[lower] || lower;
}

// Shift is part of the name only for letters and named keys: "?" is already shifted "/".
function combo(modifiers, key) {
  const name = keyName(key);
  const letterLike = /^[a-z]$/.test(name) || Object.values(NAMED).includes(name);
  const used = MODIFIERS.filter((m) => modifiers.has(m) && (m !== "shift" || letterLike));
  return [...used, name].join("+");
}

export function normalizeKeys(text) {
  const parts = String(text).toLowerCase().split("+").map((part) => part.trim());
  const key = parts.pop() || "+";
  const modifiers = new Set(parts.map((m) => (m === "cmd" || m === "meta" || m === "command" ? "ctrl" : m)));
  return combo(modifiers, key);
}

export function eventKeys(event) {
  const modifiers = new Set();
  if (event.ctrlKey || event.metaKey) modifiers.add("ctrl");
  if (event.altKey) modifiers.add("alt");
  if (event.shiftKey) modifiers.add("shift");
  return combo(modifiers, event.key);
}

export class Hotkeys {
  constructor(target = window) {
    this.bindings = [];
    this.enabled = true;
    this.onKeyDown = (event) => this.dispatch(event);
    target.addEventListener("keydown", this.onKeyDown);
  }

  // Returns a function that removes the shortcut. `handler(event)` may return false to let
  // the key through (e.g. a label key with nothing to label).
  register({ keys, description, group = "General", handler, inInput = false, when }) {
    const binding = { keys: normalizeKeys(keys), label: keys, description, group, handler, inInput, when };
    this.bindings.push(binding);
    return () => {
      this.bindings = this.bindings.filter((b) => b !== binding);
    };
  }

  // Shortcuts handled by a focused element itself (arrow keys in the text...), listed in
  // the help only.
  document({ keys, description, group = "General" }) {
    return this.register({ keys, description, group, handler: null });
  }

  list() {
    const seen = new Set();
    return this.bindings.filter((b) => {
      const key = `${b.group}|${b.keys}|${b.description}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  dispatch(event) {
    if (!this.enabled || event.defaultPrevented || event.isComposing) return;
    // A modal dialog (the help) owns the keyboard until it closes.
    if (document.querySelector("dialog[open]")) return;
    const keys = eventKeys(event);
    const typing = isTyping(event.target);
    const onButton = event.target instanceof Element && event.target.closest("button, a[href], summary");
    if (onButton && (keys === "enter" || keys === "space")) return;
    // Newest first: a panel opened on top (help, relation picking) overrides the page.
    for (const binding of [...this.bindings].reverse()) {
      if (binding.keys !== keys || !binding.handler) continue;
      if (typing && !binding.inInput) continue;
      if (binding.when && !binding.when()) continue;
      if (binding.handler(event) === false) continue;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
  }
}
