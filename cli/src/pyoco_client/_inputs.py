"""What the command line reads from the user: the server URL, parameters, files.

Each function either returns a value ready for `Client` or raises `InputError` naming the flag
or file, what is wrong with it (with line and column for JSON and YAML) and how to fix it.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import httpx
import yaml

from pyoco_client._errors import InputError

JsonObject = dict[str, Any]

_PARAMS_EXAMPLE = """--params '{"x": 2}'"""

_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),  # before int: True is an int too
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
)


def server_url(text: str) -> str:
    """`text` if it is an http(s) URL with a host.

    Raises:
        InputError: It is not.
    """
    hint = "give the gateway's URL, such as --server http://127.0.0.1:8000 (or PYOCO_SERVER_URL)"
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise InputError(f"--server {text!r} is not a valid URL: {exc}", hint) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InputError(f"--server {text!r} is not an http:// or https:// URL", hint)
    return text


def read_file(path: str, what: str) -> bytes:
    """The content of the file at `path`; `what` names it in errors ("the workflow file").

    Raises:
        InputError: The file cannot be read.
    """
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read {what} {path!r}: {exc.strerror or exc}",
            "check the path (relative paths start from the current directory) and its permissions",
        ) from None


def json_object(text: str, source: str) -> JsonObject:
    """The JSON object in `text`; `source` names where it came from ("--params").

    Raises:
        InputError: `text` is not valid JSON, or not an object.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            f"give a JSON object, quoted for the shell: {_PARAMS_EXAMPLE}",
        ) from None
    _check_json(value, source)
    return _object(value, source, f"give a JSON object such as {_PARAMS_EXAMPLE}")


def params_file(path: str) -> JsonObject:
    """The parameters in a JSON (`*.json`) or YAML file holding one object.

    Raises:
        InputError: The file cannot be read, does not parse, or does not hold an object.
    """
    raw = read_file(path, "the params file")
    source = f"--params-file {path!r}"
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 text: {exc.reason}", "save it as UTF-8") from None
    if Path(path).suffix.lower() == ".json":
        return json_object(text, source)
    value = _yaml(text, source)
    _check_json(value, source)
    return _object(value, source, "write a mapping of names to values, such as 'x: 2'")


def param_pairs(pairs: Sequence[str]) -> JsonObject:
    """Parameters from `--param KEY=VALUE` flags; later flags win.

    VALUE is parsed as JSON when it can be (`x=2` gives 2, `x=[1]` a list) and kept as text
    otherwise (`x=hello`); an empty VALUE gives "".

    Raises:
        InputError: A pair has no "=" or an empty key.
    """
    params: JsonObject = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(
                f"--param {pair!r} is not KEY=VALUE",
                "write one parameter per flag, such as --param x=2 --param name=alice",
            )
        params[key] = _param_value(value)
    return params


def merged_params(
    file_path: str | None, params_json: str | None, pairs: Sequence[str]
) -> JsonObject | None:
    """The parameters of `submit`: --params-file, then --params, then --param, key by key.

    Returns:
        The merged parameters, or None when no flag gave any.
    """
    if file_path is None and params_json is None and not pairs:
        return None
    params: JsonObject = {}
    if file_path is not None:
        params.update(params_file(file_path))
    if params_json is not None:
        params.update(json_object(params_json, "--params"))
    params.update(param_pairs(pairs))
    return params


def moment(text: str, now: float | None = None) -> float:
    """A point in time as Unix seconds, from ISO 8601 or an age back from now.

    `2026-11-30T14:05` (local time unless it names a zone: `Z`, `+09:00`), `2026-11-30`
    (midnight), an age (`30s`, `10m`, `2h`, `1d`; `1.5h` too) or Unix seconds (`1764511509`).

    Raises:
        ValueError: `text` is none of these.
    """
    text = text.strip()
    if match := _AGE.fullmatch(text):
        return (time.time() if now is None else now) - float(match[1]) * _AGE_UNITS[match[2]]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: give ISO 8601 (2026-11-30T14:05, local unless it ends with "
            "Z or +hh:mm), an age (30s, 10m, 2h, 1d) or Unix seconds"
        ) from None


class Moment(click.ParamType[float, Any]):
    """A click type for `moment`: a time as ISO 8601, an age (`10m`) or Unix seconds."""

    name = "time"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The Unix time `value` stands for (a number is taken as it is)."""
        if isinstance(value, float | int):
            return float(value)
        try:
            return moment(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def retry_policy(max_attempts: int | None, backoff_sec: float | None) -> JsonObject | None:
    """The retry policy of `--retry-max-attempts` and `--retry-backoff`; None for neither.

    Raises:
        InputError: `--retry-backoff` without `--retry-max-attempts`.
    """
    if max_attempts is None:
        if backoff_sec is not None:
            raise InputError(
                "--retry-backoff needs --retry-max-attempts",
                "say how many attempts in all, such as --retry-max-attempts 3 --retry-backoff 5",
            )
        return None
    policy: JsonObject = {"max_attempts": max_attempts}
    if backoff_sec is not None:
        policy["backoff_sec"] = backoff_sec
    return policy


def comma_list(text: str | None) -> list[str] | None:
    """Items of a comma-separated option (`--tags`, `--requires`), blanks dropped; or None."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def _param_value(text: str) -> Any:
    if not text:
        return ""
    try:
        return json.loads(text, parse_constant=_refuse)
    except ValueError:
        return text


def _refuse(constant: str) -> Any:
    """NaN and Infinity are not JSON; `x=NaN` stays the text "NaN"."""
    raise ValueError(constant)


def _yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        where = exc.problem_mark
        at = f" at line {where.line + 1} column {where.column + 1}" if where else ""
        raise InputError(
            f"{source} is not valid YAML: {exc.problem}{at}", "fix the file's syntax"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source} is not valid YAML: {exc}", "fix the file's syntax") from None


def _check_json(value: Any, source: str) -> None:
    """Refuse what JSON cannot carry (YAML dates and sets, NaN) here, not in the request."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{source} holds a value JSON cannot carry: {exc}",
            "quote dates and other special values so they are strings",
        ) from None


def _object(value: Any, source: str, hint: str) -> JsonObject:
    if not isinstance(value, dict):
        raise InputError(f"{source} must be an object, not {_kind(value)}", hint)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null (empty)"
    for kind, name in _KINDS:
        if isinstance(value, kind):
            return name
    return type(value).__name__
