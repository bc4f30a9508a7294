// <Relations>: links between two regions. Select a region, press Alt+R, then select the
// target region (click it, or Alt+Down/Alt+Up): the relation is made. Relation labels
// (<Relation value>) toggle on the selected relation from the regions panel list.
//
// Relations between spans are drawn over the text as arcs (an SVG layer over the workspace,
// placed from the spans' client rectangles and redrawn when the store, the text, the window
// or the workspace's size change), with the direction's arrow and the relation's labels.
// Click an arc or press Alt+Shift+Down/Up to select a relation; Delete removes it.

import { clear, el } from "../../common/dom.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function describe(store, id) {
  const item = store.get(id);
  if (!item) return "?";
  const labels = item.value[item.type] || [];
  return `${labels.join(", ")} “${item.value.text ?? id}”`;
}

class Arcs {
  constructor(ctx, host) {
    this.ctx = ctx;
    this.host = host;
    this.layer = svg("svg", { class: "lv-arcs", "aria-hidden": "true" });
    const defs = svg("defs");
    const marker = svg("marker", { id: "lv-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "lv-arrow" }));
    defs.append(marker);
    this.layer.append(defs);
    this.group = svg("g");
    this.layer.append(this.group);
    host.append(this.layer);
    this.frame = 0;
    this.schedule = () => {
      if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
    };
    window.addEventListener("resize", this.schedule);
    window.addEventListener("scroll", this.schedule, true); // inner scrolling boxes too
    this.observer = typeof ResizeObserver === "function" ? new ResizeObserver(this.schedule) : null;
    this.observer?.observe(host);
  }

  // Top centre of a span's first and last rectangles, in the layer's coordinates.
  anchor(regionId) {
    const region = this.ctx.store.get(regionId);
    const object = region && this.ctx.object(region.to_name);
    const rects = object?.spanRects?.(regionId);
    if (!rects) return null;
    const base = this.host.getBoundingClientRect();
    const r = rects.first;
    return { x: r.left + r.width / 2 - base.left + this.host.scrollLeft, y: r.top - base.top + this.host.scrollTop };
  }

  draw() {
    this.frame = 0;
    if (!this.layer.isConnected) return;
    clear(this.group);
    this.layer.setAttribute("width", String(this.host.scrollWidth));
    this.layer.setAttribute("height", String(this.host.scrollHeight));
    const selectedId = this.ctx.store.selectedId;
    for (const relation of this.ctx.store.all().filter((i) => i.type === "relation")) {
      const a = this.anchor(relation.from_id);
      const b = this.anchor(relation.to_id);
      if (!a || !b) continue;
      const lift = Math.min(60, 16 + Math.abs(b.x - a.x) * 0.12 + Math.abs(b.y - a.y) * 0.1);
      const top = Math.min(a.y, b.y) - lift;
      const d = `M${a.x.toFixed(1)},${a.y.toFixed(1)} C${a.x.toFixed(1)},${top.toFixed(1)} ${b.x.toFixed(1)},${top.toFixed(1)} ${b.x.toFixed(1)},${b.y.toFixed(1)}`;
      const direction = relation.direction || "right";
      const arc = svg("path", { d, class: `lv-arc${relation.id === selectedId ? " selected" : ""}` });
      arc.dataset.relation = relation.id;
      if (direction === "right" || direction === "bi") arc.setAttribute("marker-end", "url(#lv-arrow)");
      if (direction === "left" || direction === "bi") arc.setAttribute("marker-start", "url(#lv-arrow)");
      // A wide transparent twin takes the clicks.
      const hit = svg("path", { d, class: "lv-arc-hit" });
      hit.addEventListener("click", () => this.ctx.store.select(relation.id));
      this.group.append(hit, arc);
      const labels = relation.labels || [];
      if (labels.length) {
        const text = svg("text", { x: ((a.x + b.x) / 2).toFixed(1), y: (top + lift * 0.25 - 2).toFixed(1), class: "lv-arc-label", "text-anchor": "middle" });
        text.textContent = labels.join(", ");
        this.group.append(text);
      }
    }
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    window.removeEventListener("resize", this.schedule);
    window.removeEventListener("scroll", this.schedule, true);
    this.observer?.disconnect();
    this.layer.remove();
  }
}

export default {
  mount(ctx) {
    const control = ctx.config || { labels: [] };
    let from = null;
    let arcs = null;
    const status = el("div", { class: "lv-relation-status", "aria-live": "polite" });
    const list = el("ul", { class: "lv-relations" });
    const relations = () => ctx.store.all().filter((item) => item.type === "relation");
    const toggleLabel = (relation, value) => {
      const labels = relation.labels || [];
      const next = labels.includes(value) ? labels.filter((l) => l !== value) : [...labels, value];
      ctx.store.update(relation.id, { labels: next });
    };
    const render = () => {
      clear(list);
      for (const relation of relations()) {
        const buttons = control.labels.map((label) =>
          el("button", { type: "button", class: `lv-rel-label${(relation.labels || []).includes(label.value) ? " on" : ""}`, text: label.value, on: { click: () => toggleLabel(relation, label.value) } }),
        );
        const selected = relation.id === ctx.store.selectedId;
        list.append(
          el("li", { class: `lv-relation${selected ? " selected" : ""}`, dataset: { relation: relation.id } },
            el("button", { type: "button", class: "pick", "aria-pressed": String(selected), text: `${describe(ctx.store, relation.from_id)} → ${describe(ctx.store, relation.to_id)}`, on: { click: () => ctx.store.select(relation.id) } }),
            " ", buttons,
            el("button", { type: "button", class: "remove", "aria-label": "Delete relation", text: "×", on: { click: () => ctx.store.remove(relation.id) } })),
        );
      }
      status.textContent = from ? `Relation from ${describe(ctx.store, from)}: select the target region (Escape cancels)` : "";
      arcs?.schedule();
    };
    // Step through the relations (the selected one is drawn bold; Delete removes it).
    const step = (delta) => {
      const all = relations();
      if (!all.length) return false;
      const at = all.findIndex((r) => r.id === ctx.store.selectedId);
      const next = at === -1 ? (delta > 0 ? 0 : all.length - 1) : (at + delta + all.length) % all.length;
      ctx.store.select(all[next].id);
      return true;
    };
    ctx.hotkey({
      keys: "alt+r",
      description: "start a relation from the selected region",
      handler: () => {
        const selected = ctx.store.selected;
        if (!selected || selected.type === "relation") return false;
        from = selected.id;
        render();
        return true;
      },
    });
    ctx.hotkey({ keys: "alt+shift+down", description: "select the next relation (Delete removes it)", handler: () => step(1) });
    ctx.hotkey({ keys: "alt+shift+up", description: "select the previous relation", handler: () => step(-1) });
    ctx.on("selection:cancel", () => {
      from = null;
      render();
    });
    ctx.on("spans:render", () => arcs?.schedule());
    ctx.subscribe((event, store) => {
      const target = store.selected;
      if (event.type === "select" && from && target && target.id !== from && target.type !== "relation") {
        const exists = relations().some((r) => r.from_id === from && r.to_id === target.id);
        const source = from;
        from = null;
        if (!exists) store.add({ type: "relation", from_id: source, to_id: target.id, direction: "right", labels: [], value: {} });
      }
      render();
    });
    const root = el("div", { class: "lv-control lv-relations-control" }, el("div", { class: "lv-title", text: "Relations" }), status, list);
    return {
      el: root,
      afterMount() {
        const host = root.closest(".lbl-workspace") || root.parentElement;
        if (host) arcs = new Arcs(ctx, host);
        render();
      },
      destroy() {
        arcs?.destroy();
        arcs = null;
      },
    };
  },
};
