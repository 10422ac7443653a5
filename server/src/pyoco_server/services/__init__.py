"""The services: what the gateway (and, for exhausted deliveries, the worker) does, on ports only.

- `runs`: submit (PENDING snapshot, then the job), read and cancel runs;
- `idempotency`: submits that honour an Idempotency-Key;
- `index`, `watching`: the in-memory run index behind listing, and the fan-out behind watches;
- `deadletters`: page through dead letters and drive them again;
- `exhaustion`: end the runs whose jobs ran out of deliveries;
- `workers`: the registry as shown (derived states, hiding);
- `keys`: the gateway's API-key cache and the admin's key operations.

None of them imports `nats` or the gateway; each takes the ports it needs.
"""

from pyoco_server.services.deadletters import DeadLetterService
from pyoco_server.services.exhaustion import MaxDeliveriesHandler
from pyoco_server.services.idempotency import IdempotentSubmits
from pyoco_server.services.index import RunIndex
from pyoco_server.services.keys import ApiKeyCache, ApiKeyService
from pyoco_server.services.runs import RunService, Submission
from pyoco_server.services.watching import WatchHub
from pyoco_server.services.workers import WorkerService

__all__ = [
    "ApiKeyCache",
    "ApiKeyService",
    "DeadLetterService",
    "IdempotentSubmits",
    "MaxDeliveriesHandler",
    "RunIndex",
    "RunService",
    "Submission",
    "WatchHub",
    "WorkerService",
]
