/**
 * Against a live pyoco-server (tests/contract/test_nats_types.py starts one): watch one run's
 * snapshots in the runs bucket and decode each into the generated type, through to COMPLETED.
 *
 *     PYOCO_NATS_URL=... PYOCO_RUN_ID=... node --test dist/test/
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { RunStatus } from '../src/messages.js';
import { DEFAULT_BUCKET, openRuns, TERMINAL, watchRuns } from '../src/watch-runs.js';

const url = process.env['PYOCO_NATS_URL'];
const runId = process.env['PYOCO_RUN_ID'];
const TIMEOUT_MS = 60_000;

test('a run is decoded from the runs bucket through to COMPLETED', {
  skip: url === undefined || runId === undefined ? 'PYOCO_NATS_URL and PYOCO_RUN_ID not set' : false,
  timeout: TIMEOUT_MS,
}, async (t) => {
  const bucket = process.env['PYOCO_RUNS_KV_BUCKET'] ?? DEFAULT_BUCKET;
  const { connection, kv } = await openRuns(url!, bucket);
  const statuses: RunStatus[] = [];
  try {
    for await (const { runId: key, snapshot } of watchRuns(kv, runId)) {
      assert.equal(key, runId);
      assert.equal(snapshot.run_id, runId);
      statuses.push(snapshot.status);
      if (TERMINAL.has(snapshot.status)) break;
    }
  } finally {
    await connection.drain();
  }
  t.diagnostic(`statuses: ${statuses.join(' -> ')}`);
  assert.equal(statuses[0], 'PENDING');
  assert.equal(statuses.at(-1), 'COMPLETED');
});
