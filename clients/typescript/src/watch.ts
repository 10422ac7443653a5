/**
 * Following a run over server-sent events (`GET /runs/{run_id}/watch`), resumed after every
 * disconnect with `Last-Event-ID` until the run reaches a terminal status.
 */
import type { RunSnapshot, RunStatus, WatchHeartbeat, WatchSnapshot } from "./generated/types.gen.js";
import { PyocoProblem } from "./problem.js";
import { parseServerSentEvents } from "./sse.js";

/** Statuses after which a run never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
]);

/** Whether a run in `status` has ended. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** A `snapshot` event: its data (a WatchSnapshot), and its id, the snapshot's revision. */
export interface WatchSnapshotEvent extends WatchSnapshot {
  type: "snapshot";
  /** The snapshot's revision, the event's id (what a resumed stream starts after). */
  revision: string;
}

/** A `heartbeat` event (its data, a WatchHeartbeat): the run did not change for a while. */
export interface WatchHeartbeatEvent extends WatchHeartbeat {
  type: "heartbeat";
}

export type WatchEvent = WatchSnapshotEvent | WatchHeartbeatEvent;

export interface WatchOptions {
  /** Include the per-task records (and so the tasks' outputs) in the snapshots. */
  records?: boolean;
  /** How long each stream may stay open on the server (1-3600 s; the server's default: 60). */
  streamTimeoutSec?: number;
  /** Resume after this event id (a `revision` an earlier watch gave). */
  lastEventId?: string;
  /**
   * Reconnect when no byte came for this long (the server sends a heartbeat every 15 s of
   * silence). Default 45 000 ms.
   */
  idleTimeoutMs?: number;
  /** Reconnections in a row that get no event before giving up (default 5). */
  maxReconnects?: number;
  /** Wait before reconnecting after a failure, in milliseconds (default 500, doubled each time). */
  reconnectDelayMs?: number;
  /** Stops the watch (the iterator then throws the signal's reason). */
  signal?: AbortSignal;
}

/** What a watch needs from the client: where the gateway is, the headers, and fetch. */
export interface WatchTransport {
  baseUrl: string;
  headers: Headers;
  fetch: typeof fetch;
}

/** Statuses worth retrying a failed connection on (the gateway may be restarting). */
const RETRIED_STATUSES = new Set([429, 502, 503, 504]);

/**
 * The events of a run's watch, snapshots and heartbeats, across as many connections as it
 * takes: a stream that ends (its deadline, a gateway restart, a dropped connection) is resumed
 * with `Last-Event-ID`, so no change is lost. Ends after the snapshot with a terminal status.
 *
 * @throws PyocoProblem an error answer (404 `run_not_found`, 401, 403, ...), or a retried one
 *   (429, 502-504) after `maxReconnects` attempts.
 */
export async function* watchRunEvents(
  transport: WatchTransport,
  runId: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const maxReconnects = options.maxReconnects ?? 5;
  let lastEventId = options.lastEventId;
  let failures = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    let progressed = false;
    let failure: unknown = undefined;
    try {
      for await (const event of connection(transport, runId, options, lastEventId)) {
        progressed = true;
        yield event;
        if (event.type === "snapshot") {
          lastEventId = event.revision;
          if (isTerminal(event.snapshot.status)) {
            return;
          }
        }
      }
    } catch (error) {
      if (!retriable(error, options.signal)) {
        throw error;
      }
      failure = error;
    }
    if (!progressed && failure === undefined && lastEventId !== undefined) {
      // a resumed stream that ends at once: the gateway does so when the client already has
      // the terminal snapshot (or the run is gone, which the check answers with a 404)
      if (isTerminal((await currentSnapshot(transport, runId, options.signal)).status)) {
        return;
      }
    }
    failures = progressed ? 0 : failures + 1;
    if (failures > maxReconnects) {
      throw failure ?? new Error(`the watch of run ${runId} keeps ending without an event`);
    }
    if (failures > 0) {
      await sleep(delayMs(options, failures, failure), options.signal);
    }
  }
}

/** The snapshots of a run as it changes, up to and including the terminal one. */
export async function* watchRunSnapshots(
  transport: WatchTransport,
  runId: string,
  options: WatchOptions = {},
): AsyncGenerator<RunSnapshot, void, undefined> {
  for await (const event of watchRunEvents(transport, runId, options)) {
    if (event.type === "snapshot") {
      yield event.snapshot;
    }
  }
}

async function* connection(
  transport: WatchTransport,
  runId: string,
  options: WatchOptions,
  lastEventId: string | undefined,
): AsyncGenerator<WatchEvent, void, undefined> {
  const url = new URL(`${transport.baseUrl.replace(/\/+$/, "")}/runs/${encodeURIComponent(runId)}/watch`);
  if (options.records) {
    url.searchParams.set("include", "records");
  }
  if (options.streamTimeoutSec !== undefined) {
    url.searchParams.set("timeout_sec", String(options.streamTimeoutSec));
  }
  const headers = new Headers(transport.headers);
  headers.set("Accept", "text/event-stream");
  if (lastEventId !== undefined) {
    headers.set("Last-Event-ID", lastEventId);
  }
  const idle = new IdleAbort(options.idleTimeoutMs ?? 45_000, options.signal);
  try {
    const response = await transport.fetch(url, { headers, signal: idle.signal });
    if (!response.ok) {
      throw await PyocoProblem.read(response);
    }
    if (response.body === null) {
      return;
    }
    for await (const event of parseServerSentEvents(idle.watching(response.body))) {
      const decoded = decode(event.event, event.data, event.id);
      if (decoded) {
        yield decoded;
      }
    }
  } finally {
    idle.stop(); // also cancels the body when the caller stops early
  }
}

async function currentSnapshot(
  transport: WatchTransport,
  runId: string,
  signal: AbortSignal | undefined,
): Promise<RunSnapshot> {
  const url = `${transport.baseUrl.replace(/\/+$/, "")}/runs/${encodeURIComponent(runId)}`;
  const headers = new Headers(transport.headers);
  headers.set("Accept", "application/json");
  const response = await transport.fetch(url, { headers, ...(signal ? { signal } : {}) });
  if (!response.ok) {
    throw await PyocoProblem.read(response);
  }
  return (await response.json()) as RunSnapshot;
}

function decode(type: string, data: string, id: string | undefined): WatchEvent | undefined {
  if (type === "snapshot" && id !== undefined) {
    const payload = JSON.parse(data) as WatchSnapshot;
    return { type: "snapshot", run_id: payload.run_id, snapshot: payload.snapshot, ts: payload.ts, revision: id };
  }
  if (type === "heartbeat") {
    const payload = JSON.parse(data) as WatchHeartbeat;
    return { type: "heartbeat", run_id: payload.run_id, ts: payload.ts };
  }
  return undefined; // an event type this client does not know: skipped
}

/** Aborts a connection when no byte came for `timeoutMs`, or when `outer` aborts. */
class IdleAbort {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer?.reason);

  constructor(
    private readonly timeoutMs: number,
    private readonly outer: AbortSignal | undefined,
  ) {
    outer?.addEventListener("abort", this.onOuterAbort, { once: true });
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async *watching(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          return;
        }
        this.arm();
        yield value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener("abort", this.onOuterAbort);
    if (!this.controller.signal.aborted) {
      this.controller.abort(new IdleStreamEnded());
    }
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.controller.abort(new IdleTimeout(this.timeoutMs)),
      this.timeoutMs,
    );
  }
}

class IdleTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no data on the watch stream for ${timeoutMs} ms`);
  }
}

class IdleStreamEnded extends Error {}

function retriable(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) {
    return false;
  }
  if (error instanceof PyocoProblem) {
    return RETRIED_STATUSES.has(error.status);
  }
  return !(error instanceof SyntaxError); // network errors and idle timeouts: reconnect
}

function delayMs(options: WatchOptions, failures: number, failure: unknown): number {
  if (failure instanceof PyocoProblem && failure.retryAfterSec !== undefined) {
    return failure.retryAfterSec * 1000;
  }
  return Math.min((options.reconnectDelayMs ?? 500) * 2 ** (failures - 1), 30_000);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
