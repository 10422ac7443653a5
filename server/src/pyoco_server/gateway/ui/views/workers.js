// Workers (admin): state, tags, the runs each holds now, last heartbeat, wheel sync, and
// hide/unhide. The registry is small and has no event stream in the API: the view reads it
// again every 10 s while the tab is visible.

import { el, fill } from "../dom.js";
import { ago, count, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { badge, emptyRow, errorBox, heading, problemText, runLink, table } from "./common.js";

const REFRESH_MS = 10_000;
const COLUMNS = ["col_worker", "col_state", "col_tags", "col_runs_now", "col_heartbeat", "col_counters", "col_wheels", "col_host", "col_actions"];

function wheelSync(wheels) {
  if (!wheels || !wheels.enabled) return el("span", { class: "muted" }, t("wheels_sync_off"));
  const parts = [el("span", {}, t("wheels_installed", { count: count((wheels.installed || []).length) }))];
  if (wheels.last_synced_at) parts.push(el("span", { class: "muted", title: dateTime(wheels.last_synced_at) }, t("wheels_synced", { ago: ago(wheels.last_synced_at) })));
  if (wheels.last_error) parts.push(el("span", { class: "error-text" }, wheels.last_error));
  for (const skipped of wheels.skipped || []) parts.push(el("span", { class: "muted" }, t("wheels_skipped", { wheel: skipped.wheel, reason: skipped.reason })));
  return el("div", { class: "stack" }, parts);
}

export function mount(root, ctx) {
  const body = el("tbody");
  const problem = el("div");
  const showHidden = el("input", { type: "checkbox", id: "show-hidden" });
  const view = table(COLUMNS, [], { class: "workers" });
  view.querySelector("table").replaceChild(body, view.querySelector("tbody"));

  async function setHidden(worker, hidden) {
    try {
      await ctx.api.patch(`/workers/${encodeURIComponent(worker.worker_id)}`, { hidden });
      ctx.notify(t(hidden ? "worker_hidden" : "worker_shown", { worker: worker.worker_id }));
      await load();
    } catch (error) {
      ctx.notify(problemText(error), "error");
    }
  }

  function row(worker) {
    const runs = worker.current_run_ids || [];
    const action = el("button", { type: "button", class: "ghost", on: { click: () => setHidden(worker, !worker.hidden) } }, t(worker.hidden ? "worker_unhide" : "worker_hide"));
    return el(
      "tr",
      { dataset: { workerId: worker.worker_id }, class: worker.hidden ? "is-hidden" : null },
      el("td", { class: "mono" }, worker.worker_id, worker.hidden ? el("span", { class: "chip" }, t("worker_hidden_mark")) : null),
      el("td", {}, badge(worker.state, "worker")),
      el("td", {}, (worker.tags || []).map((tag) => el("span", { class: "chip" }, tag))),
      el("td", {}, el("span", {}, t("worker_runs", { count: count(runs.length), concurrency: count(worker.concurrency) })), el("div", { class: "stack" }, runs.map((id) => runLink(id, id.slice(0, 8))))),
      el("td", { title: dateTime(worker.last_seen_at) }, ago(worker.last_seen_at)),
      el("td", {}, t("worker_counters", { completed: count(worker.runs_completed ?? 0), failed: count(worker.runs_failed ?? 0) })),
      el("td", {}, wheelSync(worker.wheels)),
      el("td", {}, worker.hostname ?? "–", worker.version ? el("div", { class: "muted" }, worker.version) : null),
      el("td", {}, action),
    );
  }

  async function load() {
    try {
      const { items: workers } = await ctx.api.get("/workers", { scope: "all", include_hidden: showHidden.checked, limit: 500 });
      fill(body, workers.length ? workers.map(row) : emptyRow(COLUMNS.length, "workers_none"));
      fill(problem);
    } catch (error) {
      fill(problem, errorBox(error));
    }
  }

  showHidden.addEventListener("change", load);
  const refresh = el("button", { type: "button", class: "ghost", on: { click: load } }, t("refresh"));
  fill(root, heading("workers_title", refresh), el("div", { class: "toolbar" }, showHidden, el("label", { for: "show-hidden" }, t("workers_show_hidden"))), problem, view);
  load();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") load();
  }, REFRESH_MS);
  return { unmount: () => clearInterval(timer) };
}
