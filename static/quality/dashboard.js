// Quality dashboards: the project's (progress, work per day, agreement and label
// distributions, annotators) or one annotator's (?user=<id>: their row, work per day,
// confusion matrix, most confused label pairs). Numbers from the JSON API, charts drawn
// with the vendored Chart.js (window.Chart), refreshed by polling; every chart links its
// CSV. User content (names, labels) only reaches the page as text (dom.js).

import { api, readJsonScript } from "../common/http.js";
import { clear, el } from "../common/dom.js";

const page = readJsonScript("qd-page");
const chartsNode = document.getElementById("qd-charts");
const statusNode = document.getElementById("qd-status");
const charts = new Map();
const sections = new Map();

const TITLES = {
  progress: "Progress",
  daily: "Annotations per day",
  agreement_distribution: "Agreement distribution (tasks by pairwise agreement)",
  label_distribution: "Label distribution",
  annotators: "Annotators",
  confusion: "Confusion matrix (rows: reference, columns: their answer)",
  confused_pairs: "Most confused label pairs",
};

function csvUrl(chart) {
  const user = page.user ? `&user=${page.user}` : "";
  return `/api/projects/${page.project}/dashboard/csv?chart=${chart}${user}`;
}

function section(chart) {
  if (sections.has(chart)) return sections.get(chart);
  const body = el("div", { class: "qd-body" });
  const node = el("section", { class: "card qd-chart", id: `qd-${chart}` },
    el("h2", { text: TITLES[chart] }),
    el("p", {}, el("a", { href: csvUrl(chart), class: "qd-csv", download: "", text: "Download CSV" })),
    body,
  );
  chartsNode.append(node);
  sections.set(chart, body);
  return body;
}

function draw(chart, type, labels, datasets, options = {}) {
  if (!window.Chart) return;
  const existing = charts.get(chart);
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets;
    existing.update();
    return;
  }
  const canvas = el("canvas", { role: "img", "aria-label": TITLES[chart] });
  section(chart).prepend(el("div", { class: "qd-canvas" }, canvas));
  charts.set(chart, new window.Chart(canvas, { type, data: { labels, datasets }, options: { animation: false, ...options } }));
}

function table(chart, head, rows) {
  const body = section(chart);
  const old = body.querySelector("table");
  const node = el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { text: h })))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { text: c })))))),
  );
  if (old) old.replaceWith(node);
  else body.append(node);
}

const num = (v, digits = 2) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));

function annotatorCells(row) {
  const link = el("a", { href: `?user=${row.user_id}`, text: row.username });
  return [link, row.level || "—", String(row.annotations), `${num(row.gold_accuracy)} (${row.gold_answers})`,
    num(row.expert_agreement), num(row.peer_kappa), num(row.median_lead_time, 1),
    `${num(row.lead_time_q1, 1)}–${num(row.lead_time_q3, 1)}`, num(row.rejection_rate),
    el("span", { class: row.flags.length ? "warn qd-flags" : "qd-flags", text: row.flags.join(", ") || "—" })];
}

const ANNOTATOR_HEAD = ["Annotator", "Level", "Annotations", "Gold accuracy (answers)", "Expert agreement", "Peer kappa",
  "Median s", "Q1–Q3 s", "Rejection rate", "Flags"];

function showProject(board) {
  const p = board.progress;
  draw("progress", "bar", ["tasks", "labelled", "finished annotations", "skipped", "to review", "accepted", "rejected"],
    [{ label: "count", data: [p.tasks, p.labeled, p.finished, p.skipped, p.review_pending, p.review_accepted, p.review_rejected] }]);
  draw("daily", "line", board.daily.map((d) => d.day), [{ label: "annotations", data: board.daily.map((d) => d.annotations) }]);
  draw("agreement_distribution", "bar", board.agreement_distribution.map((b) => `${b.from}–${b.to}`),
    [{ label: "tasks", data: board.agreement_distribution.map((b) => b.tasks) }]);
  draw("label_distribution", "bar", board.label_distribution.map((l) => l.label), [{ label: "annotations", data: board.label_distribution.map((l) => l.count) }]);
  draw("annotators", "bar", board.annotators.map((a) => a.username),
    [{ label: "gold accuracy", data: board.annotators.map((a) => a.gold_accuracy) },
      { label: "peer kappa", data: board.annotators.map((a) => a.peer_kappa) }]);
  table("annotators", ANNOTATOR_HEAD, board.annotators.map(annotatorCells));
}

function showAnnotator(board) {
  document.getElementById("qd-title").textContent = `Quality: ${board.annotator.username}`;
  draw("daily", "line", board.daily.map((d) => d.day), [{ label: "annotations", data: board.daily.map((d) => d.annotations) }]);
  table("daily", ANNOTATOR_HEAD, [annotatorCells(board.annotator)]);
  const { labels, matrix } = board.confusion;
  table("confusion", ["reference \\ answer", ...labels], matrix.map((row, i) => [labels[i], ...row.map(String)]));
  draw("confused_pairs", "bar", board.confused_pairs.map((p) => `${p.reference} → ${p.answer}`),
    [{ label: "times", data: board.confused_pairs.map((p) => p.count) }], { indexAxis: "y" });
}

async function refresh() {
  try {
    const url = page.user ? `/api/projects/${page.project}/dashboard/annotators/${page.user}` : `/api/projects/${page.project}/dashboard`;
    const board = await api(url);
    for (const chart of page.charts) section(chart);
    if (page.user) showAnnotator(board);
    else showProject(board);
    statusNode.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    document.body.dataset.dashboard = "ready";
  } catch (error) {
    statusNode.textContent = error.message || String(error);
  }
}

clear(chartsNode);
refresh();
setInterval(refresh, page.refreshSeconds * 1000);
