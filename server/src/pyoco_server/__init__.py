"""pyoco-server: distributed execution of Pyoco workflows on NATS JetStream.

The subpackages are the layers, each using only those below it (pinned by import-linter):

    cli                  pyoco-server and pyoco-server-admin
    gateway  local       the HTTP gateway | `up` and the embedded nats-server
    jetstream  memory    the NATS adapter | the in-memory backend (both provide the ports)
    services             submit, cancel, list, watch, dead letters, registry, keys
    ports                the Protocols the services, the gateway and the worker use
    logs  aio            process plumbing (log format, asyncio helpers)
    domain               records, rules, codec, settings, errors
    contracts            openapi.yaml, asyncapi.yaml and their validators

The worker (`pyoco_worker`) uses the domain, the ports, the services and the adapter, never the
gateway or `local`.
"""
