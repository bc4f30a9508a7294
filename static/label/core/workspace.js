// One task on screen: the mounted tag instances, the contexts handed to them, and what tags
// share (the store, hotkeys, confidence colours). A task switch unmounts everything and
// mounts again; shortcuts a tag registered through its context go with it.

import { clear } from "../../common/dom.js";
import { mountLayout } from "./mount.js";

export function dataValue(data, path) {
  if (!path) return undefined;
  return path.split(".").reduce((value, key) => (value == null ? undefined : value[key]), data);
}

export class Workspace {
  constructor({ schema, layout, project, store, hotkeys }) {
    this.objectsByName = Object.fromEntries(schema.objects.map((o) => [o.name, o]));
    this.controlsByName = Object.fromEntries(schema.controls.map((c) => [c.name, c]));
    this.schema = schema;
    this.layout = layout;
    this.project = project;
    this.store = store;
    this.hotkeys = hotkeys;
    this.instances = new Map();
    this.cleanups = [];
    this.listeners = new Map();
    this.task = null;
    this.prediction = null; // the task's prediction, applied or not
    this.phrases = []; // phrases the project knows ({text, label, from_name, type}), kept by the session
  }

  // Confidence class of a model score (0..1) with the project's thresholds.
  confidence(score) {
    if (typeof score !== "number") return null;
    if (score >= this.project.confidence_high) return "high";
    if (score >= this.project.confidence_low) return "mid";
    return "low";
  }

  instance(name) {
    return this.instances.get(name) || null;
  }

  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    const off = () => this.listeners.get(event).delete(listener);
    this.cleanups.push(off);
    return off;
  }

  emit(event, detail) {
    for (const listener of [...(this.listeners.get(event) || [])]) listener(detail);
  }

  context(node) {
    const config = this.objectsByName[node.name] || this.controlsByName[node.name] || null;
    const ws = this;
    return {
      node,
      tag: node.tag,
      name: node.name,
      attrs: node.attrs || {},
      config,
      schema: this.schema,
      project: this.project,
      task: this.task,
      store: this.store,
      prediction: () => ws.prediction?.result || [],
      phrases: () => ws.phrases,
      value: () => (config && config.value_field ? dataValue(ws.task.data, config.value_field) : config?.value),
      resolve: (raw) => (typeof raw === "string" && raw.startsWith("$") ? dataValue(ws.task.data, raw.slice(1)) : raw),
      hotkey: (spec) => ws.keep(ws.hotkeys.register({ group: node.name || node.tag, ...spec })),
      documentKey: (spec) => ws.keep(ws.hotkeys.document({ group: node.name || node.tag, ...spec })),
      subscribe: (listener) => ws.keep(ws.store.subscribe(listener)),
      object: (name) => ws.instance(name),
      control: (name) => ws.instance(name),
      controlsFor: (objectName) => ws.schema.controls.filter((c) => c.to_name.includes(objectName)),
      confidence: (score) => ws.confidence(score),
      on: (event, listener) => ws.on(event, listener),
      emit: (event, detail) => ws.emit(event, detail),
      onCleanup: (fn) => ws.keep(fn),
      registerInstance: (instance) => {
        if (node.name) ws.instances.set(node.name, instance);
      },
    };
  }

  keep(cleanup) {
    this.cleanups.push(cleanup);
    return cleanup;
  }

  async mount(task, container, { prediction = null } = {}) {
    this.unmount();
    this.task = task;
    this.prediction = prediction;
    const next = await mountLayout(this.layout, (node) => this.context(node));
    clear(container).append(next.el);
    this.mounted = next.instances;
    for (const { instance } of next.instances) if (instance.afterMount) instance.afterMount();
    return next;
  }

  unmount() {
    for (const { instance } of this.mounted || []) if (instance.destroy) instance.destroy();
    this.cleanups.forEach((fn) => fn());
    this.cleanups = [];
    this.instances = new Map();
    this.mounted = [];
  }
}
