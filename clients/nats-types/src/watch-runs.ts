/**
 * Example: follow pyoco-server's runs straight from NATS, without the HTTP gateway.
 *
 * The `pyoco_runs` key-value bucket (PYOCO_RUNS_KV_BUCKET) holds one key per run id whose value is
 * the run's latest snapshot (asyncapi.yaml, channel `runSnapshots`). Watching the bucket yields
 * every write; each value is decoded into the generated `RunSnapshot` type.
 *
 *     PYOCO_NATS_URL=nats://127.0.0.1:4222 node dist/src/watch-runs.js [run_id]
 */
import { pathToFileURL } from 'node:url';

import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';

import type { RunSnapshot, RunStatus } from './messages.js';

export const DEFAULT_BUCKET = 'pyoco_runs';
export const TERMINAL: ReadonlySet<RunStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const STATUSES: ReadonlySet<string> = new Set([...TERMINAL, 'PENDING', 'RUNNING', 'CANCELLING']);

/** One write of a run's snapshot: the key (run id), its KV revision and the decoded value. */
export interface SnapshotUpdate {
  runId: string;
  revision: number;
  snapshot: RunSnapshot;
}

/** JSON bytes of a `pyoco_runs` value as a RunSnapshot; throws when they are not one. */
export function decodeSnapshot(bytes: Uint8Array): RunSnapshot {
  const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  if (!isRunSnapshot(value)) {
    throw new TypeError(`not a RunSnapshot: ${JSON.stringify(value).slice(0, 200)}`);
  }
  return value;
}

// The required fields' shapes; the server validates every write against asyncapi.yaml, so
// this only guards against reading a bucket that is not pyoco's.
function isRunSnapshot(value: unknown): value is RunSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    ['run_id', 'flow_name', 'tag'].every((key) => typeof record[key] === 'string') &&
    typeof record['status'] === 'string' &&
    STATUSES.has(record['status']) &&
    Array.isArray(record['tags']) &&
    typeof record['params'] === 'object' &&
    typeof record['tasks'] === 'object' &&
    typeof record['updated_at'] === 'number'
  );
}

/**
 * Every snapshot write of the bucket (or of one run, with `runId`), oldest kept revision first
 * (`AllHistory`), then live writes. Deleted and purged keys are skipped. Stop by breaking the loop.
 */
export async function* watchRuns(kv: KV, runId?: string): AsyncGenerator<SnapshotUpdate> {
  const watch = await kv.watch({
    key: runId ?? '>',
    include: KvWatchInclude.AllHistory,
    ignoreDeletes: true,
  });
  try {
    for await (const entry of watch) {
      if (entry.operation !== 'PUT') continue;
      yield { runId: entry.key, revision: entry.revision, snapshot: decodeSnapshot(entry.value) };
    }
  } finally {
    watch.stop();
  }
}

/** Open the runs bucket of the NATS server at `url`. */
export async function openRuns(url: string, bucket = DEFAULT_BUCKET) {
  const connection = await connect({ servers: url, name: 'pyoco-nats-types-example' });
  const kv = await new Kvm(connection).open(bucket);
  return { connection, kv };
}

async function main(): Promise<void> {
  const url = process.env['PYOCO_NATS_URL'] ?? 'nats://127.0.0.1:4222';
  const { connection, kv } = await openRuns(url, process.env['PYOCO_RUNS_KV_BUCKET']);
  const onlyRun = process.argv[2];
  try {
    for await (const { runId, revision, snapshot } of watchRuns(kv, onlyRun)) {
      console.log(`${runId} r${revision} ${snapshot.status} (${snapshot.flow_name}@${snapshot.tag})`);
      if (onlyRun !== undefined && TERMINAL.has(snapshot.status)) break;
    }
  } finally {
    await connection.drain();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
