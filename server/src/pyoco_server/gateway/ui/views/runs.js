// Runs: filters in the URL, pages by the API's cursor, counts by status, and live changes
// pushed by GET /runs/events (no polling). A run that changes is updated in place; a new run
// that matches the filters appears at the top of the first page.

import { el, fill } from "../dom.js";
import { ago, count, dateTime, duration, shortId } from "../format.js";
import { t, term } from "../i18n.js";
import { Follow } from "../sse.js";
import { badge, emptyRow, errorBox, heading, liveBadge, RUN_STATUSES, runLink, table, TERMINAL } from "./common.js";

const PAGE_SIZE = 50;
const RANGES = { "": null, "1h": 3600, "24h": 86400, "7d": 7 * 86400 };
const COLUMNS = ["col_run", "col_flow", "col_tag", "col_status", "col_submitted", "col_duration", "col_worker", "col_updated"];
const FIELDS = ["status", "flow", "tag", "label", "prefix", "since"];

function readFilters(query) {
  const filters = {};
  for (const name of FIELDS) filters[name] = query.get(name) || "";
  if (!RUN_STATUSES.includes(filters.status)) filters.status = "";
  if (!(filters.since in RANGES)) filters.since = "";
  return filters;
}

function hashFor(filters) {
  const query = new URLSearchParams();
  for (const name of FIELDS) if (filters[name]) query.set(name, filters[name]);
  const text = query.toString();
  return text ? `#/runs?${text}` : "#/runs";
}

/** The runs are newest submitted first, ties by run id (the API's order). */
function before(a, b) {
  return a.submitted_at !== b.submitted_at ? a.submitted_at > b.submitted_at : a.run_id < b.run_id;
}

export function mount(root, ctx, route) {
  const filters = readFilters(route.query);
  const updatedAfter = RANGES[filters.since] ? Date.now() / 1000 - RANGES[filters.since] : null;
  const state = { rows: new Map(), cursors: [], cursor: null, next: null, loaded: false, early: [] };
  const live = liveBadge();
  const counts = el("div", { class: "counts", role: "group", "aria-label": t("counts_label") });
  const body = el("tbody");
  const pageLabel = el("span", { class: "page-label" });
  const previous = el("button", { type: "button", class: "ghost", on: { click: () => page(-1) } }, t("page_previous"));
  const next = el("button", { type: "button", class: "ghost", on: { click: () => page(1) } }, t("page_next"));
  const problem = el("div");
  const view = table(COLUMNS, [], { class: "runs", "aria-busy": "true" });
  view.querySelector("table").replaceChild(body, view.querySelector("tbody"));

  function passes(run) {
    return (
      (!filters.status || run.status === filters.status) &&
      (!filters.flow || run.flow_name === filters.flow) &&
      (!filters.tag || run.tag === filters.tag) &&
      (!filters.label || (run.tags || []).includes(filters.label)) &&
      (!filters.prefix || run.run_id.startsWith(filters.prefix)) &&
      (updatedAfter === null || run.updated_at > updatedAfter)
    );
  }

  function row(run) {
    const now = Date.now() / 1000;
    const end = run.end_time ?? (TERMINAL.has(run.status) ? run.updated_at : now);
    const status = el("td", { class: "col-status" }, badge(run.status));
    if (run.error_reason) status.append(el("span", { class: "reason" }, term("reason", run.error_reason)));
    return el(
      "tr",
      { dataset: { runId: run.run_id, status: run.status } },
      el("td", { class: "col-run" }, runLink(run.run_id, shortId(run.run_id))),
      el("td", { class: "col-flow" }, run.flow_name),
      el("td", { class: "col-tag" }, run.tag, (run.tags || []).filter((label) => label !== run.tag).map((label) => el("span", { class: "chip" }, label))),
      status,
      el("td", { class: "col-submitted" }, dateTime(run.submitted_at)),
      el("td", { class: "col-duration" }, run.start_time ? duration(end - run.start_time) : "–"),
      el("td", { class: "col-worker" }, run.worker_id ? `${run.worker_id} #${run.attempt}` : "–"),
      el("td", { class: "col-updated", title: dateTime(run.updated_at) }, ago(run.updated_at, now)),
    );
  }

  function render(runs) {
    state.rows = new Map(runs.map((run) => [run.run_id, run]));
    fill(body, runs.length ? runs.map(row) : emptyRow(COLUMNS.length, "runs_none"));
    previous.disabled = state.cursors.length === 0;
    next.disabled = !state.next;
    pageLabel.textContent = t("page_number", { page: state.cursors.length + 1 });
  }

  function apply(run) {
    const known = state.rows.get(run.run_id);
    if (known && known.updated_at > run.updated_at) return;
    const current = body.querySelector(`tr[data-run-id="${CSS.escape(run.run_id)}"]`);
    if (known && current) {
      if (!passes(run)) {
        state.rows.delete(run.run_id);
        current.remove();
        return;
      }
      state.rows.set(run.run_id, run);
      const fresh = row(run);
      fresh.classList.add("flash");
      current.replaceWith(fresh);
      return;
    }
    if (!passes(run) || state.cursors.length > 0) return;
    body.querySelector(".empty-row")?.remove();
    state.rows.set(run.run_id, run);
    const fresh = row(run);
    fresh.classList.add("flash");
    const after = [...body.children].find((other) => before(run, state.rows.get(other.dataset.runId) ?? run));
    body.insertBefore(fresh, after ?? null);
  }

  async function load(cursor) {
    view.querySelector("table").setAttribute("aria-busy", "true");
    try {
      const result = await ctx.api.get("/runs", {
        status: filters.status,
        flow: filters.flow,
        tag: filters.tag,
        label: filters.label,
        run_id_prefix: filters.prefix,
        updated_after: updatedAfter === null ? undefined : updatedAfter.toFixed(3),
        limit: PAGE_SIZE,
        cursor,
      });
      state.cursor = cursor;
      state.next = result.next_cursor;
      render(result.items);
      fill(problem);
      state.loaded = true;
      for (const early of state.early.splice(0)) apply(early);
      performance.mark("runs-rendered");
    } catch (error) {
      fill(problem, errorBox(error));
    } finally {
      view.querySelector("table").setAttribute("aria-busy", "false");
    }
  }

  function page(direction) {
    if (direction > 0 && state.next) {
      state.cursors.push(state.cursor);
      load(state.next);
    } else if (direction < 0 && state.cursors.length) {
      load(state.cursors.pop());
    }
  }

  function renderCounts(data) {
    const chip = (status, value) => {
      const pressed = (filters.status || "") === status;
      const label = status ? term("status", status) : t("counts_all");
      return el(
        "button",
        {
          type: "button",
          class: ["count", status && `count-${status.toLowerCase()}`],
          "aria-pressed": String(pressed),
          on: { click: () => ctx.navigate(hashFor({ ...filters, status: pressed ? "" : status })) },
        },
        el("span", { class: "count-label" }, label),
        el("span", { class: "count-value" }, count(value)),
      );
    };
    fill(counts, chip("", data.total), RUN_STATUSES.map((status) => chip(status, data.by_status[status] || 0)));
  }

  const form = filterForm(filters, (changed) => ctx.navigate(hashFor(changed)));
  fill(root, heading("runs_title", live.node), counts, form, problem, view, el("div", { class: "pager" }, previous, pageLabel, next));

  const stream = new Follow(
    ctx.api,
    ctx.api.url("/runs/events", { status: filters.status, flow: filters.flow, tag: filters.tag, label: filters.label }),
    {
      onEvent({ event, data }) {
        if (event === "counts") renderCounts(data);
        else if (event === "reset") load(state.cursor);
        else if (event === "run") state.loaded ? apply(data) : state.early.push(data);
      },
      onState: (name) => live.set(name),
      onError: (error) => fill(problem, errorBox(error)),
    },
  );
  load(null);
  const ticker = setInterval(() => {
    for (const tr of body.querySelectorAll("tr[data-run-id]")) {
      const run = state.rows.get(tr.dataset.runId);
      if (run) tr.replaceWith(row(run));
    }
  }, 15_000);
  return {
    unmount() {
      stream.close();
      clearInterval(ticker);
    },
  };
}

function filterForm(filters, submit) {
  const input = (name, key, props = {}) => [
    el("label", { for: `filter-${name}` }, t(key)),
    el("input", { id: `filter-${name}`, name, value: filters[name], autocomplete: "off", ...props }),
  ];
  const select = (name, key, options) => [
    el("label", { for: `filter-${name}` }, t(key)),
    el(
      "select",
      { id: `filter-${name}`, name },
      options.map(([value, text]) => el("option", { value, selected: filters[name] === value }, text)),
    ),
  ];
  const form = el(
    "form",
    { class: "filters", role: "search" },
    el("div", { class: "field" }, select("status", "filter_status", [["", t("any")], ...RUN_STATUSES.map((s) => [s, term("status", s)])])),
    el("div", { class: "field" }, input("flow", "filter_flow")),
    el("div", { class: "field" }, input("tag", "filter_tag")),
    el("div", { class: "field" }, input("label", "filter_label")),
    el("div", { class: "field" }, input("prefix", "filter_prefix", { pattern: "[A-Za-z0-9_\\-]{1,64}", class: "mono" })),
    el("div", { class: "field" }, select("since", "filter_since", Object.keys(RANGES).map((key) => [key, t(`since_${key || "any"}`)]))),
    el(
      "div",
      { class: "field buttons" },
      el("button", { type: "submit" }, t("filter_apply")),
      el("button", { type: "button", class: "ghost", on: { click: () => submit({}) } }, t("filter_clear")),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const changed = {};
    for (const name of FIELDS) changed[name] = String(data.get(name) || "").trim();
    submit(changed);
  });
  return form;
}
