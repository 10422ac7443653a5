"""What the tests share, apart from fixtures (which live in the conftest.py files).

- `processes`: child processes (gateway, worker, `pyoco-server up`), ports, environments, pids;
- `waiting`: waiting on conditions with timeouts (never fixed sleeps), `TERMINAL`;
- `flows`: the seed flow.yaml, flow.yaml builders and a flow resolver for workers;
- `tasks`: task callables only tests use (the shipped package keeps just the demo tasks);
- `samples`: sample records for unit tests;
- `memory`: the in-memory backend (`pyoco_server.memory`), seeded for unit tests;
- `fakes`: fakes beyond the in-memory backend: a clock, executors, deliveries, a spy on ports;
- `runner`: a job runner on the memory backend; `pool`: process pools under test;
- `servers`: HTTP servers standing in for what the client may meet instead of a gateway;
- `runs`: submitting and reading runs over HTTP; `dlq`: the dead-letter API's pages;
- `cli`: ways to run pyoco-client; `sse`: an event-stream reader; `nats`: direct NATS access;
- `fuzzing`: schemathesis settings and the app under test of the contract tests.

Test modules import from here and never from each other.
"""
