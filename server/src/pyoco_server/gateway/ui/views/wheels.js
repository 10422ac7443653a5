// Wheels: the registry's versions (any key), upload and history (admin keys).

import { el, fill } from "../dom.js";
import { bytes, dateTime } from "../format.js";
import { t, term } from "../i18n.js";
import { emptyRow, errorBox, heading, problemText, section, table } from "./common.js";

function wheelRow(wheel) {
  return el(
    "tr",
    { dataset: { wheel: wheel.name } },
    el("td", {}, wheel.distribution),
    el("td", {}, wheel.version),
    el("td", {}, (wheel.tags || []).length ? wheel.tags.map((tag) => el("span", { class: "chip" }, tag)) : el("span", { class: "muted" }, t("wheels_all_tags"))),
    el("td", {}, bytes(wheel.size_bytes)),
    el("td", {}, dateTime(wheel.uploaded_at)),
    el("td", {}, wheel.uploaded_by ?? "–"),
    el("td", { class: "mono", title: wheel.sha256_hex }, wheel.sha256_hex.slice(0, 12)),
    el("td", {}, (wheel.modules || []).join(", ")),
  );
}

function historyRow(event) {
  return el(
    "tr",
    {},
    el("td", {}, dateTime(event.occurred_at)),
    el("td", {}, term("wheel_action", event.action)),
    el("td", {}, event.wheel_name),
    el("td", {}, event.version ?? "–"),
    el("td", {}, event.actor ? Object.values(event.actor).filter(Boolean).join(" ") : "–"),
    el("td", {}, event.source?.remote_addr ?? "–"),
  );
}

export function mount(root, ctx) {
  const admin = ctx.role === "admin";
  const list = el("div");
  const history = el("div");

  async function load() {
    try {
      const wheels = await ctx.api.get("/wheels");
      const items = Array.isArray(wheels) ? wheels : wheels.items || [];
      fill(list, table(["col_distribution", "col_version", "col_tags", "col_size", "col_uploaded", "col_by", "col_sha256", "col_modules"], items.length ? items.map(wheelRow) : emptyRow(8, "wheels_none")));
    } catch (error) {
      fill(list, errorBox(error));
    }
    if (!admin) return;
    try {
      const page = await ctx.api.get("/wheels/history", { limit: 50 });
      const items = Array.isArray(page) ? page : page.items || [];
      fill(history, table(["col_time", "col_action", "col_wheel", "col_version", "col_actor", "col_source"], items.length ? items.map(historyRow) : emptyRow(6, "history_none")));
    } catch (error) {
      fill(history, errorBox(error));
    }
  }

  const parts = [heading("wheels_title")];
  if (admin) parts.push(section("wheels_upload", uploadForm(ctx, load)));
  parts.push(section("wheels_list", list));
  if (admin) parts.push(section("wheels_history", history));
  fill(root, ...parts);
  load();
  return {};
}

function uploadForm(ctx, reload) {
  const file = el("input", { type: "file", id: "wheel-file", name: "wheel", accept: ".whl", required: true });
  const tags = el("input", { id: "wheel-tags", name: "tags", autocomplete: "off" });
  const replace = el("input", { type: "checkbox", id: "wheel-replace", name: "replace", checked: true });
  const form = el(
    "form",
    { class: "filters upload" },
    el("div", { class: "field" }, el("label", { for: "wheel-file" }, t("wheels_file")), file),
    el("div", { class: "field" }, el("label", { for: "wheel-tags" }, t("wheels_tags")), tags),
    el("div", { class: "field check" }, replace, el("label", { for: "wheel-replace" }, t("wheels_replace"))),
    el("div", { class: "field buttons" }, el("button", { type: "submit" }, t("wheels_upload_button"))),
    el("p", { class: "hint" }, t("wheels_upload_hint")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const data = new FormData();
    data.set("wheel", file.files[0], file.files[0].name);
    if (tags.value.trim()) data.set("tags", tags.value.trim());
    data.set("replace", replace.checked ? "true" : "false");
    try {
      const wheel = await ctx.api.upload("/wheels", data);
      ctx.notify(t("wheels_uploaded", { name: wheel.name }));
      form.reset();
      await reload();
    } catch (error) {
      ctx.notify(problemText(error), "error");
    }
  });
  return form;
}
