/**
 * `PyocoClient`: the generated client configured with a base URL and an API key, its error
 * answers thrown as `PyocoProblem`, plus what the generator cannot do: follow a run over
 * server-sent events and page through the run list.
 */
import { type Client, createClient, createConfig } from "./generated/client/index.js";
import * as sdk from "./generated/sdk.gen.js";
import type {
  CancelRequest,
  Health,
  ListRunsData,
  RunAccepted,
  RunPage,
  RunSnapshot,
  RunSubmitRequest,
  RunSummary,
  RunTasks,
  RunYamlSubmitRequest,
} from "./generated/types.gen.js";
import { PyocoProblem } from "./problem.js";
import {
  type WatchEvent,
  type WatchOptions,
  type WatchTransport,
  watchRunSnapshots,
  watchRunEvents,
} from "./watch.js";

export interface PyocoClientOptions {
  /** URL of the gateway, such as `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** API key sent with every request (gateways with `PYOCO_HTTP_AUTH_MODE=api_key`). */
  apiKey?: string;
  /** Name of the header that carries the key (the gateway's PYOCO_HTTP_API_KEY_HEADER). */
  apiKeyHeader?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Filters of the run list (`GET /runs`), without the cursor. */
export type RunFilters = Omit<NonNullable<ListRunsData["query"]>, "cursor">;

/** A flow.yaml submit: the file's text or bytes, and the form's other fields. */
export type YamlSubmit = Omit<RunYamlSubmitRequest, "workflow"> & {
  workflow: string | Uint8Array<ArrayBuffer> | Blob;
  /** File name sent with the upload (default `flow.yaml`). */
  fileName?: string;
  /** A key of your choosing: a repeated submit with it returns the first run. */
  idempotencyKey?: string;
};

export class PyocoClient {
  /**
   * The generated client, configured: pass it to the generated SDK functions
   * (`listWorkers({ client: pyoco.client })`) for the operations without a method here.
   * Its error answers come as `PyocoProblem`.
   */
  readonly client: Client;
  readonly baseUrl: string;
  private readonly headers: Headers;
  private readonly fetchFn: typeof fetch;

  constructor(options: PyocoClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = new Headers(options.headers);
    if (options.apiKey !== undefined) {
      this.headers.set(options.apiKeyHeader ?? "X-API-Key", options.apiKey);
    }
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.client = createClient(
      createConfig({ baseUrl: this.baseUrl, headers: Object.fromEntries(this.headers), fetch: this.fetchFn }),
    );
    this.client.interceptors.error.use((error, response) =>
      response instanceof Response && !response.ok ? PyocoProblem.fromResponse(response, error) : error,
    );
  }

  /** `GET /health`. */
  async health(): Promise<Health> {
    return (await sdk.getHealth({ client: this.client, throwOnError: true })).data;
  }

  /** Submit a run of a flow the workers know by name (`POST /runs`). */
  async submit(request: RunSubmitRequest, idempotencyKey?: string): Promise<RunAccepted> {
    const headers = idempotencyKey === undefined ? undefined : { "Idempotency-Key": idempotencyKey };
    const result = await sdk.submitRun({ client: this.client, throwOnError: true, body: request, headers });
    return result.data;
  }

  /** Upload a flow.yaml and submit a run of it (`POST /runs/yaml`, multipart). */
  async submitYaml(submit: YamlSubmit): Promise<RunAccepted> {
    const { workflow, fileName, idempotencyKey, ...fields } = submit;
    const blob = workflow instanceof Blob ? workflow : new Blob([workflow], { type: "application/yaml" });
    const headers = idempotencyKey === undefined ? undefined : { "Idempotency-Key": idempotencyKey };
    const result = await sdk.submitRunYaml({
      client: this.client,
      throwOnError: true,
      body: { ...fields, workflow: new File([blob], fileName ?? "flow.yaml", { type: blob.type }) },
      headers,
    });
    return result.data;
  }

  /** A run's latest snapshot (`GET /runs/{run_id}`), with its task records if asked. */
  async getRun(runId: string, options: { records?: boolean } = {}): Promise<RunSnapshot> {
    const query = options.records ? { include: ["records" as const] } : undefined;
    const result = await sdk.getRun({ client: this.client, throwOnError: true, path: { run_id: runId }, query });
    return result.data;
  }

  /** A run's per-task states and records (`GET /runs/{run_id}/tasks`). */
  async getRunTasks(runId: string): Promise<RunTasks> {
    const result = await sdk.getRunTasks({ client: this.client, throwOnError: true, path: { run_id: runId } });
    return result.data;
  }

  /** Ask for a run to be cancelled (`POST /runs/{run_id}/cancel`); its snapshot after. */
  async cancelRun(runId: string, reason?: string): Promise<RunSnapshot> {
    const body: CancelRequest = reason === undefined ? {} : { reason };
    const result = await sdk.cancelRun({ client: this.client, throwOnError: true, path: { run_id: runId }, body });
    return result.data;
  }

  /** One page of the run list (`GET /runs`), newest first. */
  async listRuns(query: NonNullable<ListRunsData["query"]> = {}): Promise<RunPage> {
    return (await sdk.listRuns({ client: this.client, throwOnError: true, query })).data;
  }

  /**
   * Every run the filters match, newest first, fetched page by page (`limit` runs a page)
   * following `next_cursor`; stop iterating to stop fetching.
   */
  async *iterRuns(filters: RunFilters = {}): AsyncGenerator<RunSummary, void, undefined> {
    let cursor: string | undefined = undefined;
    do {
      const page: RunPage = await this.listRuns(cursor === undefined ? filters : { ...filters, cursor });
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * The snapshots of a run as it changes (`GET /runs/{run_id}/watch`): the current one first,
   * then each change, up to and including the terminal one (COMPLETED, FAILED, CANCELLED).
   * A stream that ends before is resumed with `Last-Event-ID`, so no change is lost.
   */
  watch(runId: string, options: WatchOptions = {}): AsyncGenerator<RunSnapshot, void, undefined> {
    return watchRunSnapshots(this.transport(), runId, options);
  }

  /** As `watch`, with the heartbeats and each snapshot's revision and time. */
  watchEvents(runId: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    return watchRunEvents(this.transport(), runId, options);
  }

  /** Follow a run until it ends; its terminal snapshot. */
  async waitForRun(runId: string, options: WatchOptions = {}): Promise<RunSnapshot> {
    let last: RunSnapshot | undefined = undefined;
    for await (const snapshot of this.watch(runId, options)) {
      last = snapshot;
    }
    if (last === undefined) {
      throw new Error(`the watch of run ${runId} ended without a snapshot`);
    }
    return last;
  }

  private transport(): WatchTransport {
    return { baseUrl: this.baseUrl, headers: this.headers, fetch: this.fetchFn };
  }
}

/** A client of the gateway at `options.baseUrl`. */
export function createPyocoClient(options: PyocoClientOptions): PyocoClient {
  return new PyocoClient(options);
}
