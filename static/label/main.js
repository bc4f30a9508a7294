// Entry module of the labelling page: read the page data and start the session.

import { readJsonScript } from "../common/http.js";
import { Session } from "./session.js";

const page = readJsonScript("label-page");
const session = new Session(page);
window.labelSession = session; // for the browser tests and the benchmark

if (page.first) {
  // /projects/<id>/label/ hands out the next task (leased); /label/<task>/ opens one task.
  session.show(page.first, { push: false, leased: !/\/label\/\d+\/?$/.test(location.pathname) });
} else {
  session.finished();
}

// The first-visit tour, loaded after the task is on screen (it is not on the critical path).
import("./tour.js").then(({ Tour }) => {
  const tour = new Tour({ userId: page.user.id, host: document.getElementById("lbl-tour-host") });
  if (page.first) tour.startOnce();
});
