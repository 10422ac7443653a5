from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="RunYamlSubmitRequest")


@_attrs_define
class RunYamlSubmitRequest:
    """
    Example:
        {'workflow': 'version: 1\\nflow:\\n  graph: add_one >> to_text\\n  defaults: {x: 1}\\ntasks:\\n  add_one:
            {callable: "pyoco_server._workflow_test_tasks:add_one"}\\n  to_text: {callable:
            "pyoco_server._workflow_test_tasks:to_text"}\\n', 'flow_name': 'main', 'tag': 'default'}

    """

    workflow: File
    """ The flow.yaml file (UTF-8 YAML, at most PYOCO_WORKFLOW_YAML_MAX_BYTES). """
    flow_name: str
    """ Name of the flow to run; printable text with at least one non-blank character. """
    tag: str | Unset = UNSET
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    params: str | Unset = UNSET
    """ A JSON object whose keys override `flow.defaults`. When the flow declares params
    (keys of `flow.defaults`, `$ctx.params.NAME` in task inputs or graph expressions), a
    key outside them is refused (422 `unknown_params`), so a typo cannot silently run
    with the default; a flow that declares none takes any params.
     """
    tags: str | Unset = UNSET
    """ Labels stored with the run, comma-separated (see RunSubmitRequest `tags`): at most
    64 labels of at most 128 characters each (422 `invalid_tags` otherwise).
     """
    timeout_sec: float | Unset = UNSET
    """ Seconds the run may take once a worker starts it (default PYOCO_RUN_TIMEOUT_SEC; 0 or
    absent there means no limit). A run over it ends FAILED with reason `timeout`.
     """
    retry: str | Unset = UNSET
    """ A retry policy as JSON text (see RetryPolicy). """
    requires: str | Unset = UNSET
    """ Pinned wheel versions, comma-separated (see Requires). """

    def to_dict(self) -> dict[str, Any]:
        workflow = self.workflow.to_tuple()

        flow_name = self.flow_name

        tag = self.tag

        params = self.params

        tags = self.tags

        timeout_sec = self.timeout_sec

        retry = self.retry

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
            files.append(("params", (None, str(self.params).encode(), "text/plain")))

        if not isinstance(self.tags, Unset):
            files.append(("tags", (None, str(self.tags).encode(), "text/plain")))

        if not isinstance(self.timeout_sec, Unset):
            files.append(("timeout_sec", (None, str(self.timeout_sec).encode(), "text/plain")))

        if not isinstance(self.retry, Unset):
            files.append(("retry", (None, str(self.retry).encode(), "text/plain")))

        if not isinstance(self.requires, Unset):
            files.append(("requires", (None, str(self.requires).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        workflow = File(payload=BytesIO(d.pop("workflow")))

        flow_name = d.pop("flow_name")

        tag = d.pop("tag", UNSET)

        params = d.pop("params", UNSET)

        tags = d.pop("tags", UNSET)

        timeout_sec = d.pop("timeout_sec", UNSET)

        retry = d.pop("retry", UNSET)

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
