// The data manager's live socket: who is online, rows being labelled by someone else, and a
// reload of the table when tasks, annotations, predictions or reviews change elsewhere
// (at most once a second, and not while the user has a selection or an action pending).

import { openLive, presenceText } from "../common/live.js";

const REFRESH_MS = 1000;
const CHANGES = /^(annotation|annotations|tasks|predictions|review|reviews|import)\./;

export function startLive({ projectId, me, rowsNode, presenceNode, canRefresh, refresh }) {
  let working = new Map(); // task id -> user names on it (from presence)
  let timer = null;

  function mark() {
    for (const tr of rowsNode.children) {
      const names = working.get(Number(tr.dataset.id));
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
      if (CHANGES.test(event.type)) later();
    },
    onReload: later,
  });
}
