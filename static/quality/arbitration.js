// The arbitration page: "Adopt as ground truth" posts the chosen annotation as the task's
// decision, then removes the task's row.
import { api } from "../common/http.js";

const project = JSON.parse(document.getElementById("arbitration-project").textContent);
const status = document.getElementById("arbitration-status");

for (const button of document.querySelectorAll("button.adopt")) {
  button.addEventListener("click", async () => {
    const task = Number(button.dataset.task);
    button.disabled = true;
    try {
      await api(`/api/projects/${project}/arbitration/${task}`, {
        method: "POST",
        body: { annotation: Number(button.dataset.annotation) },
      });
      document.querySelector(`tr[data-task="${task}"]`)?.remove();
      status.textContent = `Task ${task}: decided.`;
    } catch (error) {
      button.disabled = false;
      status.textContent = `Task ${task}: ${error.message}`;
    }
  });
}
