// Review queue page: the pending annotations from /api/projects/<id>/review-queue, each with
// accept, reject (a comment is required) and fix-and-accept (the result edited as JSON).
// Task data and results only reach the page as text (dom.js), never as HTML.

import { api, HttpError, readJsonScript } from "../common/http.js";
import { clear, el } from "../common/dom.js";

const page = readJsonScript("rv-page");
const itemsNode = document.getElementById("rv-items");
const statusNode = document.getElementById("rv-status");

function status(text) {
  statusNode.textContent = text;
}

function errorText(error) {
  if (error instanceof HttpError && error.body?.validation_errors) {
    return Object.entries(error.body.validation_errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
  }
  return error.message || String(error);
}

function summary(result) {
  return (result || []).map((item) => {
    const value = item.value || {};
    const labels = value.choices || value.labels || value[item.type] || value.text || [];
    const span = value.start !== undefined ? ` [${value.start}-${value.end}] ${value.text ?? ""}` : "";
    return `${item.from_name}: ${[].concat(labels).join(", ")}${span}`;
  }).join("\n") || "(empty)";
}

function card(item) {
  const comment = el("textarea", { rows: "2", maxlength: "10000", placeholder: "Comment for the annotator (required to reject)", "aria-label": "Comment" });
  const editor = el("textarea", { rows: "6", class: "rv-result", hidden: true, "aria-label": "Corrected result (JSON)" });
  editor.value = JSON.stringify(item.result, null, 2);
  const decide = async (action, extra = {}) => {
    try {
      await api(`/api/annotations/${item.id}/review`, { method: "POST", body: { action, comment: comment.value, ...extra } });
      status(`Annotation ${item.id}: ${action === "reject" ? "rejected" : "accepted"}.`);
      node.remove();
    } catch (error) {
      status(`Annotation ${item.id}: ${errorText(error)}`);
    }
  };
  const fix = async () => {
    if (editor.hidden) {
      editor.hidden = false;
      return;
    }
    let result;
    try {
      result = JSON.parse(editor.value);
    } catch {
      status("The corrected result is not valid JSON.");
      return;
    }
    await decide("fix", { result });
  };
  const data = Object.values(item.task_data || {}).filter((v) => typeof v === "string").join(" · ");
  const node = el("section", { class: "card rv-item", dataset: { annotation: String(item.id) } },
    el("h2", { text: `Task ${item.task} · annotation ${item.id}` }),
    el("p", { class: "muted", text: `by ${item.author_username} (${item.author_level || "not a member"})` }),
    el("p", { class: "rv-data", text: data }),
    el("pre", { class: "rv-summary", text: summary(item.result) }),
    editor,
    comment,
    el("div", { class: "rv-actions" },
      el("button", { type: "button", class: "primary rv-accept", text: "Accept", on: { click: () => decide("accept") } }),
      el("button", { type: "button", class: "rv-reject", text: "Reject", on: { click: () => decide("reject") } }),
      el("button", { type: "button", class: "rv-fix", text: "Fix and accept", on: { click: fix } }),
      el("a", { href: `${page.labelUrl}${item.task}/`, text: "Open the task" }),
    ),
  );
  return node;
}

async function load() {
  try {
    const { annotations } = await api(`/api/projects/${page.project}/review-queue`);
    clear(itemsNode);
    if (!annotations.length) status("Nothing to review.");
    for (const item of annotations) itemsNode.append(card(item));
  } catch (error) {
    status(errorText(error));
  }
}

load();
