// First-visit tour of the labelling page: a few steps, each pointing at one part of the page.
//
// Shown once per user and browser: finishing or dismissing it stores a flag in localStorage
// (`annotator:label-tour:v1:<user id>`), so nothing is kept on the server. It sits in the page's
// flow at the top of the side column, never over the task, and never takes the focus: the page's keys (Enter
// submits, S skips...) keep working while it is shown. Keyboard: Tab reaches its buttons,
// Escape inside it dismisses it. No key of its own: the config's label keys keep every letter.

import { el, clear } from "../common/dom.js";

const VERSION = "v1";
const STEPS = [
  {
    target: "#lbl-workspace",
    title: "The task",
    text: "The text (or image, audio) to label is here. Select a span, then press a label's key; choices have keys too (shown beside them).",
  },
  {
    target: "#lbl-submit",
    title: "Submit and move on",
    text: "Enter submits your work and opens your next task. S skips a task; J and K go to the previous and next one.",
  },
  {
    target: "#lbl-regions",
    title: "Your regions",
    text: "Everything you labelled is listed here: click one to select it, Delete removes it, Ctrl+Z undoes.",
  },
  {
    target: "#lbl-guidelines-button",
    fallback: "#lbl-context",
    title: "Guidelines",
    text: "The project's guidelines are one key away: G opens them. C opens the context panel (previous turns, similar tasks, notes).",
  },
  {
    target: "#lbl-help",
    title: "Every shortcut",
    text: "? lists every key of the page, including the labels' keys of this project.",
  },
];

function storageKey(userId) {
  return `annotator:label-tour:${VERSION}:${userId}`;
}

function seen(userId) {
  try {
    return window.localStorage.getItem(storageKey(userId)) === "done";
  } catch {
    return true; // storage blocked: never nag
  }
}

function remember(userId) {
  try {
    window.localStorage.setItem(storageKey(userId), "done");
  } catch {
    /* storage blocked: the tour shows again next time */
  }
}

function unhighlight() {
  document.querySelectorAll(".lbl-tour-target").forEach((node) => node.classList.remove("lbl-tour-target"));
}

export class Tour {
  constructor({ userId, host }) {
    this.userId = userId;
    this.host = host;
    this.step = 0;
    this.root = null;
  }

  // Start on a first visit only.
  startOnce() {
    if (!seen(this.userId)) this.start();
  }

  start() {
    this.step = 0;
    if (!this.root) {
      this.root = el("section", { id: "lbl-tour", class: "lbl-tour", role: "region", "aria-label": "Tour of the labelling page" });
      this.root.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          this.close();
        }
      });
      this.host.append(this.root);
    }
    this.render();
    return true;
  }

  render() {
    const step = STEPS[this.step];
    this.highlight(step);
    const last = this.step === STEPS.length - 1;
    clear(this.root).append(
      el("p", { class: "lbl-tour-count muted", text: `Tour ${this.step + 1} / ${STEPS.length}` }),
      el("h3", { text: step.title }),
      el("p", { "aria-live": "polite", text: step.text }),
      el(
        "div",
        { class: "lbl-tour-actions" },
        el("button", { type: "button", disabled: this.step === 0, text: "Back", on: { click: () => this.go(-1) } }),
        el("button", { type: "button", class: "primary", text: last ? "Done" : "Next", on: { click: () => (last ? this.close() : this.go(1)) } }),
        el("button", { type: "button", class: "lbl-tour-dismiss", text: "Dismiss the tour", on: { click: () => this.close() } }),
      ),
    );
  }

  go(delta) {
    const focused = this.root.contains(document.activeElement);
    this.step = Math.max(0, Math.min(STEPS.length - 1, this.step + delta));
    this.render();
    // Keyboard users stay in the tour as they page through it.
    if (focused) this.root.querySelector("button.primary")?.focus();
  }

  highlight(step) {
    unhighlight();
    const target = document.querySelector(step.target) || (step.fallback && document.querySelector(step.fallback));
    if (target) target.classList.add("lbl-tour-target");
  }

  close() {
    remember(this.userId);
    unhighlight();
    this.root?.remove();
    this.root = null;
  }
}
