"""Contains all the data models used in inputs/outputs"""

from .attempt_record import AttemptRecord
from .attempt_record_status import AttemptRecordStatus
from .cancel_request import CancelRequest
from .code_version import CodeVersion
from .dead_letter import DeadLetter
from .dead_letter_page import DeadLetterPage
from .dead_letter_reason import DeadLetterReason
from .get_run_include_item import GetRunIncludeItem
from .graph_edge import GraphEdge
from .graph_node import GraphNode
from .health import Health
from .health_status import HealthStatus
from .list_wheel_history_action import ListWheelHistoryAction
from .list_workers_scope import ListWorkersScope
from .log_event import LogEvent
from .log_event_event import LogEventEvent
from .log_record import LogRecord
from .log_stream import LogStream
from .metrics_history import MetricsHistory
from .metrics_point import MetricsPoint
from .params import Params
from .problem import Problem
from .request_source import RequestSource
from .rerun_request import RerunRequest
from .retry_policy import RetryPolicy
from .run_accepted import RunAccepted
from .run_counts import RunCounts
from .run_counts_by_status import RunCountsByStatus
from .run_event import RunEvent
from .run_event_event import RunEventEvent
from .run_graph import RunGraph
from .run_list_event import RunListEvent
from .run_list_event_event import RunListEventEvent
from .run_logs import RunLogs
from .run_page import RunPage
from .run_snapshot import RunSnapshot
from .run_snapshot_task_records import RunSnapshotTaskRecords
from .run_snapshot_tasks import RunSnapshotTasks
from .run_status import RunStatus
from .run_stopping import RunStopping
from .run_stopping_reason import RunStoppingReason
from .run_submit_request import RunSubmitRequest
from .run_summary import RunSummary
from .run_tasks import RunTasks
from .run_tasks_task_records import RunTasksTaskRecords
from .run_tasks_tasks import RunTasksTasks
from .run_waiting import RunWaiting
from .run_waiting_reason import RunWaitingReason
from .run_yaml_submit_request import RunYamlSubmitRequest
from .skipped_wheel import SkippedWheel
from .task_record import TaskRecord
from .task_record_inputs import TaskRecordInputs
from .task_state import TaskState
from .watch_run_include_item import WatchRunIncludeItem
from .wheel import Wheel
from .wheel_actor import WheelActor
from .wheel_deleted import WheelDeleted
from .wheel_history_event import WheelHistoryEvent
from .wheel_history_event_action import WheelHistoryEventAction
from .wheel_state import WheelState
from .wheel_upload_request import WheelUploadRequest
from .worker_patch import WorkerPatch
from .worker_record import WorkerRecord
from .worker_state import WorkerState

__all__ = (
    "AttemptRecord",
    "AttemptRecordStatus",
    "CancelRequest",
    "CodeVersion",
    "DeadLetter",
    "DeadLetterPage",
    "DeadLetterReason",
    "GetRunIncludeItem",
    "GraphEdge",
    "GraphNode",
    "Health",
    "HealthStatus",
    "ListWheelHistoryAction",
    "ListWorkersScope",
    "LogEvent",
    "LogEventEvent",
    "LogRecord",
    "LogStream",
    "MetricsHistory",
    "MetricsPoint",
    "Params",
    "Problem",
    "RequestSource",
    "RerunRequest",
    "RetryPolicy",
    "RunAccepted",
    "RunCounts",
    "RunCountsByStatus",
    "RunEvent",
    "RunEventEvent",
    "RunGraph",
    "RunListEvent",
    "RunListEventEvent",
    "RunLogs",
    "RunPage",
    "RunSnapshot",
    "RunSnapshotTaskRecords",
    "RunSnapshotTasks",
    "RunStatus",
    "RunStopping",
    "RunStoppingReason",
    "RunSubmitRequest",
    "RunSummary",
    "RunTasks",
    "RunTasksTaskRecords",
    "RunTasksTasks",
    "RunWaiting",
    "RunWaitingReason",
    "RunYamlSubmitRequest",
    "SkippedWheel",
    "TaskRecord",
    "TaskRecordInputs",
    "TaskState",
    "WatchRunIncludeItem",
    "Wheel",
    "WheelActor",
    "WheelDeleted",
    "WheelHistoryEvent",
    "WheelHistoryEventAction",
    "WheelState",
    "WheelUploadRequest",
    "WorkerPatch",
    "WorkerRecord",
    "WorkerState",
)
