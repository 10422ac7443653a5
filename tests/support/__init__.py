"""What the tests share, apart from fixtures (which live in the conftest.py files).

- `processes`: child processes (gateway, worker, nats-server helpers), ports, environments;
- `waiting`: waiting on conditions with timeouts (never fixed sleeps), `TERMINAL`;
- `flows`: the seed flow.yaml and a flow resolver for workers;
- `tasks`: task callables only tests use (the shipped package keeps just the demo tasks);
- `samples`: sample records for unit tests;
- `memory`: the in-memory backend (`pyoco_server.memory`), seeded for unit tests;
- `fakes`: fakes beyond the in-memory backend: executors, deliveries, a spy on ports;
- `cli`: ways to run pyoco-client; `sse`: an event-stream reader; `nats`: direct NATS access;
- `fuzzing`: schemathesis settings shared by the contract tests.

Test modules import from here and never from each other.
"""
