// The annotation state of the open task: a list of Label Studio result items, with undo/redo.
//
// Items are frozen plain objects; every change replaces the list, so one undo step is one
// saved list (cheap: a task holds tens of items). Besides the Label Studio fields an item may
// carry `origin` ("prediction" | "prediction-changed" | "manual") and `score` (the model's
// confidence), which the page shows; `result()` is what the server receives.

// Result types about a whole object (one item per control), as in the server's validator.
export const WHOLE_OBJECT_TYPES = new Set([
  "choices",
  "taxonomy",
  "textarea",
  "rating",
  "number",
  "datetime",
]);

let counter = 0;

export function newId() {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 8);
  return `${random}${counter.toString(36)}`.slice(0, 10);
}

function freeze(item) {
  return Object.freeze({ ...item, value: Object.freeze({ ...item.value }) });
}

// An edit of a predicted item makes it the annotator's: the confidence no longer applies.
function edited(item) {
  if (item.origin !== "prediction") return item;
  const { score: _score, ...rest } = item;
  return { ...rest, origin: "prediction-changed" };
}

export class Store {
  constructor() {
    this.items = [];
    this.undoStack = [];
    this.redoStack = [];
    this.listeners = new Set();
    this.selectedId = null;
    this.batch = null;
    this.changes = 0; // edits since load(): 0 means the starting point is untouched
  }

  // --- reading -------------------------------------------------------------------------------
  all() {
    return this.items;
  }

  // The region with this id. Items of perRegion controls share their region's id (Label
  // Studio's format), so the region itself comes first, whatever the list order.
  get(id) {
    const region = this.items.find((item) => item.id === id && !WHOLE_OBJECT_TYPES.has(item.type));
    return region || this.items.find((item) => item.id === id) || null;
  }

  where({ from_name, to_name, type } = {}) {
    return this.items.filter(
      (item) =>
        (from_name === undefined || item.from_name === from_name) &&
        (to_name === undefined || item.to_name === to_name) &&
        (type === undefined || item.type === type),
    );
  }

  // The one classification item of a control (Choices, Taxonomy, TextArea...), if any.
  valueOf(from_name, to_name) {
    const found = this.items.find(
      (item) =>
        item.from_name === from_name &&
        item.to_name === to_name &&
        WHOLE_OBJECT_TYPES.has(item.type),
    );
    return found || null;
  }

  // The item of a perRegion control (TextArea, Choices...) about region `regionId`, if any.
  regionValueOf(regionId, from_name) {
    return this.items.find((item) => item.id === regionId && item.from_name === from_name) || null;
  }

  get selected() {
    return this.selectedId ? this.get(this.selectedId) : null;
  }

  result() {
    return this.items.map(({ origin: _origin, score, ...item }) => {
      const out = { ...item, value: { ...item.value } };
      if (score !== undefined) out.score = score;
      if (_origin) out.origin = _origin;
      return out;
    });
  }

  // --- writing -------------------------------------------------------------------------------
  load(items) {
    // Regions need an id to be selected (and related): imported predictions may lack one.
    this.items = items.map((item) => freeze(item.id || item.type === "relation" ? item : { ...item, id: newId() }));
    this.undoStack = [];
    this.redoStack = [];
    this.selectedId = null;
    this.changes = 0;
    this.emit({ type: "load" });
  }

  // Group several changes into one undo step (e.g. an entity propagated to every occurrence).
  transact(label, fn) {
    if (this.batch) return fn();
    this.batch = { label, before: this.items, touched: false };
    try {
      return fn();
    } finally {
      const { before, touched } = this.batch;
      this.batch = null;
      if (touched) this.commit(before, label);
    }
  }

  add(item) {
    const full = freeze({ origin: "manual", ...item, id: item.id || newId() });
    this.replace([...this.items, full], "add");
    return full;
  }

  update(id, change) {
    const current = this.get(id);
    if (!current) return null;
    const patch = typeof change === "function" ? change(current) : change;
    const next = freeze(edited({ ...current, ...patch, value: { ...current.value, ...(patch.value || {}) } }));
    this.replace(this.items.map((item) => (item === current ? next : item)), "update");
    return next;
  }

  remove(id) {
    if (!this.get(id)) return;
    // Relations pointing at a removed region go with it.
    const kept = this.items.filter(
      (item) => item.id !== id && item.from_id !== id && item.to_id !== id,
    );
    if (this.selectedId === id) this.selectedId = null;
    this.replace(kept, "remove");
  }

  // Set the whole value of a classification control; an empty value removes its item.
  setValue({ from_name, to_name, type }, value, isEmpty) {
    const current = this.valueOf(from_name, to_name);
    if (isEmpty) {
      if (current) this.remove(current.id);
      return null;
    }
    if (current) return this.update(current.id, { value, type });
    return this.add({ from_name, to_name, type, value });
  }

  // Set the value of a perRegion control for one region: the item takes the region's id and
  // goes with the region when it is removed. An empty value removes the item.
  setRegionValue(regionId, { from_name, to_name, type }, value, isEmpty) {
    const current = this.regionValueOf(regionId, from_name);
    if (isEmpty) {
      if (current) this.replace(this.items.filter((item) => item !== current), "remove");
      return null;
    }
    if (current) {
      const next = freeze(edited({ ...current, type, value }));
      this.replace(this.items.map((item) => (item === current ? next : item)), "update");
      return next;
    }
    if (!this.get(regionId)) return null;
    const item = freeze({ origin: "manual", id: regionId, from_name, to_name, type, value });
    this.replace([...this.items, item], "add");
    return item;
  }

  replace(items, label) {
    if (this.batch) {
      this.items = items;
      this.batch.touched = true;
      return;
    }
    const before = this.items;
    this.items = items;
    this.commit(before, label);
  }

  commit(before, label) {
    this.undoStack.push(before);
    if (this.undoStack.length > 200) this.undoStack.shift();
    this.redoStack = [];
    this.changes += 1;
    this.emit({ type: "change", label });
  }

  undo() {
    if (!this.undoStack.length) return false;
    this.redoStack.push(this.items);
    this.items = this.undoStack.pop();
    this.changes += 1;
    this.keepSelection();
    this.emit({ type: "change", label: "undo" });
    return true;
  }

  redo() {
    if (!this.redoStack.length) return false;
    this.undoStack.push(this.items);
    this.items = this.redoStack.pop();
    this.changes += 1;
    this.keepSelection();
    this.emit({ type: "change", label: "redo" });
    return true;
  }

  keepSelection() {
    if (this.selectedId && !this.get(this.selectedId)) this.selectedId = null;
  }

  select(id) {
    this.selectedId = id && this.get(id) ? id : null;
    this.emit({ type: "select" });
  }

  // --- listening -----------------------------------------------------------------------------
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event) {
    for (const listener of [...this.listeners]) listener(event, this);
  }
}
