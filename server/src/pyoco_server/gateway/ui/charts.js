// Small SVG charts for the metrics view: stacked bars and lines over a time axis.

import { svg } from "./dom.js";
import { clock } from "./format.js";

const W = 720;
const H = 200;
const LEFT = 48;
const BOTTOM = 22;
const TOP = 8;

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value);
}

function frame(points, max, unit, label) {
  const plotW = W - LEFT - 8;
  const plotH = H - BOTTOM - TOP;
  const x = (i) => LEFT + (i / Math.max(points.length, 1)) * plotW;
  const y = (value) => TOP + plotH - (value / max) * plotH;
  const ticks = [0, max / 2, max].map((value) => [
    svg("line", { x1: LEFT, x2: W - 8, y1: y(value), y2: y(value), class: "grid" }),
    svg("text", { x: LEFT - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" }, unit(value)),
  ]);
  const times = [];
  for (let i = 0; i < points.length; i += 60) {
    times.push(svg("text", { x: x(i), y: H - 6, class: "axis", "text-anchor": "start" }, clock(points[i].ts)));
  }
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label }, ticks, times);
  return { root, x, y, barW: Math.max(1, plotW / Math.max(points.length, 1) - 0.5) };
}

/** Stacked bars of `series` ([{key, className}]) per point. */
export function stackedBars(points, series, label, unit) {
  const max = niceMax(Math.max(0, ...points.map((p) => series.reduce((sum, s) => sum + (p[s.key] || 0), 0))));
  const { root, x, y, barW } = frame(points, max, unit, label);
  points.forEach((point, i) => {
    let base = 0;
    for (const s of series) {
      const value = point[s.key] || 0;
      if (!value) continue;
      root.append(svg("rect", { x: x(i), y: y(base + value), width: barW, height: y(base) - y(base + value), class: s.className }));
      base += value;
    }
  });
  return root;
}

/** Lines of `series` ([{key, className}]) per point (null values break the line). */
export function lines(points, series, label, unit) {
  const max = niceMax(Math.max(0, ...points.flatMap((p) => series.map((s) => p[s.key] || 0))));
  const { root, x, y, barW } = frame(points, max, unit, label);
  for (const s of series) {
    let d = "";
    let pen = false;
    points.forEach((point, i) => {
      const value = point[s.key];
      if (value === null || value === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"} ${(x(i) + barW / 2).toFixed(1)} ${y(value).toFixed(1)} `;
      pen = true;
    });
    if (d) root.append(svg("path", { d, class: `line ${s.className}` }));
  }
  return root;
}
