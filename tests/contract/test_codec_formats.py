"""The codec and asyncapi.yaml agree: one wire format per message, each field of each record."""

from __future__ import annotations

import dataclasses

from pyoco_server.contracts import message_names, message_payload_schema
from pyoco_server.domain.codec import FORMATS


def test_every_asyncapi_message_has_exactly_one_wire_format() -> None:
    assert sorted(wire.message for wire in FORMATS) == message_names()


def test_every_record_field_is_a_property_of_its_message() -> None:
    for wire in FORMATS:
        properties = set(message_payload_schema(wire.message).get("properties", {}))
        fields = {field.name for field in dataclasses.fields(wire.record)}  # type: ignore[arg-type]
        assert fields <= properties, (wire.message, sorted(fields - properties))
