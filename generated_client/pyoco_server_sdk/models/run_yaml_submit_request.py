from __future__ import annotations

import json
from collections.abc import Mapping
from io import BytesIO
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from .. import types
from ..types import UNSET, File, Unset

if TYPE_CHECKING:
    from ..models.params import Params
    from ..models.retry_policy import RetryPolicy


T = TypeVar("T", bound="RunYamlSubmitRequest")


@_attrs_define
class RunYamlSubmitRequest:
    """The multipart form of POST /runs/yaml. `params` (a Params object whose keys override
    `flow.defaults`) and `retry` (a RetryPolicy) are parts holding JSON text, declared
    `application/json` in the operation's `encoding`; a blank part counts as absent, text
    that is not a JSON object is a 400 `invalid_input`. When the flow declares params (keys
    of `flow.defaults`, `$ctx.params.NAME` in task inputs or graph expressions), a key
    outside them is refused (422 `unknown_params`), so a typo cannot silently run with the
    default; a flow that declares none takes any params.

        Example:
            {'workflow': 'version: 1\\nflow:\\n  graph: add_one >> to_text\\n  defaults: {x: 1}\\ntasks:\\n  add_one:
                {callable: "pyoco_server._workflow_test_tasks:add_one"}\\n  to_text: {callable:
                "pyoco_server._workflow_test_tasks:to_text"}\\n', 'flow_name': 'main', 'tag': 'default', 'params': {'x': 2},
                'retry': {'max_attempts': 3, 'backoff_sec': 1}}

    """

    workflow: File
    """ The flow.yaml file (UTF-8 YAML, at most PYOCO_WORKFLOW_YAML_MAX_BYTES). """
    flow_name: str
    """ Name of the flow to run; printable text with at least one non-blank character. """
    tag: str | Unset = UNSET
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    params: Params | Unset = UNSET
    """ Parameters of the run, passed to the flow's tasks by name. Plain JSON: no NaN or
    Infinity, text that is valid Unicode (no lone surrogate escape such as `\\ud800`), and
    arrays and objects nested at most 64 levels deep, the params object being the first;
    anything else is a 400 `invalid_input` (`invalid_request` when a JSON body cannot be
    read at all). Their JSON text counts against `PYOCO_MAX_RUN_SNAPSHOT_BYTES` (413
    beyond).
     """
    tags: str | Unset = UNSET
    """ Labels stored with the run, comma-separated (see RunSubmitRequest `tags`): at most
    64 labels of at most 128 characters each (422 `invalid_tags` otherwise).
     """
    timeout_sec: float | Unset = UNSET
    """ Seconds the run may take once a worker starts it (default PYOCO_RUN_TIMEOUT_SEC; 0 or
    absent there means no limit). A run over it ends FAILED with reason `timeout`.
     """
    retry: RetryPolicy | Unset = UNSET
    """ Run a failed run again: after a task error, a crash of its process or a timeout (not
    after `flow_not_found` or a cancel). Attempt n+1 starts `backoff_sec *
    backoff_multiplier^(n-1)` seconds (at most `max_backoff_sec`) after attempt n failed.
    Retries are deliveries of the same job, so `max_attempts` is at most
    PYOCO_CONSUMER_MAX_DELIVER.
     """
    requires: str | Unset = UNSET
    """ Pinned wheel versions, comma-separated (see Requires). """

    def to_dict(self) -> dict[str, Any]:
        workflow = self.workflow.to_tuple()

        flow_name = self.flow_name

        tag = self.tag

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        tags = self.tags

        timeout_sec = self.timeout_sec

        retry: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry, Unset):
            retry = self.retry.to_dict()

        requires = self.requires

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "workflow": workflow,
                "flow_name": flow_name,
            }
        )
        if tag is not UNSET:
            field_dict["tag"] = tag
        if params is not UNSET:
            field_dict["params"] = params
        if tags is not UNSET:
            field_dict["tags"] = tags
        if timeout_sec is not UNSET:
            field_dict["timeout_sec"] = timeout_sec
        if retry is not UNSET:
            field_dict["retry"] = retry
        if requires is not UNSET:
            field_dict["requires"] = requires

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("workflow", self.workflow.to_tuple()))

        files.append(("flow_name", (None, str(self.flow_name).encode(), "text/plain")))

        if not isinstance(self.tag, Unset):
            files.append(("tag", (None, str(self.tag).encode(), "text/plain")))

        if not isinstance(self.params, Unset):
            files.append(("params", (None, json.dumps(self.params.to_dict()).encode(), "application/json")))

        if not isinstance(self.tags, Unset):
            files.append(("tags", (None, str(self.tags).encode(), "text/plain")))

        if not isinstance(self.timeout_sec, Unset):
            files.append(("timeout_sec", (None, str(self.timeout_sec).encode(), "text/plain")))

        if not isinstance(self.retry, Unset):
            files.append(("retry", (None, json.dumps(self.retry.to_dict()).encode(), "application/json")))

        if not isinstance(self.requires, Unset):
            files.append(("requires", (None, str(self.requires).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.params import Params  # noqa: PLC0415
        from ..models.retry_policy import RetryPolicy  # noqa: PLC0415

        d = dict(src_dict)
        workflow = File(payload=BytesIO(d.pop("workflow")))

        flow_name = d.pop("flow_name")

        tag = d.pop("tag", UNSET)

        _params = d.pop("params", UNSET)
        params: Params | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = Params.from_dict(_params)

        tags = d.pop("tags", UNSET)

        timeout_sec = d.pop("timeout_sec", UNSET)

        _retry = d.pop("retry", UNSET)
        retry: RetryPolicy | Unset
        if isinstance(_retry, Unset):
            retry = UNSET
        else:
            retry = RetryPolicy.from_dict(_retry)

        requires = d.pop("requires", UNSET)

        run_yaml_submit_request = cls(
            workflow=workflow,
            flow_name=flow_name,
            tag=tag,
            params=params,
            tags=tags,
            timeout_sec=timeout_sec,
            retry=retry,
            requires=requires,
        )

        return run_yaml_submit_request
