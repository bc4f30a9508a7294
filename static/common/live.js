// The live socket of a page (README, real time): project events, presence, catch-up.
//
//   const live = openLive(`/ws/projects/${id}/`, { onEvent, onPresence, onReload, onState });
//
// The server numbers the project's events (`seq`). After a drop the socket reconnects with
// a growing delay and sends the last number it saw: it gets what it missed, or a `reload`
// when too much happened (then `onReload` re-reads the page's data over HTTP). Events
// already seen are not delivered twice. Writes never go through the socket.

const PING_MS = 20000;
const MAX_DELAY_MS = 15000;
// Closed by the server for good: not signed in (4401), not a member (4404).
const FINAL_CODES = new Set([4401, 4404]);

export function openLive(path, { onEvent = () => {}, onPresence = () => {}, onReload = () => {}, onState = () => {} } = {}) {
  let socket = null;
  let lastSeq = 0;
  let delay = 1000;
  let closed = false;
  let pingTimer = null;
  let retryTimer = null;

  const url = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;

  function handle(frame) {
    if (frame.type === "welcome") {
      if (!lastSeq) lastSeq = frame.seq;
      onPresence(frame.presence || []);
      return;
    }
    if (frame.type === "presence") return onPresence(frame.users || []);
    if (frame.type === "pong" || frame.type === "lease") return;
    if (frame.type === "error") return console.warn("live socket:", frame.error);
    if (frame.type === "reload") {
      if (typeof frame.seq === "number") lastSeq = frame.seq;
      return onReload();
    }
    if (typeof frame.seq === "number") {
      if (frame.seq <= lastSeq) return; // caught up twice (the group and the buffer)
      lastSeq = frame.seq;
    }
    onEvent(frame);
  }

  function connect() {
    socket = new WebSocket(url());
    socket.addEventListener("open", () => {
      delay = 1000;
      onState("live");
      socket.send(JSON.stringify({ type: "hello", last_seq: lastSeq }));
      pingTimer = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('{"type":"ping"}'), PING_MS);
    });
    socket.addEventListener("message", (message) => {
      try {
        handle(JSON.parse(message.data));
      } catch (error) {
        console.warn("live socket: bad frame", error);
      }
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      if (closed || FINAL_CODES.has(event.code)) return onState("off");
      onState("reconnecting");
      retryTimer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
  }

  connect();
  return {
    send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      if (socket) socket.close();
    },
  };
}

// "alice (task 12), bob": who is online, as text (user names are shown with textContent).
export function presenceText(users, { me = null, task = null } = {}) {
  const byUser = new Map();
  for (const u of users) {
    if (u.user === me) continue;
    const entry = byUser.get(u.user) || { name: u.username, tasks: [] };
    if (u.task) entry.tasks.push(u.task === task ? "this task" : `task ${u.task}`);
    byUser.set(u.user, entry);
  }
  return [...byUser.values()]
    .map((e) => (e.tasks.length ? `${e.name} (${e.tasks.join(", ")})` : e.name))
    .join(", ");
}
