"""The dashboard's strings: both tables hold the same keys, every key the code and the markup
use is in them, no visible text is written into the markup or the code, and no data reaches
the page as markup (no innerHTML, no insertAdjacentHTML, no document.write)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from pyoco_server.gateway.dashboard import UI_DIR
from tests.support.processes import ROOT

TABLES = {name: json.loads((UI_DIR / "i18n" / f"{name}.json").read_text()) for name in ("en", "ja")}
SCRIPTS = {path: path.read_text() for path in sorted(UI_DIR.rglob("*.js"))}
TERM_PREFIXES = (
    "status",
    "task",
    "attempt",
    "worker",
    "reason",
    "waiting",
    "stopping",
    "wheel_action",
    "live",
    "theme",
    "lang",
    "since",
)
API_WORDS = {
    "latency_p50_ms",
    "latency_p95_ms",
    "forbidden_role",
    "forbidden_tenant",
    "api_key",
    "max_deliveries_exceeded",
    "invalid_job",
    "flow_not_found",
    "callable_not_allowed",
    "code_unavailable",
    "execution_error",
}
ENUMS = {
    "status": ["PENDING", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"],
    "task": ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"],
    "attempt": ["RUNNING", "COMPLETED", "FAILED", "CANCELLED", "LOST"],
    "worker": ["RUNNING", "IDLE", "STOPPED_GRACEFUL", "DISCONNECTED"],
    "reason": [
        "flow_not_found",
        "invalid_workflow",
        "callable_not_allowed",
        "code_unavailable",
        "execution_error",
        "crashed",
        "timeout",
        "max_deliveries_exceeded",
        "lost",
        "cancelled",
        "invalid_job",
    ],
    "waiting": ["no_worker", "workers_busy", "retry_scheduled", "queued"],
    "stopping": ["cancel", "timeout"],
    "live": ["connecting", "live", "reconnecting", "paused", "stopped", "ended"],
}


def test_both_tables_have_the_same_keys_and_no_empty_string() -> None:
    assert set(TABLES["en"]) == set(TABLES["ja"])
    for name, table in TABLES.items():
        assert all(isinstance(text, str) and text.strip() for text in table.values()), name
        for key, text in table.items():  # placeholders match between the languages
            assert set(re.findall(r"\{(\w+)\}", text)) == set(
                re.findall(r"\{(\w+)\}", TABLES["en"][key])
            ), key


def test_every_enum_value_shown_has_a_string() -> None:
    for prefix, values in ENUMS.items():
        for value in values:
            assert f"{prefix}_{value}" in TABLES["en"], f"{prefix}_{value}"


def is_key(literal: str) -> bool:
    """A key, a prefix of keys (`term(prefix, value)`), or a value whose prefixed key exists."""
    return (
        literal in TABLES["en"]
        or literal in TERM_PREFIXES
        or any(f"{prefix}_{literal}" in TABLES["en"] for prefix in TERM_PREFIXES)
    )


def test_every_key_the_code_uses_is_in_the_tables() -> None:
    for path, source in SCRIPTS.items():
        for literal in re.findall(r'"([a-z][a-z0-9]*(?:_[a-z0-9]+)+)"', source):
            assert is_key(literal) or literal in API_WORDS, f"{path.name}: {literal!r} is not a key"
        for key in re.findall(r'\bt\(\s*"([^"]+)"', source):
            assert key in TABLES["en"], f"{path.name}: t({key!r})"


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.keys: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("data-i18n") and value:
                self.keys.append(value)
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.text.append(f"{name}={value}")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def test_the_markup_has_no_text_of_its_own() -> None:
    markup = _Markup()
    markup.feed((UI_DIR / "index.html").read_text())
    assert markup.text == []
    assert markup.keys
    assert all(key in TABLES["en"] for key in markup.keys)


def test_the_code_writes_no_text_and_no_markup() -> None:
    for path, source in SCRIPTS.items():
        for forbidden in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ):
            assert forbidden not in source, f"{path.name} uses {forbidden}"
        # A string literal with words as a child of an element: text not from a table.
        literal_child = re.findall(
            r'\bel\(\s*"\w+"\s*,\s*(?:\{[^{}]*\}|null)\s*,\s*"([^"]*[A-Za-z]{2}[^"]*)"', source
        )
        assert literal_child == [], f"{path.name}: {literal_child}"
        assert re.findall(r'\.textContent\s*=\s*"[^"]*[A-Za-z]', source) == [], path.name


def test_every_file_the_page_and_modules_name_is_there() -> None:
    page = (UI_DIR / "index.html").read_text()
    named = re.findall(r'(?:href|src)="/ui/([^"]+)"', page)
    assert "app.js" in named
    for name in named:
        assert (UI_DIR / name).is_file(), name
    for path, source in SCRIPTS.items():
        for module in re.findall(r'from "(\.{1,2}/[^"]+)"', source):
            assert (path.parent / module).resolve().is_file(), f"{path.name} imports {module}"
    modules = {path.relative_to(UI_DIR).as_posix() for path in SCRIPTS}
    assert modules - {"app.js"} <= set(named), "every module is preloaded by the page"


def test_the_files_ship_in_the_wheel(tmp_path: Path) -> None:
    built = subprocess.run(
        ["uv", "build", "--wheel", str(ROOT / "server"), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("pyoco_server-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    for path in UI_DIR.rglob("*"):
        if path.is_file():
            name = "pyoco_server/gateway/ui/" + path.relative_to(UI_DIR).as_posix()
            assert name in shipped, name
