"""What a client should do about each error reason: what docs/api.md adds to openapi.yaml.

The generator fails when a reason of the spec has no advice here, or advice names no reason.
"""

from __future__ import annotations

_FIX_YAML = (
    "Fix the flow.yaml as `detail` says and submit it again; retrying unchanged fails again."
)

PROBLEM_ACTIONS: dict[str, str] = {
    "invalid_request": "Fix the request as `detail` says (the spec shows what each operation takes); do not retry it unchanged.",
    "invalid_input": "Change the value `detail` names; do not retry unchanged.",
    "invalid_multipart": "Send one well-formed `multipart/form-data` body with only the parts the operation takes.",
    "api_key_required": "Send an API key in `X-API-Key` (or the header the server names in `PYOCO_HTTP_API_KEY_HEADER`).",
    "api_key_invalid": "Check the key (mistyped, revoked?); ask an operator for a new one. Retrying does not help.",
    "forbidden_role": "Use an admin key for this operation.",
    "forbidden_tenant": "Name your own tenant, or none; only admin keys may name another.",
    "run_not_found": "Check the run id; a run of another tenant, or one past `PYOCO_RUN_RETENTION_SEC`, is not found either.",
    "worker_not_found": "Check the id: `GET /workers?scope=all&include_hidden=true` lists them all.",
    "dead_letter_not_found": "Check the id: `GET /dlq` lists the dead letters kept (they expire after `PYOCO_DLQ_MAX_AGE_SEC`).",
    "wheel_not_found": "Check the name: `GET /wheels` lists the stored wheels.",
    "method_not_allowed": "Use one of the methods the `Allow` header lists.",
    "body_too_slow": "Send the whole body without pausing; a link slower than the operator's `PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC` needs that setting lowered.",
    "not_redrivable": "Nothing to do while the run is queued or running; a dead letter that kept no job cannot be redriven: submit the run again (or re-run it).",
    "idempotency_key_reused": "Use a new `Idempotency-Key` for a different request.",
    "idempotency_key_in_progress": "Retry the same request with the same key after `Retry-After` seconds.",
    "workflow_not_stored": "Submit the flow.yaml again with `POST /runs/yaml`; the original is no longer kept.",
    "wheel_version_not_higher": "Raise the package's version, build the wheel again and upload it.",
    "wheel_exists": "Upload with `replace=true` to make this version the current one, or raise the version.",
    "payload_too_large": "Send less, or have the operator raise the limit `detail` names.",
    "unsupported_media_type": "Send the body with a `Content-Type` the operation takes.",
    "headers_too_large": "Send less in the query string and headers; data belongs in the body.",
    **dict.fromkeys(
        [
            "not_utf8",
            "invalid_yaml",
            "invalid_yaml_root",
            "too_complex",
            "unsupported_key",
            "unknown_keys",
            "unsupported_version",
            "missing_flow_graph",
            "invalid_defaults",
            "invalid_task",
            "invalid_task_callable",
            "missing_callable",
            "undeclared_task",
            "unknown_params",
            "invalid_pipes",
            "invalid_runtime",
            "invalid_graph",
        ],
        _FIX_YAML,
    ),
    "callable_not_allowed": "Ship the task code as a registry wheel (`POST /wheels`), or have the operator list its module in `PYOCO_TASK_MODULES`.",
    "invalid_wheel": "Upload the wheel file exactly as the build tool wrote it.",
    "invalid_wheel_name": "Upload the wheel under the file name the build tool gave it.",
    "invalid_tags": "Use fewer or shorter tags, each letters, digits, `_` or `-`.",
    "invalid_requirement": "Pin one exact version per wheel (`name==1.2.3`).",
    "unknown_requirement": "Pin a version `GET /wheels` lists for the run's tag.",
    "submit_rate_limited": "Wait `Retry-After` seconds and retry; submit more slowly, or have the operator raise the tenant's rate.",
    "too_many_watches": "Close streams you no longer read, or wait `Retry-After` seconds and retry.",
    "backend_unavailable": "Retry after `Retry-After` seconds: nothing was stored, so a retry cannot duplicate anything.",
    "queue_full": "Retry after `Retry-After` seconds (nothing was stored); if it lasts, workers are not keeping up.",
    "gateway_busy": "Retry after `Retry-After` seconds (nothing was read or stored); if it lasts, the gateway is receiving many large or slow bodies at once (the operator's `PYOCO_HTTP_BODIES_MAX_BYTES`).",
    "submit_outcome_unknown": "Retry with the same `Idempotency-Key` (send one with every submit): it answers with the run if it was stored, or submits it.",
}
"""By `ProblemReason` code."""

FAILURE_ACTIONS: dict[str, str] = {
    "flow_not_found": "Submit a flow name the workers' flow resolver knows, or route the run to workers that know it.",
    "invalid_workflow": "Read `error`; fix the flow.yaml and submit it again.",
    "callable_not_allowed": "Ship the code as a registry wheel, or have the operator allow its module on the workers.",
    "code_unavailable": "Read `error` (a wheel that did not install); fix or re-upload the wheel, then re-run.",
    "execution_error": "Read `error` and the task logs (`GET /runs/{run_id}/logs`); fix the task, then re-run.",
    "crashed": "A task killed its process (memory, a native crash); read the logs, fix, then re-run.",
    "timeout": "Make the run faster or submit it with a larger `timeout_sec`.",
    "max_deliveries_exceeded": "Workers kept dying on it: find out why (their logs), then redrive its dead letter.",
    "lost": "Its job was gone (expired, purged); re-run it.",
    "cancelled": "Nothing: someone cancelled it. Re-run it if it should run after all.",
}
"""By `FailureReason` code (a run's `error_reason`)."""
