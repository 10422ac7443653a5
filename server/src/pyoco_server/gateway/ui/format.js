// Numbers, times and durations in the page's language (Intl does the wording). Formatters
// are made once per language and kept: making one costs far more than using it.

import { language } from "./i18n.js";

const made = new Map();

function formatter(kind, options) {
  const key = `${language()}|${kind}|${JSON.stringify(options)}`;
  let found = made.get(key);
  if (!found) {
    found = new Intl[kind](language(), options);
    made.set(key, found);
  }
  return found;
}

export function dateTime(ts) {
  if (ts === null || ts === undefined) return "–";
  return formatter("DateTimeFormat", { dateStyle: "short", timeStyle: "medium" }).format(new Date(ts * 1000));
}

export function clock(ts) {
  return formatter("DateTimeFormat", { hour: "2-digit", minute: "2-digit" }).format(new Date(ts * 1000));
}

export function clockSeconds(ts) {
  return formatter("DateTimeFormat", { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(ts * 1000));
}

export function ago(ts, now = Date.now() / 1000) {
  if (ts === null || ts === undefined) return "–";
  const seconds = Math.round(ts - now);
  const relative = formatter("RelativeTimeFormat", { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

function unit(value, name, digits = 0) {
  return formatter("NumberFormat", { style: "unit", unit: name, unitDisplay: "narrow", maximumFractionDigits: digits }).format(value);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 1) return unit(seconds * 1000, "millisecond", seconds < 0.01 ? 1 : 0);
  if (seconds < 60) return unit(seconds, "second", 1);
  if (seconds < 3600) return `${unit(Math.floor(seconds / 60), "minute")} ${unit(Math.round(seconds % 60), "second")}`;
  return `${unit(Math.floor(seconds / 3600), "hour")} ${unit(Math.round((seconds % 3600) / 60), "minute")}`;
}

export function bytes(size) {
  if (size === null || size === undefined) return "–";
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let value = size;
  let step = 0;
  while (value >= 1024 && step < units.length - 1) {
    value /= 1024;
    step += 1;
  }
  return formatter("NumberFormat", { style: "unit", unit: units[step], unitDisplay: "short", maximumFractionDigits: 1 }).format(value);
}

export function count(value) {
  return formatter("NumberFormat", {}).format(value ?? 0);
}

export function shortId(id) {
  return id && id.length > 12 ? id.slice(0, 8) : id;
}
