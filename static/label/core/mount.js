// Build the labelling interface from the config's layout tree (served by the page, see
// projects/labelconfig/layout.py): layout tags here, object and control tags by their module
// (tags/index.js). A tag without a module gets a visible "not supported" box, never nothing.

import { el } from "../../common/dom.js";
import { TAG_MODULES } from "../tags/index.js";

const LAYOUT_TAGS = new Set(["View", "Style"]);

async function loadModules(root) {
  const wanted = new Set();
  const walk = (node) => {
    if (TAG_MODULES[node.tag]) wanted.add(node.tag);
    (node.children || []).forEach(walk);
  };
  walk(root);
  const modules = {};
  await Promise.all(
    [...wanted].map(async (tag) => {
      modules[tag] = (await TAG_MODULES[tag]()).default;
    }),
  );
  return modules;
}

export function unsupportedBox(node) {
  const what = node.name ? `<${node.tag} name="${node.name}">` : `<${node.tag}>`;
  return el(
    "div",
    { class: "unsupported", role: "note", dataset: { tag: node.tag } },
    el("strong", { text: what }),
    " is not supported in this UI yet: its results are kept as they are but cannot be edited here.",
  );
}

function layoutElement(node, build) {
  if (node.kind === "html") {
    const element = el(node.tag, {}, node.text || "");
    (node.children || []).forEach((child) => element.append(build(child)));
    if (node.tail) return [element, document.createTextNode(node.tail)];
    return element;
  }
  if (node.tag === "Style") return document.createTextNode("");
  const view = el("div", { class: "lv-view" });
  (node.children || []).forEach((child) => view.append(...[build(child)].flat()));
  return view;
}

function collapse(node, build) {
  const wrap = el("div", { class: "lv-collapse" });
  for (const panel of node.children || []) {
    const details = el("details", { open: true }, el("summary", { text: panel.attrs?.value || "" }));
    (panel.children || []).forEach((child) => details.append(...[build(child)].flat()));
    wrap.append(details);
  }
  return wrap;
}

// Mount every tag of `layout` with `makeContext(node)` giving each module its context.
export async function mountLayout(layout, makeContext) {
  const modules = await loadModules(layout);
  const instances = [];
  const build = (node) => {
    if (node.kind === "html" || LAYOUT_TAGS.has(node.tag)) return layoutElement(node, build);
    if (node.tag === "Collapse") return collapse(node, build);
    const module = modules[node.tag];
    if (!module) return unsupportedBox(node);
    const ctx = makeContext(node);
    const instance = module.mount(ctx) || {};
    instance.node = node;
    instances.push({ instance, ctx });
    ctx.registerInstance(instance);
    return instance.el || document.createTextNode("");
  };
  const root = build(layout);
  return { el: root, instances };
}
