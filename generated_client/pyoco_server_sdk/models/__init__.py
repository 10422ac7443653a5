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
from .log_end import LogEnd
from .log_end_event import LogEndEvent
from .log_end_event_event import LogEndEventEvent
from .log_heartbeat_event import LogHeartbeatEvent
from .log_heartbeat_event_event import LogHeartbeatEventEvent
from .log_record import LogRecord
from .log_record_event import LogRecordEvent
from .log_record_event_event import LogRecordEventEvent
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
from .run_graph import RunGraph
from .run_heartbeat_event import RunHeartbeatEvent
from .run_heartbeat_event_event import RunHeartbeatEventEvent
from .run_list_counts_event import RunListCountsEvent
from .run_list_counts_event_event import RunListCountsEventEvent
from .run_list_heartbeat import RunListHeartbeat
from .run_list_heartbeat_event import RunListHeartbeatEvent
from .run_list_heartbeat_event_event import RunListHeartbeatEventEvent
from .run_list_reset import RunListReset
from .run_list_reset_event import RunListResetEvent
from .run_list_reset_event_event import RunListResetEventEvent
from .run_list_run_event import RunListRunEvent
from .run_list_run_event_event import RunListRunEventEvent
from .run_logs import RunLogs
from .run_page import RunPage
from .run_snapshot import RunSnapshot
from .run_snapshot_event import RunSnapshotEvent
from .run_snapshot_event_event import RunSnapshotEventEvent
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
from .sse_event import SseEvent
from .task_record import TaskRecord
from .task_record_inputs import TaskRecordInputs
from .task_state import TaskState
from .watch_heartbeat import WatchHeartbeat
from .watch_run_include_item import WatchRunIncludeItem
from .watch_snapshot import WatchSnapshot
from .wheel import Wheel
from .wheel_actor import WheelActor
from .wheel_deleted import WheelDeleted
from .wheel_history_event import WheelHistoryEvent
from .wheel_history_event_action import WheelHistoryEventAction
from .wheel_state import WheelState
from .wheel_upload_request import WheelUploadRequest
from .worker_page import WorkerPage
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
    "LogEnd",
    "LogEndEvent",
    "LogEndEventEvent",
    "LogHeartbeatEvent",
    "LogHeartbeatEventEvent",
    "LogRecord",
    "LogRecordEvent",
    "LogRecordEventEvent",
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
    "RunGraph",
    "RunHeartbeatEvent",
    "RunHeartbeatEventEvent",
    "RunListCountsEvent",
    "RunListCountsEventEvent",
    "RunListHeartbeat",
    "RunListHeartbeatEvent",
    "RunListHeartbeatEventEvent",
    "RunListReset",
    "RunListResetEvent",
    "RunListResetEventEvent",
    "RunListRunEvent",
    "RunListRunEventEvent",
    "RunLogs",
    "RunPage",
    "RunSnapshot",
    "RunSnapshotEvent",
    "RunSnapshotEventEvent",
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
    "SseEvent",
    "TaskRecord",
    "TaskRecordInputs",
    "TaskState",
    "WatchHeartbeat",
    "WatchRunIncludeItem",
    "WatchSnapshot",
    "Wheel",
    "WheelActor",
    "WheelDeleted",
    "WheelHistoryEvent",
    "WheelHistoryEventAction",
    "WheelState",
    "WheelUploadRequest",
    "WorkerPage",
    "WorkerPatch",
    "WorkerRecord",
    "WorkerState",
)
