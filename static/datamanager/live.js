// The data manager's live socket: who is online, rows being labelled by someone else (their
// page is open on it, or next-task leased it to them: before this page opened, from the
// rows' own leases, or since, from task.locked events), and a
// reload of the table when tasks, annotations, predictions or reviews change elsewhere
// (at most once a second, and not while the user has a selection or an action pending).

import { openLive, presenceText } from "../common/live.js";

const REFRESH_MS = 1000;
const CHANGES = /^(annotation|annotations|tasks|predictions|review|reviews|import)\./;

export function startLive({ projectId, me, members, rowsNode, presenceNode, canRefresh, refresh }) {
  let working = new Map(); // task id -> user names on it (from presence)
  const leases = new Map(); // task id -> Map(user name -> expiry; 0: released), from events
  const names = new Map(members.map((m) => [m.id, m.username]));
  let timer = null;

  function holders(tr) {
    const taskId = Number(tr.dataset.id);
    const now = Date.now();
    const byUser = new Map(leases.get(taskId) || []);
    // The row's own leases (read with the row) unless an event since said otherwise.
    for (const l of JSON.parse(tr.dataset.leases || "[]")) {
      if (l.id !== me && !byUser.has(l.username)) byUser.set(l.username, l.until);
    }
    const held = [...byUser].filter(([, until]) => until > now).map(([name]) => name);
    const all = new Set([...(working.get(taskId) || []), ...held]);
    return all.size ? [...all] : null;
  }

  function lease(event) {
    const name = names.get(event.user) || `user ${event.user}`;
    const byUser = leases.get(event.task) || new Map();
    // A release is kept as an expired lease: it overrides what the row was read with.
    if (event.type === "task.locked" && event.user !== me) byUser.set(name, Date.parse(event.expires_at));
    else byUser.set(name, 0);
    leases.set(event.task, byUser);
    mark();
  }

  function released(taskId) {
    const byUser = leases.get(taskId) || new Map();
    const row = [...rowsNode.children].find((tr) => Number(tr.dataset.id) === taskId);
    for (const l of JSON.parse(row?.dataset.leases || "[]")) byUser.set(l.username, 0);
    for (const name of byUser.keys()) byUser.set(name, 0);
    leases.set(taskId, byUser);
    mark();
  }

  function mark() {
    for (const tr of rowsNode.children) {
      const names = holders(tr);
      tr.classList.toggle("dm-locked", Boolean(names));
      if (names) tr.title = `Being labelled by ${names.join(", ")}`;
      else tr.removeAttribute("title");
    }
  }

  function later() {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (canRefresh()) refresh();
    }, REFRESH_MS);
  }

  new MutationObserver(mark).observe(rowsNode, { childList: true });
  return openLive(`/ws/projects/${projectId}/`, {
    onPresence(users) {
      working = new Map();
      for (const u of users) {
        if (!u.task || u.user === me) continue;
        working.set(u.task, [...(working.get(u.task) || []), u.username]);
      }
      const text = presenceText(users, { me });
      presenceNode.textContent = text ? `Online: ${text}` : "";
      presenceNode.hidden = !text;
      mark();
    },
    onEvent(event) {
      if (event.type === "task.locked" || event.type === "task.unlocked") lease(event);
      if (event.type === "annotation.created") released(event.task);
      if (CHANGES.test(event.type)) later();
    },
    onReload() {
      // Events were missed: what the rows are read with next is the truth, not the map.
      leases.clear();
      later();
    },
  });
}
