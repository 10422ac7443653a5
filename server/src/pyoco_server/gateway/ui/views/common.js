// Pieces the views share: badges, tables, sections, error messages, two-step confirmations.

import { el, fill } from "../dom.js";
import { t, term } from "../i18n.js";

export const RUN_STATUSES = ["PENDING", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"];
export const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** A status as a word with a colour (the colour is never the only cue). */
export function badge(status, prefix = "status") {
  return el("span", { class: ["badge", `badge-${String(status).toLowerCase()}`] }, term(prefix, status));
}

export function heading(key, ...extra) {
  return el("div", { class: "view-head" }, el("h1", {}, t(key)), ...extra);
}

export function section(key, ...children) {
  return el("section", { class: "panel" }, el("h2", {}, t(key)), ...children);
}

/** A table with a header row of string keys; rows are <tr> elements. */
export function table(keys, rows, props = {}) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      props,
      el("thead", {}, el("tr", {}, keys.map((key) => el("th", { scope: "col", class: key.replace(/^col_/, "col-") }, t(key))))),
      el("tbody", {}, rows),
    ),
  );
}

export function emptyRow(columns, key) {
  return el("tr", { class: "empty-row" }, el("td", { colspan: columns }, t(key)));
}

/** What went wrong, for a person: the status and the server's explanation. */
export function problemText(error) {
  if (error.status === undefined) return t("error_network");
  return t("error_status", { status: error.status, detail: error.detail || "" });
}

export function errorBox(error) {
  return el("p", { class: "error-box", role: "alert" }, problemText(error));
}

/** A <pre> of text that may be long (errors, tracebacks, JSON), folded past a few lines. */
export function longText(text, className = "") {
  const pre = el("pre", { class: ["long", className] }, text);
  if (String(text).split("\n").length <= 12) return pre;
  return el("details", { class: "fold" }, el("summary", {}, t("show_all")), pre);
}

/**
 * A button that asks to be pressed again before it acts (no browser dialog): the first press
 * turns it into "Confirm", which acts within a few seconds.
 */
export function confirmButton(labelKey, confirmKey, action, props = {}, isEnabled = () => true) {
  let armed = null;
  const button = el("button", { type: "button", ...props }, t(labelKey));
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = t(confirmKey);
      button.classList.add("armed");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = t(labelKey);
        button.classList.remove("armed");
      }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.classList.remove("armed");
    button.disabled = true;
    try {
      await action();
    } finally {
      button.textContent = t(labelKey);
      button.disabled = !isEnabled();
    }
  });
  return button;
}

/** A run id as a link to its view. */
export function runLink(runId, text) {
  return el("a", { href: `#/runs/${encodeURIComponent(runId)}`, class: "mono", title: runId }, text ?? runId);
}

/** Show a live stream's state ("live", "reconnecting", "paused"). */
export function liveBadge() {
  const node = el("span", { class: "live live-connecting" }, t("live_connecting"));
  return {
    node,
    set(state) {
      node.className = `live live-${state}`;
      fill(node, t(`live_${state}`));
    },
  };
}
