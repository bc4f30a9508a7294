// The labelling session: shows one task at a time, submits, skips, accepts predictions,
// moves with J/K, auto-saves the draft and measures the lead time.

import { api, HttpError } from "../common/http.js";
import { openLive, presenceText } from "../common/live.js";
import { Hotkeys } from "./core/hotkeys.js";
import { Store } from "./core/store.js";
import { Workspace } from "./core/workspace.js";
import { Panels } from "./panels/index.js";

const AUTOSAVE_MS = 3000;
const SIDE_REQUESTS_DELAY_MS = 400;
const $ = (id) => document.getElementById(id);

function predictionItems(prediction) {
  return (prediction?.result || []).map((item) => ({
    ...item,
    origin: "prediction",
    score: typeof item.score === "number" ? item.score : prediction.score ?? undefined,
  }));
}

// Where the user starts: their draft, their own annotation, the prediction, or nothing.
export function startingPoint(payload) {
  if (payload.draft) return { items: payload.draft.result, source: "draft" };
  if (payload.annotation) return { items: payload.annotation.result, source: "annotation" };
  if (payload.prediction) return { items: predictionItems(payload.prediction), source: "prediction" };
  return { items: [], source: "empty" };
}

// One line per result item, as text: "intent: greet", "label: Alice (PER)".
function itemLines(result) {
  return (result || []).map((item) => {
    const value = item.value || {};
    const labels = value[item.type] || value.labels || value.choices || value.text || [];
    const shown = Array.isArray(labels) ? labels.flat().join(", ") : String(labels);
    const span = typeof value.text === "string" ? `${value.text} (${shown})` : shown;
    return `${item.from_name}: ${span}`;
  });
}

function summarize(result) {
  return itemLines(result).join("; ") || "nothing";
}

// Both versions' items, the user's winning where the two have the same item id.
export function mergeResults(theirs, mine) {
  const merged = new Map((theirs || []).map((item, i) => [item.id ?? `theirs-${i}`, item]));
  (mine || []).forEach((item, i) => merged.set(item.id ?? `mine-${i}`, item));
  return [...merged.values()];
}

const percent = (x) => `${Math.round(x * 100)}%`;

// Instant feedback on a gold task of the annotator's certification (the submit's answer).
export function certificationFeedback(c) {
  const head = `Certification ${Math.min(c.done, c.required)}/${c.required}: this answer scored ${percent(c.score)}. Expected: ${summarize(c.expected)}. Yours: ${summarize(c.answer)}.`;
  if (c.certified) return [`${head} Certified: production tasks from now on.`, "info"];
  const sofar = c.accuracy === null ? "" : ` Accuracy so far ${percent(c.accuracy)} (${percent(c.threshold)} needed).`;
  return [`${head}${sofar}`, c.passed === false ? "warn" : "info"];
}

export class Session {
  constructor(page) {
    this.page = page;
    this.project = page.project;
    this.store = new Store();
    this.hotkeys = new Hotkeys();
    this.ws = new Workspace({ schema: page.schema, layout: page.layout, project: page.project, store: this.store, hotkeys: this.hotkeys });
    this.app = $("label-app");
    this.notes = $("lbl-notes");
    this.cache = new Map();
    this.current = null;
    this.ws.phrases = [...(page.phrases || [])];
    // Opened from the data manager: label its filtered, sorted list in order (the filters
    // travel in the query string) instead of taking tasks from the queue.
    const query = new URLSearchParams(location.search);
    this.order = query.get("from") === "datamanager" ? query : null;
    this.busy = false;
    this.panels = new Panels(this);
    this.bindPageKeys();
    this.bindButtons();
    this.bindConflict();
    this.startAutosave();
  }

  // --- showing a task ------------------------------------------------------------------------
  // `leased`: the task was handed out by the queue (next task), so the page keeps its lease
  // alive; tasks opened by id or with J/K are looked at without reserving them.
  async show(payload, { push = true, leased = false } = {}) {
    this.current = payload;
    this.leased = leased;
    const task = payload.task;
    const start = startingPoint(payload);
    this.ws.unmount();
    this.store.load(start.items);
    this.source = start.source;
    this.notes.value = payload.draft?.notes ?? payload.annotation?.notes ?? "";
    this.saved = { changes: this.store.changes, notes: this.notes.value };
    this.draftVersion = payload.draft?.version ?? null;
    await this.ws.mount(task, $("lbl-workspace"), { prediction: payload.prediction });
    this.lead = { base: payload.draft?.lead_time || 0, since: performance.now(), active: 0 };
    this.panels.show(payload);
    this.afterShow(task, push);
  }

  afterShow(task, push) {
    const url = `/projects/${this.project.id}/label/${task.id}/${this.order ? `?${this.order}` : ""}`;
    if (push && location.pathname !== url) history.pushState({ task: task.id }, "", url);
    else history.replaceState({ task: task.id }, "", url);
    $("lbl-task-id").textContent = `· task ${task.id}`;
    $("lbl-accept").hidden = !this.current.prediction;
    // Why the task has no prediction when a connected ML backend failed or timed out.
    const notice = $("lbl-ml-notice");
    notice.textContent = this.current.prediction_notice || "";
    notice.hidden = !this.current.prediction_notice;
    // A reviewer rejected the user's annotation: the task came back with their comment.
    const own = this.current.annotation;
    const review = $("lbl-review-notice");
    const rejected = own?.review_status === "rejected";
    review.textContent = rejected ? `Returned by a reviewer: ${own.review_comment}` : "";
    review.hidden = !rejected;
    this.app.dataset.state = "ready";
    this.app.dataset.task = String(task.id);
    $("lbl-conflict").hidden = true;
    this.goLive(task.id);
    this.focusFirst();
    this.markReady();
    this.prefetch();
    // Side requests wait a moment: the neighbours' prefetch goes first, and a user moving
    // on at once does not queue requests for a task already left.
    clearTimeout(this.sideTimer);
    clearInterval(this.lockTimer);
    this.sideTimer = setTimeout(() => {
      if (this.leased) this.heartbeat();
      this.panels.later(this.current);
    }, SIDE_REQUESTS_DELAY_MS);
  }

  markReady() {
    performance.mark("label-ready");
    if (this.switchStart !== undefined) {
      performance.measure("label-switch", { start: this.switchStart, end: performance.now() });
      this.switchStart = undefined;
    }
  }

  focusFirst() {
    for (const { instance } of this.ws.mounted) {
      if (instance.focus && instance.el?.classList.contains("lv-text")) {
        instance.focus();
        return;
      }
    }
  }

  prefetch() {
    const { next, previous } = this.current.neighbours;
    for (const id of [next, previous]) {
      if (id && !this.cache.has(id)) {
        this.cache.set(id, api(`/api/tasks/${id}/label`).catch(() => this.cache.delete(id)));
      }
    }
  }

  // --- the user's work ---------------------------------------------------------------------
  leadTime() {
    const visible = document.visibilityState === "visible";
    const running = visible ? performance.now() - this.lead.since : 0;
    return Math.round((this.lead.base + (this.lead.active + running) / 1000) * 10) / 10;
  }

  pauseLead(hidden) {
    if (!this.lead) return;
    if (hidden) this.lead.active += performance.now() - this.lead.since;
    this.lead.since = performance.now();
  }

  parentPrediction() {
    const prediction = this.current.prediction;
    if (!prediction) return null;
    const fromModel = this.store.all().some((i) => i.origin === "prediction" || i.origin === "prediction-changed");
    return fromModel ? prediction.id : null;
  }

  missingRequired() {
    return this.page.schema.controls
      .filter((c) => c.required && !this.store.all().some((i) => i.from_name === c.name))
      .map((c) => c.name);
  }

  flushInputs() {
    for (const { instance } of this.ws.mounted) if (instance.flush) instance.flush();
  }

  dirty() {
    return this.store.changes !== this.saved.changes || this.notes.value !== this.saved.notes;
  }

  // --- actions -----------------------------------------------------------------------------
  async submit() {
    if (this.busy || !this.current) return;
    this.flushInputs();
    const missing = this.missingRequired();
    if (missing.length) return this.status(`Required: ${missing.join(", ")}`, "error");
    const result = this.store.result();
    if (!result.length && !this.project.enable_empty_annotation) return this.status("This project does not accept empty annotations.", "error");
    const own = this.current.annotation;
    const body = { result, lead_time: this.leadTime(), notes: this.notes.value, parent_prediction: this.parentPrediction(), annotation: own?.id ?? null };
    if (own) body.version = own.version;
    await this.post(`/api/tasks/${this.current.task.id}/label/submit`, body, own ? "Updated" : "Submitted");
  }

  async accept() {
    const prediction = this.current?.prediction;
    if (!prediction || this.busy) return false;
    this.store.load(predictionItems(prediction));
    await this.submit();
    return true;
  }

  async skip() {
    if (this.busy || !this.current) return;
    if (!this.project.show_skip_button) return this.status("Skipping is turned off in this project.", "error");
    await this.post(`/api/tasks/${this.current.task.id}/label/skip`, { notes: this.notes.value }, "Skipped");
  }

  async post(url, body, done) {
    this.busy = true;
    this.switchStart = performance.now();
    try {
      const answer = await api(url, { method: "POST", body: { ...body, next: !this.order } });
      const taskId = this.current.task.id;
      this.learn(body.result || []);
      this.cache.delete(taskId);
      this.saved = { changes: this.store.changes, notes: this.notes.value };
      if (answer.certification) this.status(...certificationFeedback(answer.certification));
      else this.status(`${done} task ${taskId}.`);
      const next = this.order ? await this.nextInOrder(taskId) : answer.next;
      if (next) await this.show(next, { leased: !this.order });
      else this.finished();
    } catch (error) {
      this.failed(error);
    } finally {
      this.busy = false;
    }
  }

  // Phrases labelled here become keyboard stops on the next tasks (Down/Up), as the ones the
  // project knew when the page opened; a phrase is kept once, with its newest label.
  learn(items) {
    const known = new Map(this.ws.phrases.map((p) => [p.text, p]));
    for (const item of items) {
      const text = item.value?.text;
      const labels = item.value?.[item.type];
      if (typeof text !== "string" || text.trim().length < 2 || !Array.isArray(labels) || !labels.length) continue;
      known.delete(text);
      known.set(text, { text, label: labels[0], from_name: item.from_name, type: item.type });
    }
    this.ws.phrases = [...known.values()];
  }

  // The task after `taskId` in the data manager's filter and sort, ready to show (or null).
  async nextInOrder(taskId) {
    const query = new URLSearchParams(this.order);
    query.set("task", String(taskId));
    const { task } = await api(`/api/projects/${this.project.id}/data/next-after?${query}`);
    return task ? api(`/api/tasks/${task}/label`) : null;
  }

  failed(error) {
    if (error instanceof HttpError && error.status === 409 && Array.isArray(error.body?.current?.result)) {
      this.showConflict(error.body.current);
    } else if (error instanceof HttpError && error.status === 409) {
      this.status("This annotation changed elsewhere: reopen the task to see the current one.", "error");
    } else if (error instanceof HttpError && error.body?.validation_errors) {
      const problems = Object.values(error.body.validation_errors).flat();
      this.status(`Not saved: ${problems.join("; ")}`, "error");
    } else this.status(`Not saved: ${error.message}`, "error");
  }

  // --- live: presence, changes made elsewhere, conflicts -----------------------------------
  // One socket per task on screen (/ws/tasks/<id>/): presence on the task, and closing it
  // (leaving the task or the page) gives the lease back at once instead of at its expiry.
  goLive(taskId) {
    if (this.live) this.live.close();
    const node = $("lbl-presence");
    this.live = openLive(`/ws/tasks/${taskId}/`, {
      onPresence: (users) => {
        const text = presenceText(users, { me: this.page.user?.id, task: taskId });
        node.textContent = text ? `Also online: ${text}` : "";
        node.hidden = !text;
      },
      onEvent: (event) => this.liveEvent(event),
    });
  }

  liveEvent(event) {
    const own = this.current?.annotation;
    if (event.type === "annotation.updated" && own && event.annotation === own.id && event.version > own.version) {
      this.status(`This annotation was changed elsewhere (now version ${event.version}); submitting will show both versions.`, "warn");
    }
  }

  // A stale write (409): the stored version beside the user's, to keep one or merge them.
  showConflict(current) {
    this.conflict = current;
    const fill = (id, items) => {
      const list = $(id);
      list.replaceChildren(...(itemLines(items).length ? itemLines(items) : ["nothing"]).map((line) => {
        const li = document.createElement("li");
        li.textContent = line;
        return li;
      }));
    };
    $("lbl-conflict-theirs-title").textContent = `Theirs (version ${current.version})`;
    fill("lbl-conflict-theirs", current.result);
    fill("lbl-conflict-mine", this.store.result());
    $("lbl-conflict").hidden = false;
    this.status("Not saved: this annotation changed elsewhere. Choose below.", "error");
  }

  bindConflict() {
    const resolve = async (choice) => {
      const current = this.conflict;
      if (!current || !this.current) return;
      this.conflict = null;
      $("lbl-conflict").hidden = true;
      this.current.annotation = { ...current };
      if (choice === "theirs") {
        this.store.load(current.result);
        this.saved = { changes: this.store.changes, notes: this.notes.value };
        this.status(`Showing their version ${current.version}.`);
        return;
      }
      if (choice === "merge") {
        this.store.load(mergeResults(current.result, this.store.result()));
        this.status("Merged: check the result, then submit.");
        return;
      }
      await this.submit(); // mine, on top of the version now stored
    };
    $("lbl-keep-mine").addEventListener("click", () => resolve("mine"));
    $("lbl-take-theirs").addEventListener("click", () => resolve("theirs"));
    $("lbl-merge").addEventListener("click", () => resolve("merge"));
  }

  finished() {
    if (this.live) this.live.close();
    this.live = null;
    clearTimeout(this.sideTimer);
    clearInterval(this.lockTimer);
    this.ws.unmount();
    this.current = null;
    this.app.dataset.state = "done";
    $("lbl-done").hidden = false;
    this.markReady();
  }

  async go(direction) {
    if (this.busy || !this.current) return;
    const id = this.current.neighbours[direction];
    if (!id) return this.status(direction === "next" ? "This is the last task." : "This is the first task.");
    this.switchStart = performance.now();
    this.remember();
    this.busy = true;
    try {
      const payload = await (this.cache.get(id) || api(`/api/tasks/${id}/label`));
      await this.show(payload);
    } catch (error) {
      this.failed(error);
    } finally {
      this.busy = false;
    }
  }

  // Leaving a task: save its draft and keep what was on screen for coming back to it.
  remember() {
    if (!this.dirty()) return;
    this.flushInputs();
    const draft = { id: null, version: this.draftVersion, result: this.store.result(), notes: this.notes.value, lead_time: this.leadTime() };
    const payload = { ...this.current, draft };
    this.cache.set(this.current.task.id, Promise.resolve(payload));
    this.saveDraft({ keepalive: true });
  }

  async openTask(id) {
    const payload = await api(`/api/tasks/${id}/label`);
    await this.show(payload, { push: false });
  }

  // --- auto-save and lease -----------------------------------------------------------------
  startAutosave() {
    setInterval(() => {
      if (this.current && this.dirty() && !this.saving) this.saveDraft();
    }, AUTOSAVE_MS);
    const leave = () => {
      if (this.current && this.dirty()) this.saveDraft({ keepalive: true });
    };
    window.addEventListener("pagehide", leave);
    document.addEventListener("visibilitychange", () => {
      this.pauseLead(document.visibilityState === "hidden");
      if (document.visibilityState === "hidden") leave();
    });
  }

  async saveDraft({ keepalive = false, retry = true } = {}) {
    const current = this.current;
    const marker = { changes: this.store.changes, notes: this.notes.value };
    const body = { result: this.store.result(), lead_time: this.leadTime(), notes: this.notes.value, annotation: current.annotation?.id ?? null };
    if (this.draftVersion) body.version = this.draftVersion;
    this.saving = true;
    try {
      const draft = await api(`/api/tasks/${current.task.id}/label/draft`, { method: "POST", body, keepalive });
      if (this.current !== current) return;
      this.draftVersion = draft.version;
      this.saved = marker;
      this.app.dataset.saved = String(draft.version);
      this.status(`Draft saved ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 409 && error.body?.reason === "submitted") {
        this.status("Already submitted: nothing left to save.");
        return;
      }
      if (error instanceof HttpError && error.status === 409 && retry && this.current === current) {
        this.draftVersion = error.body?.current?.version ?? null;
        this.saving = false;
        return this.saveDraft({ keepalive, retry: false });
      }
      this.status(`Draft not saved: ${error.message}`, "error");
    } finally {
      this.saving = false;
    }
  }

  heartbeat() {
    const id = this.current.task.id;
    const beat = () =>
      api(`/api/tasks/${id}/lock`, { method: "POST" }).catch((error) => {
        if (error instanceof HttpError && error.status === 400) this.status("Other annotators hold this task: your work may not be needed.", "warn");
      });
    beat();
    const every = Math.max(10, this.project.task_lock_ttl / 2) * 1000;
    this.lockTimer = setInterval(beat, every);
  }

  status(text, kind = "info") {
    const node = $("lbl-status");
    node.textContent = text;
    node.dataset.kind = kind;
  }

  // --- keys and buttons ----------------------------------------------------------------------
  bindPageKeys() {
    const keys = [
      ["enter", "submit (or update) and go to the next task", () => this.submit()],
      ["ctrl+enter", "accept the prediction as shown and go on", () => this.accept()],
      ["s", "skip the task", () => this.skip()],
      ["k", "next task", () => this.go("next")],
      ["j", "previous task", () => this.go("previous")],
      ["ctrl+z", "undo", () => this.store.undo()],
      ["ctrl+shift+z", "redo", () => this.store.redo()],
      ["ctrl+y", "redo", () => this.store.redo()],
      ["delete", "delete the selected region", () => this.deleteSelected()],
      ["backspace", "delete the selected region", () => this.deleteSelected()],
      ["alt+down", "select the next region", () => this.panels.regions.step(1)],
      ["alt+up", "select the previous region", () => this.panels.regions.step(-1)],
      ["alt+a", "label every occurrence of the selected region's text", () => this.panels.regions.propagateSelected()],
      ["alt+e", "accept every entity suggestion", () => this.panels.entities.acceptAll()],
      ["c", "open / close the context panel", () => this.toggleContext()],
      ["g", "show the project's guidelines", () => this.showGuidelines()],
      ["?", "show the keyboard shortcuts", () => this.panels.help.open()],
    ];
    for (const [k, description, handler] of keys) this.hotkeys.register({ keys: k, description, group: "Page", handler });
    this.hotkeys.register({ keys: "escape", description: "cancel the current selection (or leave a field)", group: "Page", inInput: true, handler: (event) => this.escape(event) });
  }

  deleteSelected() {
    if (!this.store.selectedId) return false;
    this.store.remove(this.store.selectedId);
    return true;
  }

  escape(event) {
    const target = event.target;
    if (target instanceof HTMLElement && target.matches("input, textarea, select")) {
      target.blur();
      return true;
    }
    this.ws.emit("selection:cancel");
    this.store.select(null);
    return true;
  }

  toggleContext() {
    const details = $("lbl-context");
    details.open = !details.open;
  }

  // Guidelines are one key (G) or one click away: open the context panel on them.
  showGuidelines() {
    const guidelines = $("lbl-guidelines");
    if (!guidelines) return false;
    $("lbl-context").open = true;
    guidelines.scrollIntoView({ block: "start" });
    guidelines.focus({ preventScroll: true });
    return true;
  }

  bindButtons() {
    const click = (id, fn) => $(id).addEventListener("click", fn);
    click("lbl-submit", () => this.submit());
    click("lbl-accept", () => this.accept());
    click("lbl-skip", () => this.skip());
    click("lbl-next", () => this.go("next"));
    click("lbl-prev", () => this.go("previous"));
    click("lbl-undo", () => this.store.undo());
    click("lbl-redo", () => this.store.redo());
    click("lbl-help", () => this.panels.help.open());
    $("lbl-guidelines-button")?.addEventListener("click", () => this.showGuidelines());
    $("lbl-skip").hidden = !this.project.show_skip_button;
    window.addEventListener("popstate", (event) => {
      if (event.state?.task) this.openTask(event.state.task).catch((error) => this.failed(error));
    });
  }
}
