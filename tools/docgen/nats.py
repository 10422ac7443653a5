"""The NATS half of docs/api.md, from asyncapi.yaml: channels, who sends what, the messages."""

from __future__ import annotations

from typing import Any

from .schemas import properties, section, type_of

INTRO = """\
## NATS messages

Channels are shown with the default names (`PYOCO_*_SUBJECT_PREFIX` and the bucket settings
rename them, see [config.md](config.md)). Each message says its content type; the gateway and
the workers validate the JSON payloads against these schemas when they write and read them.
"""


def nats_sections(spec: dict[str, Any]) -> list[str]:
    """The channels with their operations and messages, then the message schemas."""
    operations: dict[str, list[str]] = {}
    for name, operation in spec["operations"].items():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        title = operation.get("title", name)
        operations.setdefault(channel, []).append(f"- {operation['action']}: {title} (`{name}`)")
    lines = [INTRO]
    for name, channel in spec["channels"].items():
        lines += [f"### {channel.get('title', name)}", "", f"Address: `{channel['address']}`", ""]
        if description := channel.get("description"):
            lines += [description.strip(), ""]
        messages = [
            type_of({"$ref": message["$ref"]}, "message")
            for message in channel.get("messages", {}).values()
            if "$ref" in message
        ]
        if messages:
            lines += ["Messages: " + ", ".join(messages), ""]
        lines += [*operations.get(name, []), ""]
    lines += ["### Messages", ""]
    for name, message in spec["components"]["messages"].items():
        lines += _message(name, message)
    lines += ["## NATS schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        lines += section(name, schema, "nats")
    return lines


def _message(name: str, message: dict[str, Any]) -> list[str]:
    lines = [f"#### {name} {{#message-{name.lower()}}}", ""]
    if title := message.get("title"):
        lines += [f"**{title}**", ""]
    for key in ("summary", "description"):
        if text := message.get(key):
            lines += [text.strip(), ""]
    lines += [
        f"Content type: `{message.get('contentType', 'application/json')}`; payload: "
        f"{type_of(message.get('payload', {}), 'nats')}",
        "",
    ]
    headers = message.get("headers", {})
    if headers.get("properties"):
        lines += ["Headers:", "", *properties(headers, "nats")]
    return lines
