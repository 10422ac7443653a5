// One run: its task graph coloured by live task state, a live timeline, tasks with their
// outputs and errors, params, attempts, code versions, logs, and cancel. Changes arrive on
// the run's watch stream (GET /runs/{id}/watch), which ends once the run has ended.

import { el, fill, pretty } from "../dom.js";
import { ago, clockSeconds, dateTime, duration } from "../format.js";
import { drawGraph } from "../graph.js";
import { t, term } from "../i18n.js";
import { Follow } from "../sse.js";
import { drawTimeline } from "../timeline.js";
import { badge, confirmButton, emptyRow, errorBox, liveBadge, longText, problemText, runLink, section, table, TERMINAL } from "./common.js";

const CANCELLABLE = new Set(["PENDING", "RUNNING"]);
const LOG_PAGE = 500;

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").map(([key, value]) => [el("dt", {}, t(key)), el("dd", {}, value)]));
}

function labels(run) {
  const own = (run.tags || []).filter((label) => label !== run.tag);
  return own.length ? own.map((label) => el("span", { class: "chip" }, label)) : null;
}

function summary(run) {
  const ran = run.start_time ? (run.end_time ?? Date.now() / 1000) - run.start_time : null;
  return facts([
    ["run_flow", run.flow_name],
    ["run_tag", run.tag],
    ["run_labels", labels(run)],
    ["run_tenant", run.tenant_id],
    ["run_submitted", dateTime(run.submitted_at)],
    ["run_started", run.start_time ? dateTime(run.start_time) : null],
    ["run_ended", run.end_time ? dateTime(run.end_time) : null],
    ["run_duration", ran === null ? null : duration(ran)],
    ["run_worker", run.worker_id ? `${run.worker_id} #${run.attempt}` : null],
    ["run_timeout", run.timeout_sec ? duration(run.timeout_sec) : null],
    ["run_rerun_of", run.rerun_of ? runLink(run.rerun_of) : null],
    ["run_workflow", run.workflow_yaml_sha256 ? el("span", { class: "mono", title: run.workflow_yaml_sha256 }, run.workflow_yaml_sha256.slice(0, 12)) : null],
    ["run_updated", ago(run.updated_at)],
  ]);
}

function notes(run) {
  const items = [];
  if (run.waiting) {
    items.push(el("div", { class: "note note-waiting" }, el("strong", {}, t("run_waiting")), " ", term("waiting", run.waiting.reason), el("p", {}, run.waiting.detail)));
  }
  if (run.stopping) {
    const deadline = run.stopping.deadline_at ? t("run_stopping_deadline", { at: clockSeconds(run.stopping.deadline_at) }) : "";
    items.push(el("div", { class: "note note-stopping" }, el("strong", {}, t("run_stopping")), " ", term("stopping", run.stopping.reason), " ", t("run_since", { at: clockSeconds(run.stopping.since) }), " ", deadline));
  }
  if (run.cancel_requested_at) {
    items.push(el("div", { class: "note" }, t("run_cancel_requested", { at: dateTime(run.cancel_requested_at), by: run.cancel_requested_by || "–" }), run.cancel_reason ? el("p", {}, run.cancel_reason) : null));
  }
  if (run.error || run.error_reason) {
    items.push(el("div", { class: "note note-error" }, el("strong", {}, t("run_error")), " ", run.error_reason ? term("reason", run.error_reason) : "", run.error ? longText(run.error, "error-text") : null));
  }
  return items;
}

function events(run) {
  const list = [[run.submitted_at, t("event_submitted")]];
  for (const attempt of run.attempts || []) {
    list.push([attempt.started_at, t("event_attempt_started", { attempt: attempt.attempt, worker: attempt.worker_id })]);
    if (attempt.ended_at) list.push([attempt.ended_at, t("event_attempt_ended", { attempt: attempt.attempt, status: term("attempt", attempt.status) })]);
  }
  if (run.cancel_requested_at) list.push([run.cancel_requested_at, t("event_cancel_requested")]);
  if (run.end_time) list.push([run.end_time, t("event_ended", { status: term("status", run.status) })]);
  list.sort((a, b) => a[0] - b[0]);
  return el("ol", { class: "events" }, list.map(([ts, text]) => el("li", {}, el("time", {}, clockSeconds(ts)), " ", text)));
}

function tasks(run) {
  const records = run.task_records || {};
  const started = (name) => records[name]?.started_at ?? Infinity;
  const names = Object.keys(run.tasks || {}).sort((a, b) => started(a) - started(b) || a.localeCompare(b));
  const rows = names.map((name) => {
    const record = records[name] || {};
    const details = [];
    if (record.output !== undefined && record.output !== null) details.push(el("h4", {}, t("task_output")), longText(pretty(record.output)));
    if (record.inputs && Object.keys(record.inputs).length) details.push(el("h4", {}, t("task_inputs")), longText(pretty(record.inputs)));
    if (record.error) details.push(el("h4", {}, t("task_error")), longText(record.error, "error-text"));
    if (record.traceback) details.push(el("details", {}, el("summary", {}, t("task_traceback")), el("pre", { class: "long" }, record.traceback)));
    return el(
      "tr",
      { dataset: { task: name } },
      el("td", {}, name),
      el("td", {}, badge(run.tasks[name], "task")),
      el("td", {}, record.started_at ? clockSeconds(record.started_at) : "–"),
      el("td", {}, record.duration_ms !== undefined && record.duration_ms !== null ? duration(record.duration_ms / 1000) : "–"),
      el("td", { class: "task-details" }, details.length ? el("details", {}, el("summary", {}, t("task_show")), details) : "–"),
    );
  });
  return table(["col_task", "col_state", "col_started", "col_duration", "col_details"], rows.length ? rows : emptyRow(5, "tasks_none"));
}

function attempts(run) {
  const rows = (run.attempts || []).map((a) =>
    el(
      "tr",
      {},
      el("td", {}, String(a.attempt)),
      el("td", {}, a.worker_id),
      el("td", {}, dateTime(a.started_at)),
      el("td", {}, a.ended_at ? dateTime(a.ended_at) : "–"),
      el("td", {}, badge(a.status, "attempt")),
      el("td", {}, a.error_reason ? term("reason", a.error_reason) : "–", a.error ? longText(a.error, "error-text") : null),
    ),
  );
  return table(["col_attempt", "col_worker", "col_started", "col_ended", "col_status", "col_reason"], rows.length ? rows : emptyRow(6, "attempts_none"));
}

function code(run) {
  const rows = (run.code || []).map((c) =>
    el("tr", {}, el("td", {}, c.distribution), el("td", {}, c.version), el("td", {}, c.wheel), el("td", { class: "mono", title: c.sha256 }, c.sha256.slice(0, 12))),
  );
  return table(["col_distribution", "col_version", "col_wheel", "col_sha256"], rows.length ? rows : emptyRow(4, "code_none"));
}

export function mount(root, ctx, route) {
  const runId = route.parts[1];
  const live = liveBadge();
  const status = el("span");
  const parts = {
    summary: el("div"),
    notes: el("div", { class: "notes" }),
    graph: el("div", { class: "graph-wrap" }),
    timeline: el("div", { class: "timeline-wrap" }),
    tasks: el("div"),
    params: el("div"),
    attempts: el("div"),
    code: el("div"),
    logs: el("div", { class: "logs" }),
  };
  const logSection = section("logs_title", parts.logs);
  logSection.hidden = true;
  let run = null;
  let graph = null;
  let stream = null;
  let logAfter = 0;
  let logsOff = false;
  let logTimer = null;
  const cancel = confirmButton("run_cancel", "run_cancel_confirm", async () => {
    try {
      const changed = await ctx.api.post(`/runs/${encodeURIComponent(runId)}/cancel`, {});
      show({ ...changed, task_records: run.task_records });
      ctx.notify(t("run_cancel_sent"));
    } catch (error) {
      ctx.notify(problemText(error), "error");
    }
  }, { class: "danger", id: "cancel-run" }, () => run !== null && CANCELLABLE.has(run.status));
  cancel.disabled = true;

  function show(snapshot) {
    run = snapshot;
    fill(status, badge(run.status));
    cancel.disabled = !CANCELLABLE.has(run.status);
    fill(parts.summary, summary(run));
    fill(parts.notes, notes(run));
    fill(parts.timeline, drawTimeline(run), events(run));
    fill(parts.tasks, tasks(run));
    fill(parts.params, Object.keys(run.params || {}).length ? longText(pretty(run.params)) : el("p", { class: "empty" }, t("params_none")));
    fill(parts.attempts, attempts(run));
    fill(parts.code, code(run));
    if (graph) {
      const missing = Object.keys(run.tasks || {}).some((name) => !graph.names.has(name));
      if (missing) loadGraph();
      else graph.update(run.tasks || {});
    }
    scheduleLogs();
  }

  async function loadGraph() {
    try {
      const data = await ctx.api.get(`/runs/${encodeURIComponent(runId)}/graph`);
      const states = { ...Object.fromEntries(data.nodes.map((n) => [n.name, n.state])), ...(run?.tasks || {}) };
      const nodes = data.nodes.map((n) => ({ ...n, state: states[n.name] }));
      graph = drawGraph({ ...data, nodes }, t("graph_label"));
      fill(parts.graph, graph.node, data.complete ? null : el("p", { class: "hint" }, t("graph_incomplete")), legend());
    } catch (error) {
      fill(parts.graph, errorBox(error));
    }
  }

  function scheduleLogs() {
    if (logsOff || logTimer) return;
    logTimer = setTimeout(() => {
      logTimer = null;
      loadLogs();
    }, logAfter === 0 ? 0 : 1000);
  }

  async function loadLogs() {
    try {
      const page = await ctx.api.get(`/runs/${encodeURIComponent(runId)}/logs`, { after: logAfter, limit: LOG_PAGE });
      logSection.hidden = false;
      if (logAfter === 0 && !page.items.length) fill(parts.logs, el("p", { class: "empty" }, t("logs_none")));
      else if (logAfter === 0) fill(parts.logs);
      for (const record of page.items) {
        parts.logs.append(
          el("div", { class: ["log-line", `log-${record.stream}`] },
            el("time", {}, clockSeconds(record.ts)), " ",
            el("span", { class: "log-task" }, record.task || "–"), " ",
            el("span", { class: "log-message" }, record.message)),
        );
      }
      if (page.next_after) logAfter = page.next_after;
      if (page.truncated) parts.logs.append(el("p", { class: "hint" }, t("logs_truncated")));
    } catch (error) {
      if (error.status !== 401 && error.status !== 403 && error.status !== 503) logsOff = true; // not served here
    }
  }

  function follow() {
    stream = new Follow(ctx.api, ctx.api.url(`/runs/${encodeURIComponent(runId)}/watch`, { include: "records", timeout_sec: 3600 }), {
      onEvent({ event, data }) {
        if (event !== "snapshot") return;
        show(data.snapshot);
        if (TERMINAL.has(data.snapshot.status)) {
          stream.close();
          live.set("ended");
        }
      },
      onState: (name) => live.set(name),
      onError: (error) => fill(parts.notes, errorBox(error)),
    });
  }

  fill(
    root,
    el("p", { class: "crumbs" }, el("a", { href: "#/runs" }, t("back_to_runs"))),
    el("div", { class: "view-head" }, el("h1", {}, t("run_title"), " ", el("span", { class: "mono run-id" }, runId)), status, live.node, el("div", { class: "actions" }, cancel)),
    parts.notes,
    section("run_summary", parts.summary),
    section("graph_title", parts.graph),
    section("timeline_title", parts.timeline),
    section("tasks_title", parts.tasks),
    section("params_title", parts.params),
    section("attempts_title", parts.attempts),
    section("code_title", parts.code),
    logSection,
  );

  (async () => {
    try {
      show(await ctx.api.get(`/runs/${encodeURIComponent(runId)}`, { include: "records" }));
    } catch (error) {
      fill(parts.notes, errorBox(error));
      return;
    }
    await loadGraph();
    if (TERMINAL.has(run.status)) live.set("ended");
    else follow();
  })();
  const ticker = setInterval(() => {
    if (run && !TERMINAL.has(run.status)) fill(parts.timeline, drawTimeline(run), events(run));
  }, 1000);
  return {
    unmount() {
      stream?.close();
      clearInterval(ticker);
      clearTimeout(logTimer);
    },
  };
}

function legend() {
  return el("ul", { class: "legend" }, ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"].map((state) => el("li", {}, el("span", { class: `swatch node-${state.toLowerCase()}` }), term("task", state))));
}

