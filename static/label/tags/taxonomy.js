// <Taxonomy>: a tree of choices. Search as you type across every node ("/" focuses the
// search of the first taxonomy), Up/Down through the results or the tree, Right/Left to
// expand/collapse, Enter or Space to pick. Several paths may be picked unless maxUsages="1";
// leafsOnly="true" allows leaves only. Value: {"taxonomy": [["Parent", "Child"], ...]}.

import { clear, el } from "../../common/dom.js";
import { recentValues, rememberValue } from "./recent.js";

const MAX_RESULTS = 50;

function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

function flatten(labels, path = [], out = []) {
  for (const label of labels) {
    const value = label.alias || label.value;
    const node = { label, path: [...path, value], names: [...path.map(String), label.value], leaf: !(label.children || []).length };
    node.key = node.path.join("\u0000");
    node.folded = fold(node.names.join(" / "));
    out.push(node);
    flatten(label.children || [], node.path, out);
  }
  return out;
}

class TaxonomyTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.control = ctx.config;
    this.toName = this.control.to_name[0];
    this.nodes = flatten(this.control.labels);
    this.byKey = new Map(this.nodes.map((n) => [n.key, n]));
    this.expanded = new Set();
    this.single = ctx.attrs.maxUsages === "1" || this.control.choice !== "multiple";
    this.leafsOnly = this.control.leafs_only;
    this.activeIndex = 0;
    this.search = el("input", { type: "search", class: "lv-tax-search", placeholder: "Search… (/)", "aria-label": `Search ${ctx.name}`, autocomplete: "off" });
    this.search.addEventListener("input", () => {
      this.activeIndex = 0;
      this.renderTree();
    });
    this.search.addEventListener("keydown", (event) => this.onSearchKey(event));
    this.picked = el("div", { class: "lv-tax-picked", "aria-live": "polite" });
    this.tree = el("ul", { class: "lv-tax-tree", role: "tree", "aria-label": ctx.name, "aria-multiselectable": String(!this.single) });
    this.tree.addEventListener("keydown", (event) => this.onTreeKey(event));
    this.recentRow = el("div", { class: "lv-recent", "aria-label": "Recent choices" });
    this.el = el("div", { class: "lv-control lv-taxonomy", dataset: { name: ctx.name } }, el("div", { class: "lv-title", text: ctx.name }), this.picked, this.search, this.recentRow, this.tree);
    const first = ctx.schema.controls.find((c) => c.tag === "Taxonomy");
    if (first && first.name === ctx.name) {
      ctx.hotkey({ keys: "/", description: "search the taxonomy", handler: () => this.search.focus() });
    }
    ctx.documentKey({ keys: "down / up", description: "move through results or the tree (taxonomy focused)" });
    ctx.documentKey({ keys: "enter / space", description: "pick the highlighted taxonomy item" });
    ctx.documentKey({ keys: "right / left", description: "expand / collapse a taxonomy branch" });
    ctx.subscribe(() => this.render());
    this.render();
  }

  values() {
    const item = this.ctx.store.valueOf(this.control.name, this.toName);
    return item ? item.value.taxonomy || [] : [];
  }

  isPicked(node) {
    return this.values().some((path) => path.join("\u0000") === node.key);
  }

  toggle(node) {
    if (this.leafsOnly && !node.leaf) {
      this.toggleExpanded(node);
      return;
    }
    const current = this.values();
    const has = current.some((path) => path.join("\u0000") === node.key);
    let next;
    if (has) next = current.filter((path) => path.join("\u0000") !== node.key);
    else next = this.single ? [node.path] : [...current, node.path];
    const spec = { from_name: this.control.name, to_name: this.toName, type: "taxonomy" };
    this.ctx.store.setValue(spec, { taxonomy: next }, next.length === 0);
    if (!has) rememberValue(this.ctx.project.id, this.control.name, node.key);
  }

  toggleExpanded(node, open) {
    const want = open === undefined ? !this.expanded.has(node.key) : open;
    if (want) this.expanded.add(node.key);
    else this.expanded.delete(node.key);
    this.renderTree();
  }

  // Nodes shown: search results when there is a query, else the expanded tree.
  visible() {
    const query = fold(this.search.value.trim());
    if (query) {
      const words = query.split(/\s+/);
      return this.nodes.filter((n) => (!this.leafsOnly || n.leaf) && words.every((w) => n.folded.includes(w))).slice(0, MAX_RESULTS);
    }
    return this.nodes.filter((n) => n.path.slice(0, -1).every((_, i) => this.expanded.has(n.path.slice(0, i + 1).join("\u0000"))));
  }

  render() {
    this.renderPicked();
    this.renderRecent();
    this.renderTree();
  }

  renderPicked() {
    clear(this.picked);
    for (const path of this.values()) {
      const node = this.byKey.get(path.join("\u0000"));
      const names = node ? node.names : path;
      this.picked.append(
        el("span", { class: "lv-tax-chip" }, names.join(" / "), el("button", { type: "button", class: "remove", "aria-label": `Remove ${names.join(" / ")}`, text: "×", on: { click: () => node && this.toggle(node) } })),
      );
    }
  }

  renderRecent() {
    clear(this.recentRow);
    const nodes = recentValues(this.ctx.project.id, this.control.name).map((k) => this.byKey.get(k)).filter(Boolean);
    if (!nodes.length) return;
    this.recentRow.append(el("span", { class: "muted", text: "Recent:" }));
    for (const node of nodes) this.recentRow.append(el("button", { type: "button", class: "lv-recent-choice", text: node.label.value, title: node.names.join(" / "), on: { click: () => (this.isPicked(node) ? null : this.toggle(node)) } }));
  }

  renderTree() {
    const searching = Boolean(this.search.value.trim());
    const shown = this.visible();
    this.shown = shown;
    this.activeIndex = Math.max(0, Math.min(this.activeIndex, shown.length - 1));
    clear(this.tree);
    if (searching && !shown.length) this.tree.append(el("li", { class: "muted", text: "No match" }));
    shown.forEach((node, index) => this.tree.append(this.row(node, index, searching)));
  }

  row(node, index, searching) {
    const picked = this.isPicked(node);
    const open = this.expanded.has(node.key);
    const item = el(
      "li",
      { role: "treeitem", class: `lv-tax-item${picked ? " on" : ""}${index === this.activeIndex ? " active" : ""}`, tabindex: index === this.activeIndex ? "0" : "-1", "aria-selected": String(picked), "aria-level": String(searching ? 1 : node.path.length), dataset: { key: node.key } },
      !searching && !node.leaf ? el("span", { class: "twisty", "aria-hidden": "true", text: open ? "▾" : "▸" }) : null,
      el("span", { class: "name", text: searching ? node.names.join(" / ") : node.label.value }),
    );
    if (!node.leaf && !searching) item.setAttribute("aria-expanded", String(open));
    item.style.paddingLeft = searching ? "" : `${(node.path.length - 1) * 1.1 + 0.3}rem`;
    item.addEventListener("click", (event) => {
      this.activeIndex = index;
      if (event.target.closest(".twisty")) this.toggleExpanded(node);
      else this.toggle(node);
    });
    return item;
  }

  focusActive() {
    const active = this.tree.querySelector(".lv-tax-item.active");
    if (active) active.focus({ preventScroll: false });
  }

  move(delta) {
    this.activeIndex = Math.max(0, Math.min((this.shown || []).length - 1, this.activeIndex + delta));
    this.renderTree();
  }

  onSearchKey(event) {
    const node = (this.shown || [])[this.activeIndex];
    if (event.key === "ArrowDown" || event.key === "ArrowUp") this.move(event.key === "ArrowDown" ? 1 : -1);
    else if (event.key === "Enter" && node) this.toggle(node);
    else if (event.key === "Escape") {
      if (!this.search.value) return;
      this.search.value = "";
      this.renderTree();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  }

  onTreeKey(event) {
    const node = (this.shown || [])[this.activeIndex];
    if (!node) return;
    const searching = Boolean(this.search.value.trim());
    if (event.key === "ArrowDown" || event.key === "ArrowUp") this.move(event.key === "ArrowDown" ? 1 : -1);
    else if (event.key === "ArrowRight" && !searching && !node.leaf) this.toggleExpanded(node, true);
    else if (event.key === "ArrowLeft" && !searching) this.collapseOrParent(node);
    else if (event.key === "Enter" || event.key === " ") this.toggle(node);
    else return;
    event.preventDefault();
    event.stopPropagation();
    this.focusActive();
  }

  collapseOrParent(node) {
    if (this.expanded.has(node.key)) {
      this.toggleExpanded(node, false);
      return;
    }
    const parentKey = node.path.slice(0, -1).join("\u0000");
    const index = this.shown.findIndex((n) => n.key === parentKey);
    if (index >= 0) this.activeIndex = index;
    this.renderTree();
  }
}

export default {
  mount(ctx) {
    return new TaxonomyTag(ctx);
  },
};
