"""The submits the benchmarks send: the trivial flow by name (JSON) and as the seed's flow.yaml
(multipart, as a browser sends it), as raw bodies and as wrk scripts."""

from __future__ import annotations

from dataclasses import dataclass

from bench.flows import SEED_YAML, chain_yaml

BOUNDARY = "pyoco-bench-boundary"


@dataclass(frozen=True)
class Submit:
    """One kind of submit request."""

    path: str
    body: bytes
    content_type: str

    def wrk_script(self) -> str:
        """A wrk script sending this request."""
        return (
            'wrk.method = "POST"\n'
            f"wrk.body = {_lua_string(self.body.decode())}\n"
            f'wrk.headers["Content-Type"] = "{self.content_type}"\n'
        )


def _lua_string(text: str) -> str:
    """`text` as a Lua string literal (long brackets would turn CRLF into LF)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "\\r").replace("\n", "\\n") + '"'


def flow_yaml(flow: bytes) -> Submit:
    """`POST /runs/yaml` of `flow` with flow_name main and params {"x": 1}."""
    part = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name="
    body = (
        (
            f'{part}"flow_name"\r\n\r\nmain\r\n'
            f'{part}"params"\r\n\r\n{{"x":1}}\r\n'
            f'{part}"workflow"; filename="flow.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
        ).encode()
        + flow
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return Submit("/runs/yaml", body, f"multipart/form-data; boundary={BOUNDARY}")


JSON = Submit("/runs", b'{"flow_name":"trivial","params":{"x":1}}', "application/json")
SEED = flow_yaml(SEED_YAML)
CHAIN = flow_yaml(chain_yaml())
USER_MODULE = "bench_tasks"
"""The module of `USER_CHAIN`'s tasks: a gateway takes it when PYOCO_TASK_MODULES lists it."""
USER_CHAIN = flow_yaml(chain_yaml(module=USER_MODULE))

PATHS = {"json": JSON, "flow.yaml": SEED}
"""The two submit paths every end-to-end figure is given for."""
