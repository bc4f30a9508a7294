// <Image>: the picture with an SVG layer for its regions (RectangleLabels, PolygonLabels,
// KeyPointLabels and the plain Rectangle / Polygon / KeyPoint tools). Choose a label (its key
// or a click), then drag a box, click the points of a polygon (Enter or a click on the first
// point closes it) or click a keypoint. A selected region moves by dragging, a box resizes by
// its corners, a polygon by its vertices. Wheel or +/- zoom, space+drag, the middle button or
// the arrows pan. Geometry is stored in percent of the natural size (see image-tools.js).

import { el } from "../../common/dom.js";
import { colorOf, labelColors, safeColor } from "./colors.js";
import * as geo from "./image-tools.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_ZOOM = 16;
const ZOOM_STEP = 1.25;
const PAN_STEP = 40; // px per arrow key
const HANDLE_PX = 5; // handle radius on screen
const CLICK_PX = 3; // a pointer moving less than this clicks rather than drags
const CLOSE_PX = 9; // a click this near the first point closes the polygon
const KEYPOINT_PX = 5; // default keypoint radius, in natural pixels
const CHIP_PX = 18; // room a label chip needs above its region

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  return node;
}

function labelsOf(item) {
  const value = item.value || {};
  return value[item.type] || value.labels || [];
}

class ImageTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.name = ctx.name;
    this.colors = labelColors(ctx.schema);
    this.size = null; // natural {width, height} once loaded
    this.fit = 1;
    this.view = { zoom: 1, panX: 0, panY: 0 };
    this.active = null; // {control, label} armed for the next shape
    this.gesture = null; // the pointer drag under way
    this.preview = null; // {id, value}: a region being moved, shown before the store has it
    this.drawing = null; // a polygon being drawn: {control, label, points, cursor}
    this.spaceHeld = false;
    this.hover = false;
    this.build();
    this.bindPointer();
    this.bindKeys();
    ctx.subscribe(() => this.render());
    ctx.on("labels:active", (detail) => this.setActive(detail));
    ctx.on("selection:cancel", () => this.cancelDrawing());
    this.load(ctx.value());
  }

  // --- DOM -----------------------------------------------------------------------------------
  build() {
    this.img = el("img", { class: "lv-image-img", alt: `Image ${this.name}`, draggable: "false" });
    this.svg = svg("svg", { class: "lv-image-svg", preserveAspectRatio: "none" });
    this.chips = el("div", { class: "lv-image-chips" });
    this.stage = el("div", { class: "lv-image-stage" }, this.img, this.svg, this.chips);
    this.viewport = el("div", { class: "lv-image-view", tabindex: "0", role: "img", "aria-label": `Image ${this.name}: choose a label, then draw` }, this.stage);
    this.zoomText = el("span", { class: "lv-image-zoom muted", text: "100%" });
    this.status = el("span", { class: "lv-image-status muted" });
    const button = (text, title, handler) => el("button", { type: "button", class: "small", title, text, on: { click: handler } });
    const toolbar = el(
      "div",
      { class: "lv-image-toolbar", role: "toolbar", "aria-label": `Image ${this.name} view` },
      button("−", "Zoom out (-)", () => this.zoomBy(1 / ZOOM_STEP)),
      button("+", "Zoom in (+)", () => this.zoomBy(ZOOM_STEP)),
      button("Fit", "Fit the image", () => this.resetView()),
      this.zoomText,
      this.status,
    );
    this.el = el("div", { class: "lv-image", dataset: { name: this.name } }, toolbar, this.viewport);
  }

  load(url) {
    if (typeof url !== "string" || !url) {
      this.status.textContent = "No image in this task.";
      return;
    }
    this.img.addEventListener("load", () => this.onLoad());
    this.img.addEventListener("error", () => {
      this.status.textContent = "The image could not be loaded.";
    });
    this.img.setAttribute("src", url);
  }

  onLoad() {
    this.size = { width: this.img.naturalWidth, height: this.img.naturalHeight };
    this.svg.setAttribute("viewBox", `0 0 ${this.size.width} ${this.size.height}`);
    this.el.dataset.loaded = "true";
    this.layout();
    if (window.ResizeObserver) {
      const observer = new ResizeObserver(() => this.layout());
      observer.observe(this.el);
      this.ctx.onCleanup(() => observer.disconnect());
    }
  }

  // Fit the image to the column's width (and most of the window's height).
  layout() {
    if (!this.size) return;
    const width = this.el.clientWidth || this.size.width;
    const maxHeight = Math.max(320, window.innerHeight * 0.72);
    this.fit = Math.min(width / this.size.width, maxHeight / this.size.height);
    this.viewport.style.height = `${Math.round(this.size.height * this.fit)}px`;
    this.place();
  }

  scale() {
    return this.fit * this.view.zoom;
  }

  place() {
    const scale = this.scale();
    const width = this.size.width * scale;
    const height = this.size.height * scale;
    this.view.panX = geo.clampPan(this.view.panX, width, this.viewport.clientWidth);
    this.view.panY = geo.clampPan(this.view.panY, height, this.viewport.clientHeight);
    Object.assign(this.stage.style, { width: `${width}px`, height: `${height}px`, left: `${this.view.panX}px`, top: `${this.view.panY}px` });
    this.zoomText.textContent = `${Math.round(this.view.zoom * 100)}%`;
    this.el.dataset.zoom = String(this.view.zoom);
    this.render();
  }

  // --- zoom and pan --------------------------------------------------------------------------
  zoomTo(zoom, center) {
    if (!this.size) return false;
    const next = geo.clamp(zoom, 1, MAX_ZOOM);
    const point = center || [this.viewport.clientWidth / 2, this.viewport.clientHeight / 2];
    this.view = geo.zoomAround(this.view, next, point);
    this.place();
    return true;
  }

  zoomBy(factor, center) {
    return this.zoomTo(this.view.zoom * factor, center);
  }

  resetView() {
    this.view = { zoom: 1, panX: 0, panY: 0 };
    if (this.size) this.place();
  }

  panBy(dx, dy) {
    if (!this.size || this.view.zoom <= 1) return false;
    this.view.panX += dx;
    this.view.panY += dy;
    this.place();
    return true;
  }

  // --- coordinates ---------------------------------------------------------------------------
  // Pointer position in percent of the image (clamped to it).
  percentAt(event) {
    const rect = this.stage.getBoundingClientRect();
    return [geo.clamp(((event.clientX - rect.left) / rect.width) * 100), geo.clamp(((event.clientY - rect.top) / rect.height) * 100)];
  }

  nx(percent) {
    return (percent * this.size.width) / 100;
  }

  ny(percent) {
    return (percent * this.size.height) / 100;
  }

  // Screen pixels -> natural pixels, for handles and strokes that keep their on-screen size.
  px(pixels) {
    return pixels / this.scale();
  }

  // --- regions -------------------------------------------------------------------------------
  regions() {
    return this.ctx.store.all().filter((item) => item.to_name === this.name && geo.shapeOf(item));
  }

  valueOf(item) {
    return this.preview && this.preview.id === item.id ? { ...item.value, ...this.preview.value } : item.value;
  }

  colorOf(item) {
    const labels = labelsOf(item);
    if (labels.length) return colorOf(this.colors, item.from_name, labels[0]);
    const control = this.ctx.schema.controls.find((c) => c.name === item.from_name);
    return safeColor(control?.attrs?.strokeColor || control?.attrs?.fillColor, 0);
  }

  render() {
    if (!this.size) return;
    this.svg.replaceChildren();
    this.chips.replaceChildren();
    const selectedId = this.ctx.store.selectedId;
    let selected = null;
    for (const item of this.regions()) {
      const shape = geo.shapeOf(item);
      const value = this.valueOf(item);
      const node = this.drawShape(shape, value, this.colorOf(item));
      node.dataset.region = item.id;
      node.classList.add("lv-region", `lv-${shape}`);
      const conf = this.ctx.confidence(item.score);
      if (conf) node.classList.add(`conf-${conf}`);
      if (item.id === selectedId) {
        node.classList.add("selected");
        selected = { item, shape, value };
      }
      this.svg.append(node);
      this.chips.append(this.chip(item, shape, value, conf, item.id === selectedId));
    }
    if (selected) this.drawHandles(selected);
    this.drawGesture();
    this.drawPolygonInProgress();
  }

  drawShape(shape, value, color) {
    const group = svg("g", { fill: color, stroke: color });
    if (shape === "box") {
      const rect = svg("rect", { x: this.nx(value.x), y: this.ny(value.y), width: this.nx(value.width), height: this.ny(value.height) });
      if (value.rotation) rect.setAttribute("transform", `rotate(${value.rotation} ${this.nx(value.x)} ${this.ny(value.y)})`);
      group.append(rect);
    } else if (shape === "polygon") {
      group.append(svg("polygon", { points: (value.points || []).map(([x, y]) => `${this.nx(x)},${this.ny(y)}`).join(" ") }));
    } else {
      const radius = Math.max(this.nx(value.width || 0), this.px(4));
      group.append(svg("circle", { cx: this.nx(value.x), cy: this.ny(value.y), r: radius }));
    }
    return group;
  }

  chip(item, shape, value, conf, selected) {
    const labels = labelsOf(item);
    const text = conf ? `${labels.join(", ")} ${Math.round(item.score * 100)}%` : labels.join(", ");
    const [x, y] = geo.anchorOf(shape, value);
    const chip = el("span", {
      class: `lv-chip lv-image-chip${conf ? ` conf-${conf}` : ""}${selected ? " selected" : ""}`,
      dataset: { region: item.id },
      text: text || shape,
    });
    const color = this.colorOf(item);
    Object.assign(chip.style, { left: `${x}%`, top: `${y}%`, borderColor: color, color });
    // Above the region, unless that is off the image's top edge.
    if (this.ny(y) * this.scale() < CHIP_PX) chip.classList.add("inside");
    return chip;
  }

  drawHandles({ item, shape, value }) {
    const radius = this.px(HANDLE_PX);
    if (shape === "box" && !value.rotation) {
      for (const corner of geo.CORNERS) {
        const [x, y] = geo.cornerPoint(value, corner);
        const size = radius * 2;
        this.svg.append(svg("rect", { class: `lv-handle lv-handle-${corner}`, x: this.nx(x) - radius, y: this.ny(y) - radius, width: size, height: size, "data-handle": corner, "data-for": item.id }));
      }
    } else if (shape === "polygon") {
      (value.points || []).forEach(([x, y], index) => {
        this.svg.append(svg("circle", { class: "lv-handle", cx: this.nx(x), cy: this.ny(y), r: radius, "data-vertex": index, "data-for": item.id }));
      });
    }
  }

  // The box being drawn.
  drawGesture() {
    const g = this.gesture;
    if (!g || g.kind !== "draw-box" || g.moved < CLICK_PX) return;
    const box = geo.boxFromPoints(g.from, g.to);
    const color = colorOf(this.colors, g.control.name, g.label?.value);
    const node = this.drawShape("box", box, g.label ? color : safeColor(null, 0));
    node.classList.add("lv-region", "lv-drawing");
    this.svg.append(node);
  }

  drawPolygonInProgress() {
    const d = this.drawing;
    if (!d) return;
    const color = d.label ? colorOf(this.colors, d.control.name, d.label.value) : safeColor(null, 0);
    const points = d.cursor ? [...d.points, d.cursor] : d.points;
    const line = svg("polyline", { class: "lv-drawing", stroke: color, fill: "none", points: points.map(([x, y]) => `${this.nx(x)},${this.ny(y)}`).join(" ") });
    this.svg.append(line);
    d.points.forEach(([x, y], index) => {
      const dot = svg("circle", { class: `lv-handle${index === 0 ? " first" : ""}`, cx: this.nx(x), cy: this.ny(y), r: this.px(index === 0 ? HANDLE_PX + 1 : HANDLE_PX - 1) });
      this.svg.append(dot);
    });
  }

  // --- tools ---------------------------------------------------------------------------------
  setActive(detail) {
    this.active = detail && detail.objects.includes(this.name) && geo.SHAPES[detail.control.type] ? detail : null;
    if (this.drawing && (!this.active || geo.SHAPES[this.active.control.type] !== "polygon")) this.cancelDrawing();
    this.viewport.classList.toggle("drawing", Boolean(this.active));
  }

  tool() {
    return this.active ? geo.SHAPES[this.active.control.type] : null;
  }

  cancelDrawing() {
    const had = Boolean(this.drawing);
    this.drawing = null;
    this.render();
    return had;
  }

  createRegion(control, label, value) {
    const labels = label ? { [control.type]: [label.alias || label.value] } : {};
    return this.ctx.store.add({
      from_name: control.name,
      to_name: this.name,
      type: control.type,
      original_width: this.size.width,
      original_height: this.size.height,
      image_rotation: 0,
      value: { ...value, ...labels },
    });
  }

  keypointWidth(control) {
    const radius = Number(control.attrs?.strokeWidth) || KEYPOINT_PX;
    return geo.round((radius / this.size.width) * 100);
  }

  closePolygon() {
    const d = this.drawing;
    if (!d || d.points.length < 3) return false;
    this.drawing = null;
    this.createRegion(d.control, d.label, { points: d.points.map((p) => geo.movePoint(p)), closed: true });
    return true;
  }

  undoPoint() {
    if (!this.drawing) return false;
    this.drawing.points.pop();
    if (!this.drawing.points.length) this.drawing = null;
    this.render();
    return true;
  }

  // Called by a Labels control on its key: images have no pending selection to label.
  labelSelection() {
    return false;
  }

  // --- pointer -------------------------------------------------------------------------------
  bindPointer() {
    const v = this.viewport;
    v.addEventListener("pointerdown", (event) => this.onDown(event));
    v.addEventListener("pointermove", (event) => this.onMove(event));
    v.addEventListener("pointerup", (event) => this.onUp(event));
    v.addEventListener("pointercancel", () => this.onCancel());
    v.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    v.addEventListener("pointerenter", () => {
      this.hover = true;
    });
    v.addEventListener("pointerleave", () => {
      this.hover = false;
    });
    // The middle button pans here: no browser autoscroll, no paste.
    v.addEventListener("mousedown", (event) => {
      if (event.button === 1) event.preventDefault();
    });
    v.addEventListener("auxclick", (event) => event.preventDefault());
    const keyUp = (event) => {
      if (event.key === " ") this.setSpace(false);
    };
    window.addEventListener("keyup", keyUp);
    window.addEventListener("blur", keyUp);
    this.ctx.onCleanup(() => {
      window.removeEventListener("keyup", keyUp);
      window.removeEventListener("blur", keyUp);
    });
  }

  setSpace(held) {
    this.spaceHeld = held;
    this.viewport.classList.toggle("panning", held);
  }

  onWheel(event) {
    if (!this.size) return;
    event.preventDefault();
    const rect = this.viewport.getBoundingClientRect();
    this.zoomBy(Math.exp(-event.deltaY * 0.0015), [event.clientX - rect.left, event.clientY - rect.top]);
  }

  onDown(event) {
    if (!this.size) return;
    this.viewport.focus({ preventScroll: true });
    const start = { cx: event.clientX, cy: event.clientY, moved: 0 };
    if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
      this.begin(event, { ...start, kind: "pan", panX: this.view.panX, panY: this.view.panY });
      return;
    }
    if (event.button !== 0) return;
    const p = this.percentAt(event);
    const gesture = this.gestureFor(event.target, p);
    if (gesture) this.begin(event, { ...start, ...gesture, from: p, to: p });
  }

  begin(event, gesture) {
    event.preventDefault();
    this.gesture = gesture;
    this.viewport.setPointerCapture?.(event.pointerId);
  }

  // What a press starts, by what is under the pointer and the armed tool.
  gestureFor(target, p) {
    const store = this.ctx.store;
    const selected = store.selected;
    const handle = target.closest("[data-handle]");
    const vertex = target.closest("[data-vertex]");
    const region = target.closest("[data-region]");
    const onChip = target.closest(".lv-image-chip");
    if (this.drawing) return { kind: "polygon-point" };
    if (handle && selected) return { kind: "resize", id: selected.id, handle: handle.dataset.handle, start: selected.value };
    if (vertex && selected) return { kind: "vertex", id: selected.id, index: Number(vertex.dataset.vertex), start: selected.value };
    if (region && region.dataset.region === store.selectedId) return { kind: "move", id: store.selectedId, start: store.selected.value };
    if (onChip) {
      store.select(onChip.dataset.region);
      return { kind: "move", id: onChip.dataset.region, start: store.get(onChip.dataset.region)?.value };
    }
    const tool = this.tool();
    if (tool === "box") return { kind: "draw-box", control: this.active.control, label: this.active.label, under: region?.dataset.region };
    if (tool) return { kind: tool === "polygon" ? "polygon-point" : "keypoint" };
    if (region) {
      store.select(region.dataset.region);
      return { kind: "move", id: region.dataset.region, start: store.get(region.dataset.region)?.value };
    }
    store.select(null);
    return { kind: "pan", panX: this.view.panX, panY: this.view.panY };
  }

  onMove(event) {
    if (this.drawing && !this.gesture) {
      this.drawing.cursor = this.percentAt(event);
      this.render();
      return;
    }
    const g = this.gesture;
    if (!g) return;
    g.moved = Math.max(g.moved, Math.hypot(event.clientX - g.cx, event.clientY - g.cy));
    if (g.kind === "pan") {
      this.view.panX = g.panX + event.clientX - g.cx;
      this.view.panY = g.panY + event.clientY - g.cy;
      this.place();
      return;
    }
    g.to = this.percentAt(event);
    if (g.moved < CLICK_PX) return;
    if (g.start) this.preview = { id: g.id, value: this.edit(g) };
    this.render();
  }

  // The value a move / resize / vertex drag gives the region.
  edit(g) {
    const dx = g.to[0] - g.from[0];
    const dy = g.to[1] - g.from[1];
    const value = g.start;
    if (g.kind === "resize") return geo.resizeBox(value, g.handle, g.to);
    if (g.kind === "vertex") return { points: value.points.map((p, i) => (i === g.index ? geo.movePoint(g.to) : p)) };
    if (Array.isArray(value.points)) return { points: geo.movePoints(value.points, dx, dy) };
    if (typeof value.height === "number") return geo.moveBox(value, dx, dy);
    const [x, y] = geo.movePoint([value.x, value.y], dx, dy);
    return { x, y };
  }

  onUp(event) {
    const g = this.gesture;
    this.gesture = null;
    if (!g) return;
    this.viewport.releasePointerCapture?.(event.pointerId);
    const dragged = g.moved >= CLICK_PX;
    if (g.kind === "draw-box") this.finishBox(g, dragged);
    else if (g.kind === "keypoint" && !dragged) this.createRegion(this.active.control, this.active.label, { x: g.from[0], y: g.from[1], width: this.keypointWidth(this.active.control) });
    else if (g.kind === "polygon-point" && !dragged) this.polygonPoint(event, g.from);
    else if (g.start && dragged && this.preview) {
      const value = this.preview.value;
      this.preview = null;
      this.ctx.store.update(g.id, { value });
    }
    this.preview = null;
    this.render();
  }

  onCancel() {
    this.gesture = null;
    this.preview = null;
    this.render();
  }

  finishBox(g, dragged) {
    const box = geo.boxFromPoints(g.from, g.to);
    if (dragged && box.width > 0 && box.height > 0) {
      this.createRegion(g.control, g.label, box);
      return;
    }
    // A click with the box tool armed selects what is under it.
    this.ctx.store.select(g.under || null);
  }

  polygonPoint(event, p) {
    const control = this.active?.control;
    if (!this.drawing) {
      if (!control) return;
      this.drawing = { control, label: this.active.label, points: [p], cursor: null };
      return;
    }
    const [fx, fy] = this.drawing.points[0];
    const rect = this.stage.getBoundingClientRect();
    const distance = Math.hypot(((p[0] - fx) / 100) * rect.width, ((p[1] - fy) / 100) * rect.height);
    if (this.drawing.points.length >= 3 && distance <= CLOSE_PX) {
      this.closePolygon();
      return;
    }
    this.drawing.points.push(p);
  }

  // --- keys ----------------------------------------------------------------------------------
  bindKeys() {
    const key = (keys, description, handler, when) => this.ctx.hotkey({ keys, description, handler, when });
    key("+", "zoom in", () => this.zoomBy(ZOOM_STEP));
    key("=", "zoom in", () => this.zoomBy(ZOOM_STEP));
    key("-", "zoom out", () => this.zoomBy(1 / ZOOM_STEP));
    key("left", "pan left (zoomed in)", () => this.panBy(PAN_STEP, 0));
    key("right", "pan right (zoomed in)", () => this.panBy(-PAN_STEP, 0));
    key("up", "pan up (zoomed in)", () => this.panBy(0, PAN_STEP));
    key("down", "pan down (zoomed in)", () => this.panBy(0, -PAN_STEP));
    key("enter", "close the polygon being drawn", () => this.closePolygon(), () => Boolean(this.drawing));
    key("backspace", "remove the polygon's last point", () => this.undoPoint(), () => Boolean(this.drawing));
    const holdSpace = () => {
      this.setSpace(true);
      return true;
    };
    key("space", "hold and drag to pan (pointer over the image)", holdSpace, () => this.hover);
    this.ctx.documentKey({ keys: "wheel", description: "zoom around the pointer" });
    this.ctx.documentKey({ keys: "drag", description: "draw a box with the chosen label; on a selected region: move it" });
    this.ctx.documentKey({ keys: "escape", description: "cancel the polygon being drawn" });
  }

  focus() {
    this.viewport.focus({ preventScroll: true });
  }
}

export default {
  mount(ctx) {
    return new ImageTag(ctx);
  },
};
