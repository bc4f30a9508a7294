// Pure geometry of the image tags. Everything is in percent of the natural image size, as
// Label Studio stores it: boxes {x, y, width, height, rotation}, polygons {points: [[x, y]...]},
// keypoints {x, y, width}. Values stay inside the image (0..100) so the server accepts them.

// Result type of a drawing control -> the shape it draws.
export const SHAPES = {
  rectanglelabels: "box",
  rectangle: "box",
  polygonlabels: "polygon",
  polygon: "polygon",
  keypointlabels: "keypoint",
  keypoint: "keypoint",
};

export const CORNERS = ["nw", "ne", "sw", "se"];

export function clamp(value, low = 0, high = 100) {
  return Math.min(high, Math.max(low, value));
}

// Four decimals are far below a pixel and keep the stored JSON readable.
export function round(value) {
  return Math.round(value * 1e4) / 1e4;
}

export function shapeOf(item) {
  const value = item.value || {};
  const shape = SHAPES[item.type];
  if (shape) return shape;
  if (Array.isArray(value.points)) return "polygon";
  if (typeof value.width === "number" && typeof value.height === "number") return "box";
  if (typeof value.x === "number" && typeof value.y === "number") return "keypoint";
  return null;
}

// A box inside the image, rounded, with x + width never past the edge.
export function tidyBox({ x, y, width, height, rotation = 0 }) {
  const left = round(clamp(x));
  const top = round(clamp(y));
  return {
    x: left,
    y: top,
    width: round(clamp(width, 0, 100 - left)),
    height: round(clamp(height, 0, 100 - top)),
    rotation,
  };
}

// The box spanned by two corners (in any order), clipped to the image.
export function boxFromPoints([x0, y0], [x1, y1]) {
  const left = clamp(Math.min(x0, x1));
  const top = clamp(Math.min(y0, y1));
  return tidyBox({ x: left, y: top, width: clamp(Math.max(x0, x1)) - left, height: clamp(Math.max(y0, y1)) - top });
}

// Move a box by (dx, dy), stopping at the image edges.
export function moveBox(box, dx, dy) {
  const x = clamp(box.x + dx, 0, 100 - box.width);
  const y = clamp(box.y + dy, 0, 100 - box.height);
  return tidyBox({ ...box, x, y });
}

// Drag corner `handle` ("nw", "ne", "sw", "se") to `point`; the opposite corner stays.
export function resizeBox(box, handle, point) {
  const fixedX = handle.includes("w") ? box.x + box.width : box.x;
  const fixedY = handle.includes("n") ? box.y + box.height : box.y;
  return { ...boxFromPoints([fixedX, fixedY], point), rotation: box.rotation || 0 };
}

export function cornerPoint(box, handle) {
  return [handle.includes("w") ? box.x : box.x + box.width, handle.includes("n") ? box.y : box.y + box.height];
}

// Move every point by (dx, dy), the shape keeping its form at the image edges.
export function movePoints(points, dx, dy) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const ddx = clamp(dx, -Math.min(...xs), 100 - Math.max(...xs));
  const ddy = clamp(dy, -Math.min(...ys), 100 - Math.max(...ys));
  return points.map(([x, y]) => [round(clamp(x + ddx)), round(clamp(y + ddy))]);
}

export function movePoint([x, y], dx = 0, dy = 0) {
  return [round(clamp(x + dx)), round(clamp(y + dy))];
}

// The top-left-most anchor of a shape, where its label chip goes.
export function anchorOf(shape, value) {
  if (shape === "box") return [value.x, value.y];
  if (shape === "keypoint") return [value.x, value.y];
  const points = value.points || [];
  if (!points.length) return [0, 0];
  return points.reduce((best, p) => (p[1] < best[1] || (p[1] === best[1] && p[0] < best[0]) ? p : best));
}

// Zoom around a fixed point of the viewport: the image point under it stays under it.
export function zoomAround(view, nextZoom, [cx, cy]) {
  const ratio = nextZoom / view.zoom;
  return { zoom: nextZoom, panX: cx - (cx - view.panX) * ratio, panY: cy - (cy - view.panY) * ratio };
}

// Keep the image over the viewport: centred when smaller, no empty margin when larger.
export function clampPan(pan, size, viewport) {
  if (size <= viewport) return (viewport - size) / 2;
  return clamp(pan, viewport - size, 0);
}
