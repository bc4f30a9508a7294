// Data manager page: the project's task table from /api/projects/<id>/data (keyset pages),
// filters and sort kept in the address bar, and bulk actions on a selection (ids, or every
// task matching the filters but the unticked ones). Task text only ever reaches the page as
// text nodes (dom.js), never as HTML.

import { api, HttpError, readJsonScript } from "../common/http.js";
import { clear, el } from "../common/dom.js";
import { startLive } from "./live.js";

const page = readJsonScript("dm-page");
const form = document.getElementById("dm-filters");
const rowsNode = document.getElementById("dm-rows");
const statusNode = document.getElementById("dm-status");
const moreButton = document.getElementById("dm-more");
const countNode = document.getElementById("dm-count");
const FILTERS = ["search", "annotated", "has_predictions", "review", "assignee", "score_min", "score_max"];
const REVIEW_TEXT = { not_reviewed: "not reviewed", pending: "to review", accepted: "accepted", rejected: "rejected" };
// A short page with a next cursor (end of a search window) is followed at once, this often.
const MAX_FOLLOW = 5;

const state = {
  next: null,
  loading: false,
  rows: [],
  selected: new Set(), // ids, or with allMatching: the unticked ids
  allMatching: false,
  count: null,
  generation: 0, // a newer query makes answers of older ones stale
};

// --- query -------------------------------------------------------------------------------
function currentQuery() {
  const params = new URLSearchParams();
  const data = new FormData(form);
  for (const name of [...FILTERS, "sort"]) {
    const value = String(data.get(name) ?? "").trim();
    if (value) params.set(name, value);
  }
  return params;
}

function filtersObject() {
  const out = {};
  for (const [name, value] of currentQuery()) if (name !== "sort") out[name] = value;
  return out;
}

function fillFormFromAddress() {
  const params = new URLSearchParams(window.location.search);
  for (const name of [...FILTERS, "sort"]) {
    if (params.has(name) && form.elements[name]) form.elements[name].value = params.get(name);
  }
}

function labelLink(taskId) {
  const params = currentQuery();
  params.set("from", "datamanager");
  return `${page.labelUrl}${taskId}/?${params}`;
}

// --- table -------------------------------------------------------------------------------
function number(value, digits = 2) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
}

function isSelected(id) {
  return state.allMatching ? !state.selected.has(id) : state.selected.has(id);
}

function renderRow(row) {
  const cells = [];
  if (page.canManage) {
    const box = el("input", {
      type: "checkbox",
      class: "dm-check",
      "aria-label": `Select task ${row.id}`,
      dataset: { id: String(row.id) },
    });
    box.checked = isSelected(row.id);
    cells.push(el("td", {}, box));
  } else {
    cells.push(el("td"));
  }
  const annotations = `${row.total_annotations}/${row.overlap}` +
    (row.cancelled_annotations ? ` (${row.cancelled_annotations} skipped)` : "");
  const review = row.review_state;
  cells.push(
    el("td", {}, el("a", { href: labelLink(row.id), text: String(row.id) })),
    el("td", { class: "data", text: row.preview }),
    el("td", { class: "num", text: annotations }),
    el("td", { class: "num", text: number(row.agreement) }),
    el("td", { class: "num", text: number(row.prediction_score) }),
    el("td", { class: "num", text: number(row.uncertainty) }),
    el("td", { class: "reason", text: row.queue_reason || "—" }),
    el("td", { class: review ? `review-${review}` : "", text: review ? REVIEW_TEXT[review] : "—" }),
    el("td", { class: "dm-route", title: row.route_reason, text: routeText(row) }),
    el("td", { text: row.assignees.map((a) => a.username).join(", ") || "—" }),
    el("td", { class: "num", text: number(row.priority) }),
  );
  // Leases running when the row was read (taken before this page opened); live.js follows
  // task.locked / task.unlocked events from there.
  const leases = JSON.stringify(row.leases.map((l) => ({ id: l.id, username: l.username, until: Date.parse(l.expires_at) })));
  return el("tr", { dataset: { id: String(row.id), leases }, class: isSelected(row.id) ? "selected" : "" }, cells);
}

// Confidence routing: where the task went and why (quality.services_workflow.route_of).
function routeText(row) {
  if (!row.route) return row.route_reason || "—";
  return `${row.route}: ${row.route_reason}`;
}

async function loadPage({ reset }) {
  if (state.loading && !reset) return;
  const generation = reset ? ++state.generation : state.generation;
  if (reset) {
    state.next = null;
    state.rows = [];
    clear(rowsNode);
  }
  state.loading = true;
  try {
    let follow = 0;
    let added = 0;
    do {
      const params = currentQuery();
      params.set("page_size", String(page.pageSize));
      if (state.next) params.set("cursor", state.next);
      const body = await api(`${page.api}?${params}`);
      if (generation !== state.generation) return;
      for (const row of body.tasks) {
        state.rows.push(row);
        rowsNode.append(renderRow(row));
      }
      added += body.tasks.length;
      state.next = body.next;
    } while (state.next && added < page.pageSize && ++follow < MAX_FOLLOW);
    moreButton.hidden = !state.next;
    if (!state.rows.length) statusNode.textContent = state.next ? "No match yet: load more to search further." : "No task matches.";
  } catch (error) {
    showError(error);
  } finally {
    if (generation === state.generation) state.loading = false;
  }
}

async function loadCount() {
  const generation = state.generation;
  const params = currentQuery();
  params.delete("sort");
  try {
    const body = await api(`${page.api}/count?${params}`);
    if (generation !== state.generation) return;
    state.count = body.count;
    countNode.textContent = `${body.count} ${body.count === 1 ? "task" : "tasks"}`;
    updateSelection();
  } catch (error) {
    showError(error);
  }
}

function refresh() {
  state.selected.clear();
  state.allMatching = false;
  state.count = null;
  countNode.textContent = "";
  statusNode.textContent = "";
  statusNode.classList.remove("error");
  window.history.replaceState(null, "", `?${currentQuery()}`);
  markSort();
  loadPage({ reset: true }).then(loadCount);
}

function markSort() {
  const sort = form.elements.sort.value || "id";
  for (const button of document.querySelectorAll(".dm-sort")) {
    const name = button.dataset.sort;
    button.dataset.dir = sort === name ? "asc" : sort === `-${name}` ? "desc" : "";
  }
}

function showError(error) {
  if (error instanceof HttpError && error.body) {
    const problems = error.body.validation_errors;
    const text = problems ? flatten(problems).join("; ") : error.body.detail;
    statusNode.textContent = `Error: ${text}`;
  } else {
    statusNode.textContent = `Error: ${error.message}`;
  }
  statusNode.classList.add("error");
}

function flatten(errors, prefix = "") {
  if (Array.isArray(errors)) return errors.map((e) => (typeof e === "string" ? `${prefix}${e}` : flatten(e, prefix)).toString());
  return Object.entries(errors).flatMap(([key, value]) => flatten(value, `${prefix}${key}: `));
}

// --- selection and bulk actions ---------------------------------------------------------
const bulk = page.canManage ? {
  selected: document.getElementById("dm-selected"),
  selectAll: document.getElementById("dm-select-all"),
  action: document.getElementById("dm-action"),
  control: document.getElementById("dm-control"),
  value: document.getElementById("dm-value"),
  assignee: document.getElementById("dm-assignee"),
  replace: document.getElementById("dm-replace"),
  apply: document.getElementById("dm-apply"),
  confirm: document.getElementById("dm-confirm"),
  cancel: document.getElementById("dm-cancel"),
  checkPage: document.getElementById("dm-check-page"),
} : null;

function selectionSize() {
  if (!state.allMatching) return state.selected.size;
  return state.count === null ? null : state.count - state.selected.size;
}

function updateSelection() {
  if (!bulk) return;
  const size = selectionSize();
  bulk.selected.textContent = size === 0 ? "No task selected"
    : state.allMatching ? `All ${size ?? ""} matching tasks selected`.replace("  ", " ")
    : `${size} selected`;
  bulk.apply.disabled = size === 0;
  const canWiden = !state.allMatching && state.count !== null && state.count > state.selected.size && state.selected.size > 0;
  bulk.selectAll.hidden = !canWiden;
  bulk.selectAll.textContent = canWiden ? `Select all ${state.count} matching` : "";
  for (const tr of rowsNode.children) tr.classList.toggle("selected", isSelected(Number(tr.dataset.id)));
  hideConfirm();
}

function selectionBody() {
  if (state.allMatching) return { all: true, filters: filtersObject(), excluded: [...state.selected] };
  return { ids: [...state.selected] };
}

function toggle(id, checked) {
  const inSet = state.allMatching ? !checked : checked;
  if (inSet) state.selected.add(id);
  else state.selected.delete(id);
}

function fillControls() {
  for (const control of page.controls) bulk.control.append(el("option", { value: control.name, text: `${control.name} (${control.tag})` }));
  const refill = () => {
    const control = page.controls.find((c) => c.name === bulk.control.value);
    clear(bulk.value);
    for (const value of control ? control.values : []) bulk.value.append(el("option", { value, text: value }));
  };
  bulk.control.addEventListener("change", refill);
  refill();
  if (!page.controls.length) bulk.action.querySelector('option[value="label"]').disabled = true;
  for (const member of page.members) bulk.assignee.append(el("option", { value: String(member.id), text: `${member.username} (${member.role})` }));
  bulk.assignee.append(el("option", { value: "", text: "nobody (with replace: unassign)" }));
}

function showActionFields() {
  for (const span of document.querySelectorAll("[data-action]")) span.hidden = span.dataset.action !== bulk.action.value;
  hideConfirm();
}

function hideConfirm() {
  bulk.confirm.hidden = true;
  bulk.cancel.hidden = true;
  bulk.apply.hidden = false;
}

function actionRequest() {
  const selection = selectionBody();
  switch (bulk.action.value) {
    case "label":
      return ["label", { selection, from_name: bulk.control.value, value: bulk.value.value }];
    case "assign":
      return ["assign", { selection, user: bulk.assignee.value ? Number(bulk.assignee.value) : null, replace: bulk.replace.checked }];
    case "review":
      return ["review", { selection }];
    case "retrain":
      return ["retrain", { selection }];
    default:
      return ["delete", { selection }];
  }
}

async function runAction() {
  const [name, body] = actionRequest();
  statusNode.classList.remove("error");
  statusNode.textContent = "Working…";
  try {
    const result = await api(`${page.api}/actions/${name}`, { method: "POST", body });
    const skipped = result.skipped ? `, ${result.skipped} skipped` : "";
    refresh();
    statusNode.textContent = name === "retrain"
      ? `Queued: ${result.changed} model version(s) training; see Models and queue.`
      : `Done: ${result.changed} changed on ${result.tasks} tasks${skipped}.`;
  } catch (error) {
    showError(error);
  }
}

function wireBulk() {
  fillControls();
  showActionFields();
  bulk.action.addEventListener("change", showActionFields);
  rowsNode.addEventListener("change", (event) => {
    const box = event.target.closest(".dm-check");
    if (!box) return;
    toggle(Number(box.dataset.id), box.checked);
    updateSelection();
  });
  bulk.checkPage.addEventListener("change", () => {
    for (const box of rowsNode.querySelectorAll(".dm-check")) {
      box.checked = bulk.checkPage.checked;
      toggle(Number(box.dataset.id), box.checked);
    }
    updateSelection();
  });
  bulk.selectAll.addEventListener("click", () => {
    // Everything matching, minus nothing yet: unticking a row now excludes it.
    state.allMatching = true;
    state.selected.clear();
    for (const box of rowsNode.querySelectorAll(".dm-check")) box.checked = true;
    updateSelection();
  });
  bulk.apply.addEventListener("click", () => {
    if (bulk.action.value !== "delete") {
      runAction();
      return;
    }
    // Deleting asks twice, in the page (no window.confirm: a dialog blocks tests and users).
    bulk.confirm.textContent = `Delete ${selectionSize() ?? "the selected"} tasks and their annotations`;
    bulk.confirm.hidden = false;
    bulk.cancel.hidden = false;
    bulk.apply.hidden = true;
  });
  bulk.confirm.addEventListener("click", () => {
    hideConfirm();
    runAction();
  });
  bulk.cancel.addEventListener("click", hideConfirm);
}

// --- start ----------------------------------------------------------------------------------
function start() {
  const filter = document.getElementById("dm-assignee-filter");
  for (const member of page.members) filter.append(el("option", { value: String(member.id), text: member.username }));
  fillFormFromAddress();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  document.getElementById("dm-clear").addEventListener("click", () => {
    form.reset();
    form.elements.sort.value = "id";
    refresh();
  });
  for (const button of document.querySelectorAll(".dm-sort")) {
    button.addEventListener("click", () => {
      const name = button.dataset.sort;
      form.elements.sort.value = form.elements.sort.value === name ? `-${name}` : name;
      refresh();
    });
  }
  moreButton.addEventListener("click", () => loadPage({ reset: false }));
  if (bulk) wireBulk();
  refresh();
  startLive({
    projectId: page.project,
    me: page.me,
    members: page.members,
    rowsNode,
    presenceNode: document.getElementById("dm-presence"),
    canRefresh: () => !state.loading && selectionSize() === 0 && (!bulk || bulk.confirm.hidden),
    refresh: () => loadPage({ reset: true }).then(loadCount),
  });
}

start();
