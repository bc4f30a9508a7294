// The user's recent values of a control (kept in this browser), for repetitive work.

const LIMIT = 5;

function key(projectId, control) {
  return `annotator.recent.${projectId}.${control}`;
}

export function recentValues(projectId, control) {
  try {
    const stored = JSON.parse(localStorage.getItem(key(projectId, control)) || "[]");
    return Array.isArray(stored) ? stored.filter((v) => typeof v === "string").slice(0, LIMIT) : [];
  } catch {
    return [];
  }
}

export function rememberValue(projectId, control, value) {
  const values = [value, ...recentValues(projectId, control).filter((v) => v !== value)].slice(0, LIMIT);
  try {
    localStorage.setItem(key(projectId, control), JSON.stringify(values));
  } catch {
    // Private mode or a full storage: the row simply stays as it was.
  }
}
