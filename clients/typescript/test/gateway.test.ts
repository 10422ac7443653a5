// Tests against a live gateway: PYOCO_SERVER_URL (with a worker on tag `default`, or the tag in
// PYOCO_TAG), PYOCO_API_KEY (and PYOCO_API_KEY_HEADER) when the gateway wants keys. Optional:
// PYOCO_AUTH_REQUIRED=1 (check a request without a key is 401), PYOCO_SLEEP_CALLABLE (a task
// `module:function(seconds)` the workers may run, to cancel a running run), PYOCO_INTEROP_RUN_ID
// (a run submitted by another client, read here), PYOCO_INTEROP_OUT (a file to write the id of
// a run submitted here to). Skipped when PYOCO_SERVER_URL is unset.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { describe, test } from "node:test";

import { PyocoClient, PyocoProblem, type RunSnapshot, type RunSummary } from "../src/index.js";

const env = process.env;
const baseUrl = env.PYOCO_SERVER_URL;
const tag = env.PYOCO_TAG || "default";
const TIMEOUT_MS = 60_000;

const SEED_FLOW = `version: 1
flow:
  graph: |
    add_one >> to_text
  defaults:
    x: 1
tasks:
  add_one:
    callable: pyoco_server._workflow_test_tasks:add_one
  to_text:
    callable: pyoco_server._workflow_test_tasks:to_text
`;

function client(): PyocoClient {
  assert.ok(baseUrl);
  return new PyocoClient({
    baseUrl,
    ...(env.PYOCO_API_KEY ? { apiKey: env.PYOCO_API_KEY } : {}),
    ...(env.PYOCO_API_KEY_HEADER ? { apiKeyHeader: env.PYOCO_API_KEY_HEADER } : {}),
  });
}

/** Asserts that `call` fails with a PyocoProblem of `status` and `reason`; returns it. */
async function problemOf(call: Promise<unknown>, status: number, reason: string): Promise<PyocoProblem> {
  let caught: unknown = undefined;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PyocoProblem, `expected a PyocoProblem, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  assert.equal(caught.reason, reason, caught.message);
  assert.equal(caught.problem.status, status);
  assert.ok(caught.title);
  return caught;
}

describe("against a live gateway", { skip: baseUrl ? false : "PYOCO_SERVER_URL is not set" }, () => {
  test("health", { timeout: TIMEOUT_MS }, async () => {
    assert.deepEqual(await client().health(), { status: "ok" });
  });

  test("submits the seed flow.yaml and follows it over SSE to COMPLETED", { timeout: TIMEOUT_MS }, async () => {
    const pyoco = client();
    const accepted = await pyoco.submitYaml({ workflow: SEED_FLOW, flow_name: "main", tag, params: { x: 41 } });
    assert.equal(accepted.status, "PENDING");
    const statuses: string[] = [];
    let revision = "";
    let last: RunSnapshot | undefined = undefined;
    for await (const event of pyoco.watchEvents(accepted.run_id, { records: true })) {
      if (event.type === "snapshot") {
        assert.equal(event.run_id, accepted.run_id);
        assert.ok(Number(event.revision) > Number(revision || "0"), "revisions grow");
        revision = event.revision;
        statuses.push(event.snapshot.status);
        last = event.snapshot;
      }
    }
    assert.equal(last?.status, "COMPLETED", statuses.join(" "));
    assert.equal(last.task_records?.to_text?.output, "42");
    // a watch resumed after the terminal revision sends nothing and ends
    const after: RunSnapshot[] = [];
    for await (const snapshot of pyoco.watch(accepted.run_id, { lastEventId: revision, maxReconnects: 0 })) {
      after.push(snapshot);
    }
    assert.deepEqual(after, []);
    if (env.PYOCO_INTEROP_OUT) {
      await writeFile(env.PYOCO_INTEROP_OUT, accepted.run_id);
    }
  });

  test("lists runs page by page with next_cursor", { timeout: TIMEOUT_MS }, async () => {
    const pyoco = client();
    const label = `ts-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const accepted = await pyoco.submitYaml({ workflow: SEED_FLOW, flow_name: "main", tag, tags: label });
      ids.push(accepted.run_id);
    }
    // by hand: one run a page, following next_cursor, until the first one submitted
    let cursor: string | undefined = undefined;
    const pages: string[][] = [];
    do {
      const page = await pyoco.listRuns({ label, limit: 1, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((item) => item.run_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined && !pages.flat().includes(ids[0] ?? ""));
    assert.ok(pages.length >= 3, `found in ${pages.length} pages`);
    assert.deepEqual(pages.flat().slice(0, 3), [...ids].reverse());
    // the paging iterator over every run, two a page: it finds the first run
    let found: RunSummary | undefined = undefined;
    for await (const run of pyoco.iterRuns({ limit: 2 })) {
      if (run.run_id === ids[0]) {
        found = run;
        break;
      }
    }
    assert.equal(found?.flow_name, "main");
    assert.deepEqual(found?.tags, [label]);
    await Promise.all(ids.map((id) => pyoco.waitForRun(id)));
  });

  test("cancels a run waiting for a worker", { timeout: TIMEOUT_MS }, async () => {
    const pyoco = client();
    const unserved = `nobody-serves-${randomUUID().slice(0, 8)}`;
    const accepted = await pyoco.submitYaml({ workflow: SEED_FLOW, flow_name: "main", tag: unserved });
    const cancelled = await pyoco.cancelRun(accepted.run_id, "from the TypeScript tests");
    assert.equal(cancelled.status, "CANCELLED");
    assert.equal(cancelled.cancel_reason, "from the TypeScript tests");
    assert.equal((await pyoco.waitForRun(accepted.run_id)).status, "CANCELLED");
  });

  test("cancels a sleeping run", { timeout: TIMEOUT_MS, skip: env.PYOCO_SLEEP_CALLABLE ? false : "PYOCO_SLEEP_CALLABLE is not set" }, async () => {
    const pyoco = client();
    const flow = `version: 1\nflow:\n  graph: nap\n  defaults: {seconds: 600}\ntasks:\n  nap: {callable: "${env.PYOCO_SLEEP_CALLABLE}"}\n`;
    const accepted = await pyoco.submitYaml({ workflow: flow, flow_name: "main", tag });
    const statuses: string[] = [];
    for await (const snapshot of pyoco.watch(accepted.run_id)) {
      statuses.push(snapshot.status);
      if (snapshot.status === "RUNNING" && snapshot.tasks.nap === "RUNNING") {
        const asked = await pyoco.cancelRun(accepted.run_id);
        assert.ok(["CANCELLING", "CANCELLED"].includes(asked.status), asked.status);
      }
    }
    assert.equal(statuses.at(-1), "CANCELLED", statuses.join(" "));
    assert.ok(statuses.includes("RUNNING"));
  });

  test("an unknown run is a 404 PyocoProblem", { timeout: TIMEOUT_MS }, async () => {
    const pyoco = client();
    const missing = `no-such-run-${randomUUID()}`;
    await problemOf(pyoco.getRun(missing), 404, "run_not_found");
    await problemOf(pyoco.waitForRun(missing), 404, "run_not_found");
    await problemOf(pyoco.cancelRun(missing), 404, "run_not_found");
  });

  test("an invalid flow.yaml is a 422 PyocoProblem", { timeout: TIMEOUT_MS }, async () => {
    const pyoco = client();
    const problem = await problemOf(
      pyoco.submitYaml({ workflow: "flow: [unclosed\n", flow_name: "main", tag }),
      422,
      "invalid_yaml",
    );
    assert.ok(problem.detail);
    await problemOf(
      pyoco.submitYaml({ workflow: "version: 1\nflow:\n  graph: a >> b\ntasks:\n  a: {callable: 'pyoco_server._workflow_test_tasks:add_one'}\n", flow_name: "main", tag }),
      422,
      "undeclared_task",
    );
  });

  test("a request without the API key is a 401", { timeout: TIMEOUT_MS, skip: env.PYOCO_AUTH_REQUIRED === "1" ? false : "PYOCO_AUTH_REQUIRED is not 1" }, async () => {
    assert.ok(env.PYOCO_API_KEY, "PYOCO_AUTH_REQUIRED=1 needs PYOCO_API_KEY");
    assert.ok(baseUrl);
    const anonymous = new PyocoClient({ baseUrl });
    await problemOf(anonymous.listRuns(), 401, "api_key_required");
    await problemOf(anonymous.waitForRun("any-run"), 401, "api_key_required");
    const wrong = new PyocoClient({ baseUrl, apiKey: "pyoco_nokey.wrong", ...(env.PYOCO_API_KEY_HEADER ? { apiKeyHeader: env.PYOCO_API_KEY_HEADER } : {}) });
    const refused = await wrong.listRuns().catch((error: unknown) => error);
    assert.ok(refused instanceof PyocoProblem && [401, 403].includes(refused.status), String(refused));
    assert.ok((await client().listRuns({ limit: 1 })).items.length <= 1); // the key works
  });

  test("reads a run another client submitted", { timeout: TIMEOUT_MS, skip: env.PYOCO_INTEROP_RUN_ID ? false : "PYOCO_INTEROP_RUN_ID is not set" }, async () => {
    const pyoco = client();
    const runId = env.PYOCO_INTEROP_RUN_ID ?? "";
    const done = await pyoco.waitForRun(runId, { records: true });
    assert.equal(done.run_id, runId);
    assert.equal(done.status, "COMPLETED");
    assert.equal(done.task_records?.to_text?.output, "2");
    const read = await pyoco.getRun(runId);
    assert.equal(read.flow_name, "main");
    assert.equal(read.task_records, undefined);
  });
});
