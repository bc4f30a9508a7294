// The project page, live: who is online and on which task, the counters re-read when work
// lands (at most once a second), and the progress of imports, exports and training.

import { openLive, presenceText } from "../common/live.js";

const root = document.getElementById("project-live");
const projectId = Number(root.dataset.project);
const me = Number(root.dataset.me);
const presenceNode = document.getElementById("project-presence");
const jobsNode = document.getElementById("project-jobs");
const COUNTERS = /^(annotation|annotations|tasks|predictions)\./;
let timer = null;

// The counters come from the server-rendered page itself (escaped there), not rebuilt here.
async function refreshStats() {
  timer = null;
  const response = await fetch(location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const next = fresh.querySelector("section.stats");
  const current = document.querySelector("section.stats");
  if (next && current) current.replaceWith(next);
}

function jobText(event) {
  switch (event.type) {
    case "import.finished":
      return `Import ${event.status || "finished"}.`;
    case "export.finished":
      return `Export ${event.export}: ${event.status}.`;
    case "model.progress":
    case "ml_backend.progress": {
      const share = typeof event.progress === "number" ? ` ${Math.round(event.progress * 100)}%` : "";
      return `Model ${event.state || event.status || "training"}${share}.`;
    }
    default:
      return null;
  }
}

openLive(`/ws/projects/${projectId}/`, {
  onPresence(users) {
    const text = presenceText(users, { me });
    presenceNode.textContent = text ? `Online: ${text}` : "Nobody else online.";
  },
  onEvent(event) {
    if (COUNTERS.test(event.type) && !timer) timer = setTimeout(refreshStats, 1000);
    const text = jobText(event);
    if (text) {
      // Replaces the server's "no worker is running" warning once a job moves.
      jobsNode.textContent = text;
      jobsNode.className = "muted";
      jobsNode.hidden = false;
    }
  },
  onReload: refreshStats,
});
