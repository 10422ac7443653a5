"""NATS names (subjects, consumers, buckets) derived from settings; the code uses no others.

`templates()` lists every subject pattern the code publishes or reads, so a contract test can
check each one against the channels of asyncapi.yaml.
"""

from __future__ import annotations

import dataclasses

from pyoco_server.domain.settings import Settings

API_KEY_PREFIX = "api_keys."
"""API key records live at `api_keys.<key_id>` in the auth bucket."""


@dataclasses.dataclass(frozen=True, slots=True)
class Subjects:
    """Subject and resource names for one deployment."""

    work_prefix: str
    dlq_prefix: str
    consumer_prefix: str
    runs_bucket: str
    workers_bucket: str
    work_stream: str
    auth_bucket: str
    idempotency_bucket: str
    wheel_index_bucket: str
    workflows_bucket: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Subjects:
        """Names configured by `settings`."""
        return cls(
            work_prefix=settings.work_subject_prefix,
            dlq_prefix=settings.dlq_subject_prefix,
            consumer_prefix=settings.consumer_prefix,
            runs_bucket=settings.runs_kv_bucket,
            workers_bucket=settings.workers_kv_bucket,
            work_stream=settings.work_stream,
            auth_bucket=settings.auth_kv_bucket,
            idempotency_bucket=settings.idempotency_kv_bucket,
            wheel_index_bucket=settings.wheel_index_kv_bucket,
            workflows_bucket=settings.workflows_kv_bucket,
        )

    def work(self, tag: str) -> str:
        """Subject of the jobs of `tag`."""
        return f"{self.work_prefix}.{tag}"

    @property
    def work_all(self) -> str:
        """Subjects of the work stream."""
        return f"{self.work_prefix}.>"

    def tag_of_work_subject(self, subject: str) -> str:
        """The tag of a work subject (its last token)."""
        return subject.rsplit(".", 1)[-1]

    def dead_letter(self, tag: str) -> str:
        """Subject of the dead letters of `tag`."""
        return f"{self.dlq_prefix}.{tag}"

    @property
    def dead_letter_all(self) -> str:
        """Subjects of the dead-letter stream."""
        return f"{self.dlq_prefix}.>"

    def consumer(self, tag: str) -> str:
        """Durable pull consumer shared by the workers of `tag`."""
        return f"{self.consumer_prefix}_{tag}"

    def cancel(self, run_id: str) -> str:
        """Core NATS subject of the cancel notice of `run_id`."""
        return f"pyoco.cancel.{run_id}"

    cancel_all = "pyoco.cancel.*"
    """Every cancel notice."""

    @property
    def max_deliveries_all(self) -> str:
        """JetStream's max-deliveries advisories for every consumer of the work stream."""
        return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.work_stream}.*"

    wheel_history = "pyoco.wheels.history"
    """Subject of the wheel history stream."""

    logs_stream = "PYOCO_LOGS"
    """The stream of runs' task logs (limits retention)."""

    def run_logs(self, run_id: str) -> str:
        """Subject of the log records of `run_id` (stream `PYOCO_LOGS`)."""
        return f"pyoco.logs.{run_id}"

    run_logs_all = "pyoco.logs.>"
    """Subjects of the logs stream."""

    advisory_queue_group = "pyoco-max-deliveries"
    """Queue group of everything that handles max-deliveries advisories (one handles each)."""

    def templates(self) -> dict[str, str]:
        """Every subject pattern in use, keyed by its asyncapi.yaml channel id."""
        return {
            "work": self.work("{tag}"),
            "runSnapshots": f"$KV.{self.runs_bucket}.{{run_id}}",
            "cancels": self.cancel("{run_id}"),
            "workerRecords": f"$KV.{self.workers_bucket}.{{worker_id}}",
            "apiKeys": f"$KV.{self.auth_bucket}.{API_KEY_PREFIX}{{key_id}}",
            "idempotencyKeys": f"$KV.{self.idempotency_bucket}.{{key_hash}}",
            "maxDeliveries": "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}",
            "deadLetters": self.dead_letter("{tag}"),
            "wheelIndex": f"$KV.{self.wheel_index_bucket}.{{distribution}}",
            "wheelHistory": self.wheel_history,
            "runLogs": self.run_logs("{run_id}"),
            "workflows": f"$KV.{self.workflows_bucket}.{{sha256}}",
        }
