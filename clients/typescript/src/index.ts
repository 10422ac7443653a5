export { createPyocoClient, PyocoClient } from "./client.js";
export type { PyocoClientOptions, RunFilters, YamlSubmit } from "./client.js";
export { PyocoProblem } from "./problem.js";
export { parseServerSentEvents } from "./sse.js";
export type { ServerSentEvent } from "./sse.js";
export { isTerminal, TERMINAL_STATUSES, watchRunEvents, watchRunSnapshots } from "./watch.js";
export type {
  WatchEvent,
  WatchHeartbeatEvent,
  WatchOptions,
  WatchSnapshotEvent,
  WatchTransport,
} from "./watch.js";
// the generated SDK functions and types (payloads such as RunSnapshot, RunSummary, Problem)
export * from "./generated/index.js";
export { createClient, createConfig } from "./generated/client/index.js";
export type { Client, Config } from "./generated/client/index.js";
