// The metrics view's two charts, with their legends.

import { lines, stackedBars } from "../charts.js";
import { el } from "../dom.js";
import { count, duration } from "../format.js";
import { t } from "../i18n.js";

function legend(series) {
  return el("ul", { class: "legend" }, series.map((s) => el("li", {}, el("span", { class: `swatch ${s.className}` }), t(s.label))));
}

export function charts(points) {
  const ended = [
    { key: "completed", className: "fill-completed", label: "metrics_completed" },
    { key: "failed", className: "fill-failed", label: "metrics_failed" },
    { key: "cancelled", className: "fill-cancelled", label: "metrics_cancelled" },
  ];
  const submitted = [{ key: "submitted", className: "stroke-submitted", label: "metrics_submitted" }];
  const latency = [
    { key: "latency_p50_ms", className: "stroke-p50", label: "metrics_p50_line" },
    { key: "latency_p95_ms", className: "stroke-p95", label: "metrics_p95_line" },
  ];
  return el(
    "div",
    { class: "charts" },
    el("figure", {}, el("figcaption", {}, t("metrics_throughput")), stackedBars(points, ended, t("metrics_throughput"), (v) => count(v)), legend(ended)),
    el("figure", {}, el("figcaption", {}, t("metrics_submits")), lines(points, submitted, t("metrics_submits"), (v) => count(v)), legend(submitted)),
    el("figure", {}, el("figcaption", {}, t("metrics_latency")), lines(points, latency, t("metrics_latency"), (v) => duration(v / 1000)), legend(latency)),
  );
}
