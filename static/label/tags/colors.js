// Colours from the config (Label background="...") are only used when the browser parses
// them as a colour; anything else falls back to the palette.

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"];

export function safeColor(value, index = 0) {
  if (typeof value === "string" && value && window.CSS && CSS.supports("color", value)) return value;
  return PALETTE[index % PALETTE.length];
}

// label value -> colour, for every Labels-family control of the config.
export function labelColors(schema) {
  const colors = {};
  for (const control of schema.controls) {
    control.labels.forEach((label, index) => {
      const color = safeColor(label.background, index);
      colors[`${control.name}\u0000${label.value}`] = color;
      if (label.alias) colors[`${control.name}\u0000${label.alias}`] = color;
    });
  }
  return colors;
}

export function colorOf(colors, controlName, labelValue) {
  return colors[`${controlName}\u0000${labelValue}`] || PALETTE[0];
}
