/* eslint-disable */
/**
 * Payloads of pyoco-server's NATS messages, generated from asyncapi.yaml by
 * scripts/generate.mjs (`uv run nox -s generate`). Do not edit.
 */

/**
 * A run id (a UUID4 string for runs created by this server).
 */
export type RunId = string;
/**
 * `invalid_job`: the message was not a valid job; `flow_not_found`: no flow for it on the
 * worker; `callable_not_allowed`: a task's callable is not allowed on the worker;
 * `code_unavailable`: a wheel the run is bound to could not be installed;
 * `execution_error`: the run failed in task code (or its process crashed);
 * `max_deliveries_exceeded`: its deliveries ran out (its workers kept dying);
 * `timeout`: the run went over its time limit.
 *
 */
export type DeadLetterReason =
  | "invalid_job"
  | "flow_not_found"
  | "callable_not_allowed"
  | "code_unavailable"
  | "execution_error"
  | "max_deliveries_exceeded"
  | "timeout";
/**
 * A routing tag; one subject token of letters, digits, `_` and `-`.
 */
export type Tag = string;
/**
 * Seconds the run may take once a worker starts it (default PYOCO_RUN_TIMEOUT_SEC; 0 or
 * absent there means no limit). A run over it ends FAILED with reason `timeout`.
 *
 */
export type TimeoutSec = number;
/**
 * A wheel file name (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`).
 */
export type WheelName = string;
/**
 * Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
 * was requested and the worker is stopping the run.
 *
 */
export type RunStatus = "PENDING" | "RUNNING" | "CANCELLING" | "COMPLETED" | "FAILED" | "CANCELLED";
/**
 * Where a record came from: the task's `stdout` or `stderr`, a `log` record of Python's
 * logging, or `system` (the server, for example that the run's log limit was reached).
 *
 */
export type LogStream = "stdout" | "stderr" | "log" | "system";
/**
 * State of one task of a run.
 */
export type TaskState = "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
/**
 * Why a run (or one attempt at it) failed or was cancelled, as a code (`error_reason`);
 * null while it has not. (Nullable here rather than at each use: Connexion's validator
 * does not apply a `nullable` beside an `allOf`.)
 * Extensible like ProblemReason (and for the same reasons): a plain string whose known
 * values are listed in `x-extensible-enum`; treat an unknown one as a failure for
 * `error` to explain.
 *
 * | code | meaning |
 * |---|---|
 * | `flow_not_found` | no flow of that name on the worker |
 * | `invalid_workflow` | the stored flow.yaml could not be built on the worker |
 * | `callable_not_allowed` | a task's callable is not allowed on the worker; nothing was imported |
 * | `code_unavailable` | a wheel the run is bound to could not be installed |
 * | `execution_error` | a task raised |
 * | `crashed` | the run's process died |
 * | `timeout` | the run went over `timeout_sec` |
 * | `max_deliveries_exceeded` | its job's deliveries ran out (its workers kept dying) |
 * | `lost` | its job left the work stream while the run had not ended (expired, purged, or a redrive interrupted before it was queued); the server ended it |
 * | `cancelled` | someone cancelled it |
 *
 */
export type FailureReason = string | null;
/**
 * A worker's name (letters, digits, `_`, `-`, `=`, and inner dots).
 */
export type WorkerId = string;
/**
 * RUNNING: runs at least one run; IDLE: runs none; STOPPED_GRACEFUL: stopped after
 * SIGTERM or SIGINT; DISCONNECTED: not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC.
 *
 */
export type WorkerState = "RUNNING" | "IDLE" | "STOPPED_GRACEFUL" | "DISCONNECTED";

/**
 * The payload of every JSON message of asyncapi.yaml, by message name.
 */
export interface NatsMessages {
  ApiKey: ApiKey;
  CancelNotice: CancelNotice;
  DeadLetter: DeadLetter;
  IdempotencyRecord: IdempotencyRecord;
  Job: Job;
  LogRecord: LogRecord;
  MaxDeliveriesAdvisory: MaxDeliveriesAdvisory;
  RunSnapshot: RunSnapshot;
  WheelHistoryEvent: WheelHistoryEvent;
  WheelIndexRecord: WheelIndexRecord;
  WorkerRecord: WorkerRecord;
}
export interface ApiKey {
  key_id: string;
  tenant_id: string;
  role: "admin" | "user";
  /**
   * `hash` = HMAC-SHA256 over the secret, keyed with `salt` (and PYOCO_AUTH_PEPPER when
   * set). Secrets are 32 random bytes, so a fast hash is safe and checks take microseconds.
   *
   */
  hash_alg: "hmac-sha256";
  /**
   * 16 random bytes, base64url without padding.
   */
  salt: string;
  /**
   * 32 bytes, base64url without padding.
   */
  hash: string;
  created_at: number;
  revoked_at?: number | null;
  description?: string | null;
  /**
   * When set, the key's runs may use task callables of these modules only.
   */
  task_modules?: string[] | null;
  /**
   * When set, the key's own submit rate limit (runs a second, per gateway process, in
   * its own token bucket) instead of its tenant's PYOCO_SUBMIT_RATE_PER_SEC.
   *
   */
  submit_rate_per_sec?: number | null;
  /**
   * With `submit_rate_per_sec`, the submits the key may make at once.
   */
  submit_burst?: number | null;
}
export interface CancelNotice {
  run_id: RunId;
  requested_at: number;
  requested_by?: string | null;
  reason?: string | null;
}
export interface DeadLetter {
  reason: DeadLetterReason;
  /**
   * What went wrong, for a person.
   */
  error: string;
  timestamp: number;
  tag: string;
  /**
   * The work subject the job came from.
   */
  subject?: string;
  run_id?: string | null;
  flow_name?: string | null;
  worker_id?: string | null;
  num_delivered?: number | null;
  /**
   * The job, when it was valid (kept so the run can be driven again).
   */
  job?: Job | null;
  /**
   * The first 4096 bytes of an invalid message, decoded as UTF-8 with replacement.
   */
  payload?: string | null;
}
export interface Job {
  run_id: RunId;
  flow_name: string;
  tag: Tag;
  tags: string[];
  params: {};
  submitted_at: number;
  tenant_id?: string | null;
  api_key_id?: string | null;
  /**
   * The whole flow.yaml text, for YAML runs.
   */
  workflow_yaml?: string | null;
  workflow_yaml_sha256?: string | null;
  workflow_yaml_bytes?: number | null;
  /**
   * Revision of a PENDING snapshot stored before the job was queued, saving the
   * worker a read. This gateway queues the job first and stores the run after it (so no
   * stored run lacks its job) and leaves it out; workers accept it from older gateways.
   *
   */
  snapshot_revision?: number | null;
  /**
   * Attempts made before this message was queued (by a redrive); the attempt of a
   * delivery is `attempt_base` + its delivery count, so attempts keep increasing.
   *
   */
  attempt_base?: number;
  timeout_sec?: TimeoutSec | null;
  retry?: RetryPolicy | null;
  /**
   * The registry wheels the run is bound to (the newest for its tag at submit, or the
   * submit's pins); the worker installs them before the run starts.
   *
   */
  code?: CodeVersion[];
  /**
   * When the submitter's API key narrows them, the only task modules allowed.
   */
  task_modules?: string[] | null;
  /**
   * For a re-run, the run it repeats (copied to the snapshot).
   */
  rerun_of?: string | null;
}
/**
 * Run a failed run again: after a task error, a crash of its process or a timeout (not
 * after `flow_not_found` or a cancel). Attempt n+1 starts `backoff_sec *
 * backoff_multiplier^(n-1)` seconds (at most `max_backoff_sec`) after attempt n failed.
 * Retries are deliveries of the same job, so `max_attempts` is at most
 * PYOCO_CONSUMER_MAX_DELIVER.
 *
 */
export interface RetryPolicy {
  /**
   * Attempts in all, the first included (1 means no retry); at most 20, and at most
   * PYOCO_CONSUMER_MAX_DELIVER where that is set lower (400 otherwise).
   *
   */
  max_attempts: number;
  backoff_sec?: number;
  backoff_multiplier?: number;
  max_backoff_sec?: number;
}
/**
 * A wheel a run is bound to (and, once it ran, ran with).
 */
export interface CodeVersion {
  distribution: string;
  version: string;
  sha256: string;
  wheel: WheelName;
}
export interface IdempotencyRecord {
  run_id: RunId;
  /**
   * SHA-256 of the request, to refuse the same key on a different request.
   */
  request_sha256: string;
  created_at: number;
  response: RunAccepted;
}
/**
 * The accepted run. `status` is the run's status now: PENDING for a new run; an
 * idempotent replay shows where the run it created has got to.
 *
 */
export interface RunAccepted {
  run_id: RunId;
  status: RunStatus;
  flow_name: string;
  tag: Tag;
  /**
   * For a re-run, the run it repeats.
   */
  rerun_of?: string | null;
  /**
   * Things the submitter should know, for a person: for example that no worker has
   * served the tag lately, so the run will wait until one does.
   *
   */
  warnings?: string[];
}
/**
 * One line a task wrote to stdout or stderr, or one record it logged, as the worker
 * publishes it (the stream sequence is the record's `seq` in the HTTP API).
 *
 */
export interface LogRecord {
  run_id: RunId;
  attempt: number;
  task?: string | null;
  stream: LogStream;
  level?: string | null;
  logger?: string | null;
  message: string;
  ts: number;
}
export interface MaxDeliveriesAdvisory {
  type: "io.nats.jetstream.advisory.v1.max_deliver";
  id?: string;
  timestamp?: string;
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}
/**
 * The latest state of a run, as stored in the `pyoco_runs` key-value bucket (see
 * asyncapi.yaml) and returned by the API.
 *
 */
export interface RunSnapshot {
  run_id: RunId;
  flow_name: string;
  tag: Tag;
  tags: string[];
  status: RunStatus;
  params: Params;
  /**
   * State of each task, by task name.
   */
  tasks: {
    [k: string]: TaskState;
  };
  /**
   * Record of each task, by task name (only with `include=records`).
   */
  task_records?: {
    [k: string]: TaskRecord;
  };
  /**
   * True when task records were dropped to keep the snapshot under its size limit.
   */
  task_records_truncated?: boolean;
  tenant_id?: string | null;
  api_key_id?: string | null;
  /**
   * The worker running or last running the run.
   */
  worker_id?: string | null;
  /**
   * Delivery attempt of the job that wrote this snapshot (0 before any worker took it).
   */
  attempt?: number;
  submitted_at?: number;
  start_time?: number | null;
  end_time?: number | null;
  heartbeat_at?: number | null;
  updated_at: number;
  /**
   * Why the run failed, for a person.
   */
  error?: string | null;
  error_reason?: FailureReason;
  /**
   * SHA-256 (hex) of the uploaded flow.yaml, for YAML runs.
   */
  workflow_yaml_sha256?: string | null;
  workflow_yaml_bytes?: number | null;
  /**
   * The run's time limit in seconds, if any.
   */
  timeout_sec?: number | null;
  retry?: RetryPolicy;
  /**
   * Every attempt at running the run, oldest first.
   */
  attempts?: AttemptRecord[];
  /**
   * When a retry is due, while the run waits for it (status PENDING).
   */
  next_attempt_at?: number | null;
  cancel_requested_at?: number | null;
  /**
   * Who asked to cancel (`api_key:<key_id>` or `address:<client address>`).
   */
  cancel_requested_by?: string | null;
  cancel_reason?: string | null;
  /**
   * Sequence of the run's job in the work stream (set when it is queued and by the
   * worker that takes it); lets the server tell a run whose job is gone from one whose
   * job waits for a worker.
   *
   */
  job_seq?: number | null;
  /**
   * The wheels the run is bound to: chosen at submit (the newest for its tag, or the
   * `requires` pins), installed by the worker before the run starts, and the code it ran
   * with.
   *
   */
  code?: CodeVersion[];
  /**
   * For a re-run (POST /runs/{run_id}/rerun), the run it repeats.
   */
  rerun_of?: string | null;
  stopping?: RunStopping | null;
  waiting?: RunWaiting | null;
}
/**
 * Parameters of the run, passed to the flow's tasks by name. Plain JSON: no NaN or
 * Infinity, text that is valid Unicode (no lone surrogate escape such as `\ud800`), and
 * arrays and objects nested at most 64 levels deep, the params object being the first;
 * anything else is a 400 `invalid_input` (`invalid_request` when a JSON body cannot be
 * read at all). Their JSON text counts against `PYOCO_MAX_RUN_SNAPSHOT_BYTES` (413
 * beyond).
 *
 */
export interface Params {
  [k: string]: unknown;
}
/**
 * What happened to one task of a run.
 */
export interface TaskRecord {
  state: TaskState;
  started_at?: number | null;
  ended_at?: number | null;
  duration_ms?: number | null;
  /**
   * The task's exception message, when it failed.
   */
  error?: string | null;
  traceback?: string | null;
  /**
   * The arguments the task was called with (converted like outputs).
   */
  inputs?: {
    [k: string]: unknown;
  };
  /**
   * The task's return value as JSON (null until the task succeeded).
   */
  output?: {
    [k: string]: unknown;
  };
  /**
   * True when the return value was not JSON and `output` is a deterministic conversion
   * of it (sets become sorted lists, bytes base64 text, other objects their repr).
   *
   */
  output_converted?: boolean;
}
/**
 * One attempt at running a run (one delivery of its job that a worker started).
 */
export interface AttemptRecord {
  attempt: number;
  worker_id: string;
  started_at: number;
  ended_at?: number | null;
  /**
   * RUNNING while it runs, then how it ended: COMPLETED, FAILED, CANCELLED, or LOST when
   * its worker vanished and the job was delivered again.
   *
   */
  status: "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED" | "LOST";
  error?: string | null;
  error_reason?: FailureReason;
}
/**
 * Why and by when a run is being stopped (set when it becomes CANCELLING, kept after):
 * `cancel` (someone asked) or `timeout` (it went over `timeout_sec`); the worker kills its
 * process at `deadline_at` if it has not stopped by then.
 *
 */
export interface RunStopping {
  reason: "cancel" | "timeout";
  since: number;
  /**
   * Set by the worker once it is stopping the run.
   */
  deadline_at?: number | null;
}
/**
 * Why a PENDING run has not started, worked out by the gateway when it answers (never
 * stored): `no_worker` (no live worker serves its tag), `workers_busy` (the workers serving
 * it are all busy; `ahead` jobs are queued before it), `retry_scheduled` (a failed attempt
 * is retried at `retry_at`), or `queued` (a worker should take it at once).
 *
 */
export interface RunWaiting {
  reason: "no_worker" | "workers_busy" | "retry_scheduled" | "queued";
  /**
   * The same, for a person.
   */
  detail: string;
  /**
   * Jobs queued on the tag before this one, when known.
   */
  ahead?: number | null;
  /**
   * Live workers serving the tag.
   */
  workers?: number | null;
  retry_at?: number | null;
}
/**
 * One upload or deletion in the wheel registry.
 */
export interface WheelHistoryEvent {
  event_id: string;
  occurred_at: number;
  action: "upload" | "delete";
  wheel_name: WheelName;
  distribution?: string | null;
  version?: string | null;
  tags: string[];
  size_bytes?: number | null;
  sha256_hex?: string | null;
  replace?: boolean | null;
  actor?: WheelActor;
  source?: RequestSource;
}
/**
 * Who made the change (with API keys on).
 */
export interface WheelActor {
  tenant_id?: string | null;
  api_key_id?: string | null;
}
/**
 * Where the request came from, as the gateway saw it.
 */
export interface RequestSource {
  remote_addr?: string | null;
  x_forwarded_for?: string | null;
  x_real_ip?: string | null;
  user_agent?: string | null;
}
export interface WheelIndexRecord {
  /**
   * The normalised (PEP 503) distribution name.
   */
  distribution: string;
  /**
   * Every uploaded version, in upload (and so ascending version) order.
   */
  versions: WheelVersion[];
}
export interface WheelVersion {
  version: string;
  wheel: WheelName;
  sha256: string;
  size_bytes: number;
  tags: Tag[];
  modules: string[];
  requires_dist?: string[];
  requires_python?: string | null;
  uploaded_at: number;
  uploaded_by?: string | null;
  /**
   * Set when the version was deleted (new runs are no longer bound to it).
   */
  deleted_at?: number | null;
}
/**
 * A worker's registry record (the `pyoco_workers` bucket, see asyncapi.yaml). The API shows
 * the derived state: DISCONNECTED when the record is stale.
 *
 */
export interface WorkerRecord {
  worker_id: WorkerId;
  /**
   * Unique to one run of the worker process.
   */
  instance_id: string;
  state: WorkerState;
  hidden: boolean;
  tags: Tag[];
  concurrency: number;
  /**
   * The runs the worker holds now.
   */
  current_run_ids: string[];
  started_at: number;
  last_seen_at: number;
  updated_at: number;
  stopped_at?: number | null;
  stop_reason?: string | null;
  hostname?: string | null;
  pid?: number | null;
  version?: string | null;
  /**
   * Runs this worker instance ended COMPLETED.
   */
  runs_completed?: number;
  /**
   * Runs this worker instance ended FAILED or CANCELLED.
   */
  runs_failed?: number;
  last_run_id?: string | null;
  last_run_status?: RunStatus;
  last_run_finished_at?: number | null;
  wheels?: WheelState;
}
/**
 * A worker's wheel sync, as it reports it.
 */
export interface WheelState {
  enabled: boolean;
  installed?: CodeVersion[];
  skipped?: SkippedWheel[];
  last_error?: string | null;
  last_synced_at?: number | null;
}
export interface SkippedWheel {
  wheel: WheelName;
  /**
   * Why this worker cannot install it, for a person.
   */
  reason: string;
}
