// <Audio> (and <AudioPlus>, its old name): the waveform (wavesurfer.js, vendored) with a
// timeline and the regions of its Labels controls. Drag on the waveform to mark a segment,
// then press a label key (or choose the label first: the segment is labelled as it is drawn).
// Regions move and resize by dragging; Delete removes the selected one. Space plays / pauses,
// "Loop" repeats the selected region, the speed goes from 0.5x to 2x.
// Value: {"start", "end"} in seconds, "channel": 0 and the labels, as Label Studio writes it.

import WaveSurfer from "../../vendor/wavesurfer-8.0.1.js";
import RegionsPlugin from "../../vendor/wavesurfer-regions-8.0.1.js";
import TimelinePlugin from "../../vendor/wavesurfer-timeline-8.0.1.js";
import { el } from "../../common/dom.js";
import { colorOf, labelColors } from "./colors.js";

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const LABEL_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
const MAX_PX_PER_SEC = 400;
const PENDING_COLOR = "rgba(120, 120, 120, 0.3)";
const WAVE_HEIGHT = 110;

function labelsOf(item) {
  const value = item.value || {};
  return value[item.type] || value.labels || [];
}

function isTimeRegion(item, name) {
  return item.to_name === name && typeof item.value?.start === "number" && typeof item.value?.end === "number";
}

// Milliseconds are plenty for a region's bounds and keep the stored JSON short.
function seconds(value) {
  return Math.round(value * 1000) / 1000;
}

function clock(time) {
  const minutes = Math.floor(time / 60);
  return `${minutes}:${(time - minutes * 60).toFixed(1).padStart(4, "0")}`;
}

// About eight numbered notches over the clip, whatever its length.
function timelineOptions(duration) {
  const step = LABEL_STEPS.find((s) => s >= duration / 8) || LABEL_STEPS[LABEL_STEPS.length - 1];
  return { timeInterval: step / 5, primaryLabelInterval: step, secondaryLabelInterval: step };
}

function tint(color, percent) {
  return `color-mix(in srgb, ${color} ${percent}%, transparent)`;
}

class AudioTag {
  constructor(ctx) {
    this.ctx = ctx;
    this.name = ctx.name;
    this.colors = labelColors(ctx.schema);
    this.active = null; // {control, label} chosen before drawing
    this.pending = null; // a drawn segment waiting for its label
    this.shown = new Map(); // store id -> wavesurfer region
    this.drawn = new Map(); // store id -> what the region shows, to skip needless updates
    this.syncing = false;
    this.duration = 0;
    this.build();
    this.bindKeys();
    ctx.on("labels:active", (detail) => {
      this.active = detail && detail.objects.includes(this.name) ? detail : null;
    });
    ctx.on("selection:cancel", () => this.dropPending());
    ctx.subscribe(() => this.sync());
    this.start(ctx.value());
  }

  // --- DOM -----------------------------------------------------------------------------------
  build() {
    this.playButton = el("button", { type: "button", class: "lv-audio-play", title: "Play / pause (Space)", text: "▶ Play", on: { click: () => this.playPause() } });
    this.speed = el("select", { class: "lv-audio-speed", "aria-label": "Playback speed" });
    for (const rate of SPEEDS) this.speed.append(el("option", { value: String(rate), text: `${rate}x`, selected: rate === 1 }));
    this.speed.addEventListener("change", () => this.setSpeed(Number(this.speed.value)));
    this.loop = el("input", { type: "checkbox", class: "lv-audio-loop" });
    this.zoom = el("input", { type: "range", class: "lv-audio-zoom", min: "0", max: String(MAX_PX_PER_SEC), value: "0", "aria-label": "Zoom" });
    this.zoom.addEventListener("input", () => this.ws?.zoom(Number(this.zoom.value)));
    this.time = el("span", { class: "lv-audio-time muted", text: "0:00.0" });
    this.status = el("span", { class: "lv-audio-status muted", text: "Loading…" });
    const toolbar = el(
      "div",
      { class: "lv-audio-toolbar", role: "toolbar", "aria-label": `Audio ${this.name}` },
      this.playButton,
      el("label", {}, "Speed ", this.speed),
      el("label", { title: "Repeat the selected region" }, this.loop, " Loop region"),
      el("label", { title: "Pixels per second (left: the whole clip)" }, "Zoom ", this.zoom),
      this.time,
      this.status,
    );
    this.wave = el("div", { class: "lv-audio-wave" });
    this.timeline = el("div", { class: "lv-audio-timeline" });
    this.el = el("div", { class: "lv-audio", dataset: { name: this.name } }, toolbar, this.wave, this.timeline);
  }

  start(url) {
    if (typeof url !== "string" || !url) {
      this.status.textContent = "No audio in this task.";
      return;
    }
    this.regions = RegionsPlugin.create();
    this.ws = WaveSurfer.create({
      container: this.wave,
      url,
      height: WAVE_HEIGHT,
      waveColor: "#9db0ff",
      progressColor: "#4e6bd6",
      cursorColor: "#c62828",
      normalize: true,
      plugins: [this.regions],
    });
    this.ws.on("ready", (duration) => this.onReady(duration));
    this.ws.on("error", (error) => {
      this.status.textContent = `The audio could not be loaded (${error?.message || error}).`;
    });
    this.ws.on("timeupdate", (time) => this.onTime(time));
    this.ws.on("play", () => this.showPlaying(true));
    this.ws.on("pause", () => this.showPlaying(false));
    this.regions.on("region-created", (region) => this.onCreated(region));
    this.regions.on("region-updated", (region) => this.onUpdated(region));
    this.regions.on("region-clicked", (region, event) => this.onClicked(region, event));
  }

  onReady(duration) {
    this.duration = duration;
    this.status.textContent = "";
    this.time.textContent = `0:00.0 / ${clock(duration)}`;
    this.regions.enableDragSelection({ color: PENDING_COLOR });
    this.ws.registerPlugin(TimelinePlugin.create({ container: this.timeline, ...timelineOptions(duration) }));
    this.el.dataset.ready = "true";
    this.sync();
  }

  // --- playback ------------------------------------------------------------------------------
  playPause() {
    if (!this.ws || !this.duration) return false;
    const region = this.selectedRegion();
    if (!this.ws.isPlaying() && region && this.loop.checked) {
      const time = this.ws.getCurrentTime();
      if (time < region.value.start || time >= region.value.end) this.ws.setTime(region.value.start);
    }
    this.ws.playPause().catch((error) => {
      this.status.textContent = `Cannot play: ${error.message}`;
    });
    return true;
  }

  setSpeed(rate) {
    if (this.ws) this.ws.setPlaybackRate(rate, true);
    this.speed.value = String(rate);
    this.el.dataset.speed = String(rate);
  }

  stepSpeed(delta) {
    const at = SPEEDS.indexOf(Number(this.speed.value));
    const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, at + delta))];
    this.setSpeed(next);
    return true;
  }

  onTime(time) {
    this.time.textContent = `${clock(time)} / ${clock(this.duration)}`;
    const region = this.selectedRegion();
    if (this.loop.checked && region && this.ws.isPlaying() && time >= region.value.end) {
      this.ws.setTime(region.value.start);
    }
  }

  showPlaying(playing) {
    this.playButton.textContent = playing ? "❚❚ Pause" : "▶ Play";
    this.el.dataset.playing = String(playing);
  }

  // --- regions -------------------------------------------------------------------------------
  items() {
    return this.ctx.store.all().filter((item) => isTimeRegion(item, this.name));
  }

  selectedRegion() {
    const selected = this.ctx.store.selected;
    return selected && isTimeRegion(selected, this.name) ? selected : null;
  }

  // Make the waveform's regions match the store (after any change, undo and redo included).
  sync() {
    if (!this.duration) return;
    const selectedId = this.ctx.store.selectedId;
    const items = this.items();
    const ids = new Set(items.map((item) => item.id));
    this.syncing = true;
    try {
      for (const [id, region] of this.shown) {
        if (ids.has(id)) continue;
        region.remove();
        this.shown.delete(id);
        this.drawn.delete(id);
      }
      for (const item of items) this.show(item, item.id === selectedId);
    } finally {
      this.syncing = false;
    }
    this.el.dataset.regions = String(items.length);
  }

  show(item, selected) {
    const labels = labelsOf(item);
    const color = colorOf(this.colors, item.from_name, labels[0]);
    const conf = this.ctx.confidence(item.score);
    const text = conf ? `${labels.join(", ")} ${Math.round(item.score * 100)}%` : labels.join(", ");
    const key = JSON.stringify([item.value.start, item.value.end, text, color, selected]);
    if (this.drawn.get(item.id) === key) return;
    this.drawn.set(item.id, key);
    const options = { start: item.value.start, end: item.value.end, color: tint(color, selected ? 32 : 16), content: this.chip(text, color, conf) };
    let region = this.shown.get(item.id);
    if (region) region.setOptions(options);
    else {
      region = this.regions.addRegion({ ...options, id: item.id, drag: true, resize: true });
      this.shown.set(item.id, region);
    }
    if (region.element) {
      region.element.style.boxShadow = selected ? `inset 0 0 0 2px ${color}` : "none";
      region.element.dataset.region = item.id;
    }
  }

  // Inline styles: the regions live in wavesurfer's shadow DOM, out of the page's CSS.
  chip(text, color, conf) {
    const chip = el("span", { class: "lv-audio-chip", text });
    const outline = { high: "#1a7f37", mid: "#b58100", low: "#c62828" }[conf];
    Object.assign(chip.style, {
      display: "inline-block",
      font: "600 11px system-ui, sans-serif",
      color,
      background: "#fff",
      border: `1px solid ${color}`,
      borderRadius: "6px",
      padding: "0 4px",
      margin: "2px",
      outline: outline ? `2px solid ${outline}` : "none",
    });
    return chip;
  }

  onCreated(region) {
    if (this.syncing) return;
    // A segment drawn with the mouse: labelled now if a label is chosen, else it waits.
    if (this.active) {
      const { start, end } = region;
      region.remove();
      this.createRegion(this.active.control, this.active.label, start, end);
      return;
    }
    this.dropPending();
    this.pending = region;
    region.setContent(this.chip("press a label key", "#555", null));
    this.el.dataset.pending = "true";
  }

  onUpdated(region) {
    if (region === this.pending) return;
    const id = [...this.shown].find(([, r]) => r === region)?.[0];
    if (!id) return;
    this.ctx.store.update(id, { value: { start: seconds(region.start), end: seconds(region.end) } });
    this.ctx.store.select(id);
  }

  onClicked(region, event) {
    event.stopPropagation();
    const id = [...this.shown].find(([, r]) => r === region)?.[0];
    if (id) this.ctx.store.select(id);
  }

  dropPending() {
    if (!this.pending) return false;
    this.pending.remove();
    this.pending = null;
    delete this.el.dataset.pending;
    return true;
  }

  createRegion(control, label, start, end) {
    const item = this.ctx.store.add({
      from_name: control.name,
      to_name: this.name,
      type: control.type,
      original_length: seconds(this.duration),
      value: { start: seconds(start), end: seconds(Math.min(end, this.duration)), channel: 0, [control.type]: [label.alias || label.value] },
    });
    this.ctx.store.select(item.id);
    return item;
  }

  // Called by a Labels control when its label key is pressed: label the drawn segment.
  labelSelection(control, label) {
    const region = this.pending;
    if (!region) return false;
    this.pending = null;
    delete this.el.dataset.pending;
    const { start, end } = region;
    region.remove();
    this.createRegion(control, label, start, end);
    return true;
  }

  // --- keys ----------------------------------------------------------------------------------
  bindKeys() {
    this.ctx.hotkey({ keys: "space", description: "play / pause (with Loop: the selected region)", handler: () => this.playPause() });
    this.ctx.hotkey({ keys: "ctrl+up", description: "faster playback", handler: () => this.stepSpeed(1) });
    this.ctx.hotkey({ keys: "ctrl+down", description: "slower playback", handler: () => this.stepSpeed(-1) });
    this.ctx.documentKey({ keys: "drag", description: "mark a segment on the waveform, then press a label key" });
  }

  destroy() {
    if (this.ws) this.ws.destroy();
  }
}

export default {
  mount(ctx) {
    return new AudioTag(ctx);
  },
};
