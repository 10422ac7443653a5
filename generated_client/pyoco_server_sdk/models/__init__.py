"""Contains all the data models used in inputs/outputs"""

from .get_run_include_item import GetRunIncludeItem
from .health import Health
from .health_status import HealthStatus
from .params import Params
from .problem import Problem
from .run_accepted import RunAccepted
from .run_snapshot import RunSnapshot
from .run_snapshot_task_records import RunSnapshotTaskRecords
from .run_snapshot_tasks import RunSnapshotTasks
from .run_status import RunStatus
from .run_submit_request import RunSubmitRequest
from .run_tasks import RunTasks
from .run_tasks_task_records import RunTasksTaskRecords
from .run_tasks_tasks import RunTasksTasks
from .run_yaml_submit_request import RunYamlSubmitRequest
from .task_record import TaskRecord
from .task_record_inputs import TaskRecordInputs
from .task_state import TaskState

__all__ = (
    "GetRunIncludeItem",
    "Health",
    "HealthStatus",
    "Params",
    "Problem",
    "RunAccepted",
    "RunSnapshot",
    "RunSnapshotTaskRecords",
    "RunSnapshotTasks",
    "RunStatus",
    "RunSubmitRequest",
    "RunTasks",
    "RunTasksTaskRecords",
    "RunTasksTasks",
    "RunYamlSubmitRequest",
    "TaskRecord",
    "TaskRecordInputs",
    "TaskState",
)
