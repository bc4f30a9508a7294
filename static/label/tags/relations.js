// <Relations>: links between two regions. Select a region, press Alt+R, then select the
// target region (click it, or Alt+Down/Alt+Up): the relation is made. Relation labels
// (<Relation value>) toggle on the selected relation from the regions panel list.

import { clear, el } from "../../common/dom.js";

function describe(store, id) {
  const item = store.get(id);
  if (!item) return "?";
  const labels = item.value[item.type] || [];
  return `${labels.join(", ")} “${item.value.text ?? id}”`;
}

export default {
  mount(ctx) {
    const control = ctx.config || { labels: [] };
    let from = null;
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
        list.append(
          el("li", { class: "lv-relation" }, `${describe(ctx.store, relation.from_id)} → ${describe(ctx.store, relation.to_id)} `, buttons,
            el("button", { type: "button", class: "remove", "aria-label": "Delete relation", text: "×", on: { click: () => ctx.store.remove(relation.id) } })),
        );
      }
      status.textContent = from ? `Relation from ${describe(ctx.store, from)}: select the target region (Escape cancels)` : "";
    };
    ctx.hotkey({
      keys: "alt+r",
      description: "start a relation from the selected region",
      handler: () => {
        if (!ctx.store.selectedId) return false;
        from = ctx.store.selectedId;
        render();
        return true;
      },
    });
    ctx.on("selection:cancel", () => {
      from = null;
      render();
    });
    ctx.subscribe((event, store) => {
      if (event.type === "select" && from && store.selectedId && store.selectedId !== from) {
        const to = store.selectedId;
        const exists = relations().some((r) => r.from_id === from && r.to_id === to);
        const source = from;
        from = null;
        if (!exists) store.add({ type: "relation", from_id: source, to_id: to, direction: "right", labels: [], value: {} });
      }
      render();
    });
    render();
    return { el: el("div", { class: "lv-control lv-relations-control" }, el("div", { class: "lv-title", text: "Relations" }), status, list) };
  },
};
