// The dashboard's entry point: settings from the page's <meta> tags, the API key, the
// language and theme, which controls an admin sees, and the views behind the URL's hash
// (#/runs, #/runs/<id>, #/workers, #/dlq, #/wheels, #/metrics), so every view is a link.

import { Api } from "./api.js";
import { el, fill } from "./dom.js";
import { initialLanguage, languages, loadTables, setLanguage, t } from "./i18n.js";
import * as dlq from "./views/dlq.js";
import * as metrics from "./views/metrics.js";
import * as run from "./views/run.js";
import * as runs from "./views/runs.js";
import * as wheels from "./views/wheels.js";
import * as workers from "./views/workers.js";

const THEMES = ["auto", "light", "dark"];
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

const config = {
  lang: meta("pyoco-lang"),
  keysOn: meta("pyoco-auth") === "api_key",
  keyHeader: meta("pyoco-key-header") || "X-API-Key",
};
const api = new Api(config.keyHeader, config.keysOn);
const ctx = { api, role: null, notify, navigate, refreshChrome };
let mounted = null;
let noticeTimer = null;

function notify(message, kind = "info") {
  const box = document.getElementById("notice");
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  fill(box, el("p", { class: `notice-${kind}` }, message));
  clearTimeout(noticeTimer);
  if (kind !== "error") noticeTimer = setTimeout(() => fill(box), 6000);
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "runs").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query || "") };
}

function viewFor(parts) {
  const [name, id] = parts;
  if (name === "runs" && id) return { view: run, name: "runs", admin: false };
  const views = { runs, workers, dlq, wheels, metrics };
  const view = views[name] || runs;
  return { view, name: views[name] ? name : "runs", admin: [workers, dlq, metrics].includes(view) };
}

function route() {
  mounted?.unmount?.();
  mounted = null;
  const main = document.getElementById("main");
  fill(main);
  const hash = parseHash();
  const { view, name, admin } = viewFor(hash.parts);
  for (const link of document.querySelectorAll(".nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (config.keysOn && !api.key) {
    showAuth(t("auth_needed"));
    main.append(el("p", { class: "empty" }, t("auth_waiting")));
    return;
  }
  if (admin && ctx.role !== "admin") {
    main.append(el("p", { class: "empty" }, t("admin_only")));
    return;
  }
  mounted = view.mount(main, ctx, { parts: hash.parts, query: hash.query });
}

async function detectRole() {
  if (!config.keysOn) {
    ctx.role = "admin";
    return;
  }
  if (!api.key) {
    ctx.role = null;
    return;
  }
  try {
    await api.get("/metrics/history");
    ctx.role = "admin";
  } catch (error) {
    ctx.role = error.status === 403 && error.reason === "forbidden_role" ? "user" : null;
  }
}

function showAuth(message) {
  const panel = document.getElementById("auth");
  panel.hidden = false;
  document.getElementById("auth-message").textContent = message;
  document.getElementById("auth-key").focus();
}

function onAuthError(error) {
  if (error.status === 403 && error.reason === "forbidden_role") {
    notify(t("auth_forbidden_role"), "error");
  } else if (error.status === 401) {
    showAuth(t("auth_required"));
  } else {
    showAuth(t("auth_invalid"));
  }
}

function refreshChrome() {
  for (const link of document.querySelectorAll("[data-admin]")) link.hidden = ctx.role !== "admin";
  const keyButton = document.getElementById("key-button");
  keyButton.hidden = !config.keysOn;
  keyButton.textContent = api.key ? t(ctx.role === "admin" ? "key_admin" : "key_user") : t("key_none");
  const theme = localStorage.getItem("pyoco.theme") || "auto";
  document.getElementById("theme-button").textContent = t(`theme_${theme}`);
  const select = document.getElementById("lang-select");
  fill(select, ...languages().map((name) => el("option", { value: name }, t(`lang_${name}`))));
  select.value = document.documentElement.lang;
}

function applyTheme(theme) {
  if (theme === "auto") {
    localStorage.removeItem("pyoco.theme");
    delete document.documentElement.dataset.theme;
  } else {
    localStorage.setItem("pyoco.theme", theme);
    document.documentElement.dataset.theme = theme;
  }
}

function wireChrome() {
  document.getElementById("lang-select").addEventListener("change", (event) => {
    setLanguage(event.target.value, true);
    refreshChrome();
    route();
  });
  document.getElementById("theme-button").addEventListener("click", () => {
    const theme = localStorage.getItem("pyoco.theme") || "auto";
    applyTheme(THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length]);
    refreshChrome();
  });
  document.getElementById("key-button").addEventListener("click", () => showAuth(t("auth_change")));
  document.getElementById("auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("auth-key");
    api.key = input.value.trim();
    input.value = "";
    await detectRole();
    if (ctx.role === null) {
      showAuth(t("auth_invalid"));
      return;
    }
    document.getElementById("auth").hidden = true;
    refreshChrome();
    route();
  });
  document.getElementById("auth-forget").addEventListener("click", () => {
    api.key = "";
    ctx.role = null;
    refreshChrome();
    route();
  });
  document.getElementById("skip").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  window.addEventListener("hashchange", route);
}

async function start() {
  const theme = localStorage.getItem("pyoco.theme");
  if (theme) document.documentElement.dataset.theme = theme;
  const role = detectRole(); // at the same time as the tables load
  await loadTables();
  setLanguage(initialLanguage(config.lang));
  wireChrome();
  await role;
  api.onAuthError = onAuthError; // from here on, with the tables loaded
  refreshChrome();
  route();
}

start();
