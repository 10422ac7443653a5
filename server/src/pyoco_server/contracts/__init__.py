"""The contracts: openapi.yaml and asyncapi.yaml, shipped in this package, and their validators."""

from pyoco_server.contracts._payloads import (
    SchemaViolation,
    compile_all,
    validate_openapi_schema,
    validate_payload,
)
from pyoco_server.contracts._specs import (
    ASYNCAPI_PATH,
    OPENAPI_PATH,
    channel_addresses,
    load_asyncapi,
    load_openapi,
    message_names,
    message_payload_schema,
    openapi_schema,
)

__all__ = [
    "ASYNCAPI_PATH",
    "OPENAPI_PATH",
    "SchemaViolation",
    "channel_addresses",
    "compile_all",
    "load_asyncapi",
    "load_openapi",
    "message_names",
    "message_payload_schema",
    "openapi_schema",
    "validate_openapi_schema",
    "validate_payload",
]
