// Metrics (admin): the last hour of this gateway process, from GET /metrics/history (10 s
// buckets): runs submitted and ended, and the submit-to-end latency. Read again every 10 s
// (one bucket) while the tab is visible.

import { charts } from "./charts-view.js";
import { el, fill } from "../dom.js";
import { count, duration } from "../format.js";
import { t } from "../i18n.js";
import { errorBox, heading, section } from "./common.js";

const REFRESH_MS = 10_000;
const RECENT = 30; // buckets: the last 5 minutes

function card(key, value, className = "") {
  return el("div", { class: ["card", className] }, el("span", { class: "card-label" }, t(key)), el("span", { class: "card-value" }, value));
}

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function summary(points) {
  const total = (key) => points.reduce((sum, p) => sum + p[key], 0);
  const recent = points.slice(-RECENT);
  const p50 = median(recent.map((p) => p.latency_p50_ms).filter((v) => v !== null));
  const p95s = recent.map((p) => p.latency_p95_ms).filter((v) => v !== null);
  const p95 = p95s.length ? Math.max(...p95s) : null;
  const ms = (value) => (value === null ? "–" : duration(value / 1000));
  return el(
    "div",
    { class: "cards" },
    card("metrics_submitted", count(total("submitted"))),
    card("metrics_completed", count(total("completed")), "card-completed"),
    card("metrics_failed", count(total("failed")), "card-failed"),
    card("metrics_cancelled", count(total("cancelled")), "card-cancelled"),
    card("metrics_p50", ms(p50)),
    card("metrics_p95", ms(p95)),
  );
}

export function mount(root, ctx) {
  const body = el("div");
  async function load() {
    try {
      const history = await ctx.api.get("/metrics/history");
      fill(body, summary(history.points), charts(history.points));
    } catch (error) {
      fill(body, errorBox(error));
    }
  }
  fill(root, heading("metrics_title"), el("p", { class: "hint" }, t("metrics_hint")), section("metrics_summary", body));
  load();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") load();
  }, REFRESH_MS);
  return { unmount: () => clearInterval(timer) };
}
