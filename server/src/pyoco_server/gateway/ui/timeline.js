// A run's timeline: when it was submitted, started and ended, and a bar per task from its
// start to its end (to now while it runs), drawn as SVG on one time axis.

import { svg } from "./dom.js";
import { clockSeconds, duration } from "./format.js";
import { t, term } from "./i18n.js";

const ROW_H = 22;
const LABEL_W = 150;
const WIDTH = 760;
const AXIS_H = 24;

function marks(from, to) {
  const span = Math.max(to - from, 1);
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  const step = steps.find((s) => span / s <= 6) ?? 86400;
  const first = Math.ceil(from / step) * step;
  const ticks = [];
  for (let at = first; at <= to; at += step) ticks.push(at);
  return ticks;
}

/** The timeline of `snapshot` (with task records) as an SVG element. */
export function drawTimeline(snapshot, now = Date.now() / 1000) {
  const records = Object.entries(snapshot.task_records || {}).filter(([, record]) => record.started_at);
  records.sort((a, b) => a[1].started_at - b[1].started_at);
  const from = snapshot.submitted_at;
  const to = Math.max(snapshot.end_time ?? now, ...records.map(([, r]) => r.ended_at ?? now), from + 1);
  const scale = (WIDTH - LABEL_W - 16) / (to - from);
  const x = (ts) => LABEL_W + (ts - from) * scale;
  const height = AXIS_H + (records.length + 1) * ROW_H + 8;
  const axis = marks(from, to).map((tick) => [
    svg("line", { x1: x(tick), x2: x(tick), y1: AXIS_H - 4, y2: height, class: "grid" }),
    svg("text", { x: x(tick), y: 12, class: "axis", "text-anchor": "middle" }, clockSeconds(tick)),
  ]);
  const runRow = AXIS_H;
  const run = [
    svg("text", { x: 0, y: runRow + 15, class: "row-label" }, t("timeline_run")),
    svg("rect", {
      x: x(snapshot.start_time ?? from),
      y: runRow + 4,
      width: Math.max(2, x(snapshot.end_time ?? now) - x(snapshot.start_time ?? from)),
      height: ROW_H - 8,
      class: `bar bar-${snapshot.status.toLowerCase()}`,
    }, svg("title", {}, `${term("status", snapshot.status)} · ${duration((snapshot.end_time ?? now) - (snapshot.start_time ?? from))}`)),
    svg("line", { x1: x(from), x2: x(from), y1: runRow, y2: runRow + ROW_H, class: "submitted" },
      svg("title", {}, t("timeline_submitted", { at: clockSeconds(from) }))),
  ];
  const bars = records.map(([name, record], i) => {
    const y = AXIS_H + (i + 1) * ROW_H;
    const end = record.ended_at ?? now;
    return svg(
      "g",
      { class: "task-row", dataset: { task: name } },
      svg("text", { x: 0, y: y + 15, class: "row-label" }, name.length > 20 ? `${name.slice(0, 19)}…` : name),
      svg(
        "rect",
        { x: x(record.started_at), y: y + 4, width: Math.max(2, x(end) - x(record.started_at)), height: ROW_H - 8, class: `bar bar-${record.state.toLowerCase()}` },
        svg("title", {}, `${name} · ${term("task", record.state)} · ${duration(end - record.started_at)}`),
      ),
    );
  });
  return svg(
    "svg",
    { class: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: "img", "aria-label": t("timeline_label") },
    axis,
    run,
    bars,
  );
}
