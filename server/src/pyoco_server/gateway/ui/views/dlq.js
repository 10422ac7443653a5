// Dead letters (admin): what could not be run and why, paged with the API's cursor, and
// redrive (queue the run again) for those that keep their job.

import { el, fill } from "../dom.js";
import { dateTime } from "../format.js";
import { t, term } from "../i18n.js";
import { confirmButton, emptyRow, errorBox, heading, longText, problemText, runLink, table } from "./common.js";

const REASONS = ["invalid_job", "flow_not_found", "callable_not_allowed", "code_unavailable", "execution_error", "max_deliveries_exceeded", "timeout"];
const COLUMNS = ["col_time", "col_reason", "col_tag", "col_run", "col_flow", "col_worker", "col_deliveries", "col_error", "col_actions"];
const PAGE_SIZE = 50;

export function mount(root, ctx, route) {
  const filters = { reason: route.query.get("reason") || "", tag: route.query.get("tag") || "" };
  const state = { cursors: [], cursor: null, next: null };
  const body = el("tbody");
  const problem = el("div");
  const view = table(COLUMNS, [], { class: "dlq" });
  view.querySelector("table").replaceChild(body, view.querySelector("tbody"));
  const previous = el("button", { type: "button", class: "ghost", on: { click: () => state.cursors.length && load(state.cursors.pop()) } }, t("page_previous"));
  const next = el("button", { type: "button", class: "ghost", on: { click: () => { if (state.next) { state.cursors.push(state.cursor); load(state.next); } } } }, t("page_next"));

  function row(letter) {
    const redrive = letter.redrivable
      ? confirmButton("dlq_redrive", "dlq_redrive_confirm", async () => {
          try {
            const accepted = await ctx.api.post(`/dlq/${encodeURIComponent(letter.id)}/redrive`);
            ctx.notify(t("dlq_redriven", { run: accepted.run_id }));
            body.querySelector(`tr[data-letter="${CSS.escape(letter.id)}"]`)?.remove();
          } catch (error) {
            ctx.notify(problemText(error), "error");
          }
        }, { class: "ghost" })
      : el("span", { class: "muted" }, t("dlq_not_redrivable"));
    return el(
      "tr",
      { dataset: { letter: letter.id } },
      el("td", {}, dateTime(letter.timestamp)),
      el("td", {}, term("reason", letter.reason)),
      el("td", {}, letter.tag),
      el("td", {}, letter.run_id ? runLink(letter.run_id, letter.run_id.slice(0, 8)) : "–"),
      el("td", {}, letter.flow_name ?? "–"),
      el("td", {}, letter.worker_id ?? "–"),
      el("td", {}, letter.num_delivered ?? "–"),
      el("td", { class: "col-error" }, longText(letter.error, "error-text"), letter.payload ? longText(letter.payload) : null),
      el("td", {}, redrive),
    );
  }

  async function load(cursor) {
    try {
      const page = await ctx.api.get("/dlq", { reason: filters.reason, tag: filters.tag, limit: PAGE_SIZE, cursor });
      state.cursor = cursor;
      state.next = page.next_cursor;
      fill(body, page.items.length ? page.items.map(row) : emptyRow(COLUMNS.length, "dlq_none"));
      previous.disabled = state.cursors.length === 0;
      next.disabled = !state.next;
      fill(problem);
    } catch (error) {
      fill(problem, errorBox(error));
    }
  }

  const reason = el("select", { id: "dlq-reason", name: "reason" }, el("option", { value: "" }, t("any")), REASONS.map((value) => el("option", { value, selected: filters.reason === value }, term("reason", value))));
  const tag = el("input", { id: "dlq-tag", name: "tag", value: filters.tag, autocomplete: "off" });
  const form = el(
    "form",
    { class: "filters", role: "search" },
    el("div", { class: "field" }, el("label", { for: "dlq-reason" }, t("filter_reason")), reason),
    el("div", { class: "field" }, el("label", { for: "dlq-tag" }, t("filter_tag")), tag),
    el("div", { class: "field buttons" }, el("button", { type: "submit" }, t("filter_apply"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (reason.value) query.set("reason", reason.value);
    if (tag.value.trim()) query.set("tag", tag.value.trim());
    ctx.navigate(query.toString() ? `#/dlq?${query}` : "#/dlq");
  });
  fill(root, heading("dlq_title"), form, problem, view, el("div", { class: "pager" }, previous, next));
  load(null);
  return {};
}
