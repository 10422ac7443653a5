"""docs/architecture.md stays true to the code: it names every handler module, port and channel."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Protocol

from pyoco_server import ports
from pyoco_server.contracts import channel_addresses
from tests.support.processes import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()
HANDLERS = ROOT / "server" / "src" / "pyoco_server" / "gateway" / "handlers"


def named(name: str) -> bool:
    return re.search(rf"`[^`]*\b{re.escape(name)}\b[^`]*`", DOC) is not None


def test_every_handler_module_is_named() -> None:
    modules = [path.name for path in HANDLERS.glob("*.py") if path.name != "__init__.py"]
    assert modules
    missing = [name for name in modules if not named(f"handlers/{name}")]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_every_port_is_named() -> None:
    protocols = [
        name
        for name, member in inspect.getmembers(ports, inspect.isclass)
        if member.__module__.startswith(ports.__name__) and Protocol in member.__mro__[1:]
    ]
    assert "RunStore" in protocols
    assert "Backend" in protocols
    missing = [name for name in protocols if not named(name)]
    assert not missing, f"docs/architecture.md does not name the ports {missing}"


def test_every_asyncapi_channel_is_named() -> None:
    missing = [channel for channel in channel_addresses() if not named(channel)]
    assert not missing, f"docs/architecture.md does not name the channels {missing}"


def test_the_layer_diagram_is_there() -> None:
    assert "```mermaid" in DOC
    for layer in ("gateway", "jetstream", "memory", "services", "ports", "domain", "contracts"):
        assert f"{layer}[" in DOC, layer


def test_the_readmes_for_newcomers_exist() -> None:
    for readme in (Path("server/README.md"), Path("worker/README.md")):
        text = (ROOT / readme).read_text()
        assert "start" in text.lower(), readme
