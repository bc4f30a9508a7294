// Which module renders which config tag. Modules load on demand: a page imports only those
// its config uses. To support a new tag, add its module here (see static/label/README.md).

export const TAG_MODULES = {
  Header: () => import("./header.js"),
  Text: () => import("./text.js"),
  HyperText: () => import("./text.js"),
  HTML: () => import("./text.js"),
  Paragraphs: () => import("./paragraphs.js"),
  Labels: () => import("./labels.js"),
  HyperTextLabels: () => import("./labels.js"),
  ParagraphLabels: () => import("./labels.js"),
  Choices: () => import("./choices.js"),
  Taxonomy: () => import("./taxonomy.js"),
  // perRegion TextAreas edit the selected region's text; others are textarea.js.
  TextArea: () => import("./regiontext.js"),
  Rating: () => import("./rating.js"),
  Number: () => import("./number.js"),
  Relations: () => import("./relations.js"),
  Image: () => import("./image.js"),
  RectangleLabels: () => import("./labels.js"),
  PolygonLabels: () => import("./labels.js"),
  KeyPointLabels: () => import("./labels.js"),
  Rectangle: () => import("./shapetool.js"),
  Polygon: () => import("./shapetool.js"),
  KeyPoint: () => import("./shapetool.js"),
  Audio: () => import("./audio.js"),
  AudioPlus: () => import("./audio.js"),
};
