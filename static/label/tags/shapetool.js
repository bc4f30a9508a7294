// <Rectangle>, <Polygon>, <KeyPoint> without labels: one button (and the tag's hotkey, if
// any) that arms the drawing tool of the target image; the regions it draws carry no label.

import { el } from "../../common/dom.js";

export default {
  mount(ctx) {
    const control = ctx.config;
    let armed = false;
    const arm = (on) => {
      armed = on;
      button.classList.toggle("armed", on);
      button.setAttribute("aria-pressed", String(on));
      ctx.emit("labels:active", on ? { control, label: null, objects: control.to_name } : null);
      return true;
    };
    const hotkey = ctx.attrs.hotkey;
    const button = el(
      "button",
      { type: "button", class: "lv-label lv-shape-tool", "aria-pressed": "false", on: { click: () => arm(!armed) } },
      ctx.tag,
      hotkey ? el("kbd", { text: hotkey }) : null,
    );
    // Another control arming its label disarms this tool.
    ctx.on("labels:active", (detail) => {
      if (detail && detail.control !== control && armed) {
        armed = false;
        button.classList.remove("armed");
        button.setAttribute("aria-pressed", "false");
      }
    });
    if (hotkey) ctx.hotkey({ keys: hotkey, description: `draw with ${ctx.tag}`, handler: () => arm(!armed) });
    return { el: el("div", { class: "lv-control lv-labels", dataset: { name: ctx.name } }, button) };
  },
};
