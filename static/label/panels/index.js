// Side panels of the labelling page: regions, model suggestions, known entities, context
// (previous turns, similar tasks), progress and the shortcut help.

import { api } from "../../common/http.js";
import { clear, el } from "../../common/dom.js";
import { colorOf, labelColors } from "../tags/colors.js";

const $ = (id) => document.getElementById(id);

function labelsOf(item) {
  const value = item.value || {};
  return value[item.type] || value.labels || [];
}

// Spans (text, HTML, paragraphs), audio ranges and image shapes (perRegion items share a region's id but are not one).
function isRegion(item) {
  const value = item.value || {};
  // HyperText and Paragraphs spans: XPaths or paragraph indexes, with offsets inside them.
  const inNodes = value.start !== undefined && typeof value.startOffset === "number";
  return item.type !== "relation" && (typeof value.start === "number" || inNodes || typeof value.x === "number" || Array.isArray(value.points));
}

// What a row shows of its region: the span's text, or the times / shape when there is none.
function regionSummary(item) {
  const value = item.value;
  if (typeof value.text === "string") return el("q", { text: value.text });
  let text = "point";
  if (typeof value.start === "number" && typeof value.end === "number") text = `${value.start.toFixed(2)}–${value.end.toFixed(2)} s`;
  else if (Array.isArray(value.points)) text = `polygon (${value.points.length})`;
  else if (typeof value.height === "number") text = "box";
  return el("span", { class: "muted", text });
}

function percent(score) {
  return `${Math.round(score * 100)}%`;
}

function duration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// --- regions -------------------------------------------------------------------------------
class RegionsPanel {
  constructor(session) {
    this.session = session;
    this.store = session.store;
    this.root = $("lbl-regions");
    this.colors = labelColors(session.page.schema);
    this.store.subscribe(() => this.render());
  }

  regions() {
    return this.store.all().filter(isRegion);
  }

  step(delta) {
    const list = this.regions();
    if (!list.length) return false;
    const at = list.findIndex((r) => r.id === this.store.selectedId);
    const next = at === -1 ? (delta > 0 ? 0 : list.length - 1) : (at + delta + list.length) % list.length;
    this.store.select(list[next].id);
    return true;
  }

  propagateSelected() {
    const region = this.store.selected;
    if (!region) return false;
    const object = this.session.ws.instance(region.to_name);
    const added = object?.propagate ? object.propagate(region.id) : 0;
    this.session.status(added ? `Labelled ${added} more occurrence(s) of “${region.value.text}”.` : "No other occurrence to label.");
    return true;
  }

  render() {
    const regions = this.regions();
    clear(this.root).append(el("h3", { text: `Regions (${regions.length})` }));
    if (!regions.length) {
      this.root.append(el("p", { class: "muted", text: "Select text, then press a label key." }));
      return;
    }
    const list = el("ul", { class: "lbl-region-list" });
    for (const region of regions) list.append(this.row(region));
    this.root.append(list);
  }

  row(region) {
    const labels = labelsOf(region);
    const conf = this.session.ws.confidence(region.score);
    const selected = region.id === this.store.selectedId;
    const item = el(
      "li",
      { class: `lbl-region${selected ? " selected" : ""}`, dataset: { region: region.id } },
      el("button", { type: "button", class: "pick", "aria-pressed": String(selected), on: { click: () => this.store.select(region.id) } },
        el("span", { class: "swatch" }), `${labels.join(", ")} `, regionSummary(region)),
      conf ? el("span", { class: `badge conf-${conf}`, text: percent(region.score) }) : null,
      el("button", { type: "button", class: "remove", "aria-label": `Delete ${labels.join(", ")} region`, text: "×", on: { click: () => this.store.remove(region.id) } }),
    );
    item.querySelector(".swatch").style.background = colorOf(this.colors, region.from_name, labels[0]);
    return item;
  }
}

// --- model suggestions for choices ---------------------------------------------------------
// Per-choice probabilities may come as item.value.probabilities / item.meta.probabilities
// ({choice: p} or [{label|value, score|probability}]); else the predicted choice and its score.
function choiceProbabilities(item, fallback) {
  const raw = item.value?.probabilities || item.meta?.probabilities || item.probabilities;
  let pairs = [];
  if (Array.isArray(raw)) pairs = raw.map((r) => [r.label ?? r.value ?? r.choice, r.score ?? r.probability]);
  else if (raw && typeof raw === "object") pairs = Object.entries(raw);
  pairs = pairs.filter(([label, p]) => typeof label === "string" && typeof p === "number");
  if (!pairs.length) {
    const score = typeof item.score === "number" ? item.score : fallback;
    pairs = (item.value?.choices || []).map((c) => [c, score]);
  }
  return pairs.sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)).slice(0, 3);
}

class IntentsPanel {
  constructor(session) {
    this.session = session;
    this.root = $("lbl-intents");
  }

  show(payload) {
    const prediction = payload.prediction;
    const controls = this.session.page.schema.controls.filter((c) => c.tag === "Choices");
    const items = (prediction?.result || []).filter((i) => i.type === "choices" && controls.some((c) => c.name === i.from_name));
    clear(this.root);
    this.root.hidden = !items.length;
    if (!items.length) return;
    this.root.append(el("h3", { text: `Model suggestions${prediction.model_version ? ` (${prediction.model_version})` : ""}` }));
    for (const item of items) {
      const list = el("ol", { class: "lbl-suggestions" });
      for (const [choice, p] of choiceProbabilities(item, prediction.score)) {
        const conf = this.session.ws.confidence(p);
        list.append(
          el("li", {},
            el("button", { type: "button", on: { click: () => this.pick(item, choice) } }, choice),
            typeof p === "number" ? el("span", { class: `badge conf-${conf}`, text: percent(p) }) : null),
        );
      }
      this.root.append(el("div", { class: "muted", text: item.from_name }), list);
    }
  }

  pick(item, choice) {
    this.session.store.setValue({ from_name: item.from_name, to_name: item.to_name, type: "choices" }, { choices: [choice] }, false);
  }
}

// --- known entities ------------------------------------------------------------------------
class EntitiesPanel {
  constructor(session) {
    this.session = session;
    this.root = $("lbl-entities");
    this.found = [];
    session.store.subscribe(() => this.render());
  }

  show() {
    this.known = [];
    this.render();
  }

  async load(payload) {
    const id = payload.task.id;
    try {
      const { entities } = await api(`/api/tasks/${id}/label/entities`);
      if (this.session.current?.task.id !== id) return;
      this.known = entities;
      const phrases = this.session.ws.phrases;
      const have = new Set(phrases.map((p) => p.text));
      phrases.push(...entities.filter((e) => !have.has(e.text)));
      this.render();
    } catch {
      // Suggestions are a help: without them the page works the same.
    }
  }

  objects() {
    return this.session.ws.mounted.map((m) => m.instance).filter((i) => i.suggestionsFrom);
  }

  render() {
    if (!this.known) return;
    this.found = this.objects().flatMap((object) => object.suggestionsFrom(this.known).map((s) => ({ ...s, object })));
    clear(this.root);
    this.root.hidden = !this.found.length;
    if (!this.found.length) return;
    this.root.append(
      el("h3", { text: "Known entities" }),
      el("button", { type: "button", class: "small", text: "Add all (Alt+E)", on: { click: () => this.acceptAll() } }),
    );
    const list = el("ul", { class: "lbl-entity-list" });
    for (const s of this.found) {
      list.append(el("li", {}, el("q", { text: s.text }), ` → ${s.label} `, el("button", { type: "button", class: "small", text: "Add", on: { click: () => this.accept([s]) } })));
    }
    this.root.append(list);
  }

  accept(list) {
    this.session.store.transact("entities", () => {
      for (const s of list) s.object.addSpan(s.from_name, s.type, s.start, s.end, s.label);
    });
  }

  acceptAll() {
    if (!this.found.length) return false;
    this.accept(this.found);
    return true;
  }
}

// --- context: previous turns and similar tasks ---------------------------------------------
class ContextPanel {
  constructor(session) {
    this.session = session;
    this.turns = $("lbl-turns");
    this.similar = $("lbl-similar");
    this.details = $("lbl-context");
    this.details.addEventListener("toggle", () => this.loadSimilar());
  }

  // A `context` data field is shown here unless a Paragraphs tag of the config shows it.
  show(payload) {
    const shownByConfig = this.session.page.schema.objects.some((o) => o.value_field === "context");
    const turns = payload.task.data?.context;
    clear(this.turns);
    this.turns.hidden = shownByConfig || !Array.isArray(turns) || !turns.length;
    if (!this.turns.hidden) {
      const list = el("ol", { class: "lv-paragraphs dialogue" });
      for (const turn of turns) {
        const author = turn && typeof turn === "object" ? turn.author : "";
        const text = turn && typeof turn === "object" ? turn.text : turn;
        list.append(el("li", { class: "turn" }, author ? el("span", { class: "author", text: String(author) }) : null, el("span", { class: "said", text: String(text ?? "") })));
      }
      this.turns.append(el("h3", { text: "Previous turns" }), list);
    }
    this.taskId = payload.task.id;
    this.loadedFor = null;
    clear(this.similar).append(el("h3", { text: "Similar annotated tasks" }));
  }

  async loadSimilar() {
    const id = this.taskId;
    if (!this.details.open || this.loadedFor === id) return;
    this.loadedFor = id;
    try {
      const { similar } = await api(`/api/tasks/${id}/label/similar`);
      if (this.taskId === id) this.renderSimilar(similar);
    } catch {
      this.loadedFor = null;
    }
  }

  renderSimilar(similar) {
    clear(this.similar).append(el("h3", { text: "Similar annotated tasks" }));
    if (!similar.length) {
      this.similar.append(el("p", { class: "muted", text: "None yet." }));
      return;
    }
    const list = el("ul", { class: "lbl-similar-list" });
    for (const s of similar) {
      const labels = [...s.choices, ...s.entities.map(([text, label]) => `${label}: ${text}`)];
      list.append(el("li", {}, el("a", { href: `/projects/${this.session.project.id}/label/${s.task}/`, text: s.text }), el("div", { class: "muted", text: `${labels.join(" · ")} (${percent(s.score)} alike)` })));
    }
    this.similar.append(list);
  }
}

// --- progress ------------------------------------------------------------------------------
class ProgressPanel {
  constructor(session) {
    this.session = session;
    this.root = $("lbl-progress");
  }

  async show() {
    try {
      this.render(await api(`/api/projects/${this.session.project.id}/label/progress`));
    } catch {
      clear(this.root);
    }
  }

  render(p) {
    const total = p.done + p.skipped + p.remaining;
    const bar = el("progress", { max: String(Math.max(total, 1)), value: String(p.done + p.skipped), "aria-label": "Your progress" });
    // Above some thousands the server estimates what is left (no count of the whole project).
    const left = p.remaining_estimated ? `≈ ${p.remaining.toLocaleString()}` : String(p.remaining);
    const text = `${p.done} done · ${p.skipped} skipped · ${left} left · ETA ${duration(p.eta_seconds)} (median ${duration(p.median_lead_time)} a task)`;
    clear(this.root).append(bar, el("span", { class: "muted", text }));
  }
}

// --- help ----------------------------------------------------------------------------------
class HelpPanel {
  constructor(session) {
    this.session = session;
    this.dialog = $("lbl-help-dialog");
  }

  open() {
    const groups = new Map();
    for (const binding of this.session.hotkeys.list()) {
      if (!groups.has(binding.group)) groups.set(binding.group, []);
      groups.get(binding.group).push(binding);
    }
    clear(this.dialog).append(el("h2", { text: "Keyboard shortcuts" }));
    for (const [group, bindings] of groups) {
      const rows = bindings.map((b) => el("tr", {}, el("td", {}, el("kbd", { text: b.label })), el("td", { text: b.description })));
      this.dialog.append(el("h3", { text: group }), el("table", { class: "grid" }, el("tbody", {}, rows)));
    }
    this.dialog.append(el("form", { method: "dialog" }, el("button", { type: "submit", text: "Close (Esc)" })));
    if (!this.dialog.open) this.dialog.showModal();
    return true;
  }
}

export class Panels {
  constructor(session) {
    this.regions = new RegionsPanel(session);
    this.intents = new IntentsPanel(session);
    this.entities = new EntitiesPanel(session);
    this.context = new ContextPanel(session);
    this.progress = new ProgressPanel(session);
    this.help = new HelpPanel(session);
  }

  show(payload) {
    this.regions.render();
    this.intents.show(payload);
    this.entities.show(payload);
    this.context.show(payload);
  }

  // What needs the server, once the task is on screen.
  later(payload) {
    this.progress.show();
    this.entities.load(payload);
    this.context.loadSimilar();
  }
}
