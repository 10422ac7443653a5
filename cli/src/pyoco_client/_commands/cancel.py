"""`cancel`: stop a run, and with --wait, see it end.

A PENDING run is CANCELLED at once. A RUNNING one is CANCELLING while its worker stops it: pyoco
is asked to stop, and a task that ignores that is killed with its process at the snapshot's
`stopping.deadline_at` (the worker's grace, PYOCO_CANCEL_GRACE_PERIOD_SEC, 10 s by default).
Without --timeout-sec, --wait therefore waits until that deadline and a margin (at least
`DEFAULT_WAIT_SEC` while the worker has not said its deadline yet), and never gives up on a run
its worker is still entitled to stop.
"""

from __future__ import annotations

import time

import click

from pyoco_client._calls import TERMINAL_STATUSES, JsonObject
from pyoco_client._client import Client
from pyoco_client._commands.runid import run_id_argument
from pyoco_client._errors import TimedOut
from pyoco_client._output import emit
from pyoco_client._session import pass_client

MARGIN_SEC = 5.0
"""Time a run gets past its kill deadline to be written CANCELLED (and for clock skew)."""

DEFAULT_WAIT_SEC = 15.0 + MARGIN_SEC
"""What --wait waits at least: the server's default grace (10 s) with room, and a margin."""


@click.command()
@pass_client
@run_id_argument
@click.option("--reason", help="Why, recorded with the run.")
@click.option("--wait", is_flag=True, help="Wait until the run has ended, then print it.")
@click.option(
    "--timeout-sec",
    type=click.FloatRange(0, min_open=True),
    help="With --wait, give up after this long (exit 1)  [default: until the worker's kill "
    f"deadline (stopping.deadline_at) and {MARGIN_SEC:g} s, at least {DEFAULT_WAIT_SEC:g} s]",
)
def cancel(
    client: Client, run_id: str, reason: str | None, wait: bool, timeout_sec: float | None
) -> None:
    """Cancel run RUN_ID: PENDING ends at once, RUNNING is stopped by its worker."""
    snapshot = client.cancel(run_id, reason)
    if wait and timeout_sec is not None:
        snapshot = client.wait(run_id, timeout=timeout_sec)
    elif wait:
        snapshot = wait_stopped(client, snapshot, time.time() + DEFAULT_WAIT_SEC)
    emit(snapshot)


def wait_stopped(client: Client, snapshot: JsonObject, deadline: float) -> JsonObject:
    """The run's terminal snapshot, waiting until `deadline` or the run's kill deadline + margin.

    The worker writes `stopping.deadline_at` once it is stopping the run, so the wait is made of
    watches that each end at the latest deadline known when it starts.

    Raises:
        TimedOut: The run had not ended by then.
    """
    run_id = snapshot["run_id"]
    started = time.monotonic()
    last_event_id = None
    while snapshot["status"] not in TERMINAL_STATUSES:
        deadline = max(deadline, _kill_deadline(snapshot) + MARGIN_SEC)
        remaining = deadline - time.time()
        if remaining <= 0:
            raise TimedOut(client.base_url, time.monotonic() - started, run_id)
        try:
            for event in client.watch(run_id, last_event_id=last_event_id, timeout=remaining):
                last_event_id = event.id or last_event_id
                snapshot = event.snapshot or snapshot
        except TimedOut:
            if _kill_deadline(snapshot) + MARGIN_SEC <= deadline:
                raise TimedOut(client.base_url, time.monotonic() - started, run_id) from None
    return snapshot


def _kill_deadline(snapshot: JsonObject) -> float:
    """When the worker kills the run's process (Unix time); 0 while it has not said."""
    stopping = snapshot.get("stopping") or {}
    return float(stopping.get("deadline_at") or 0.0)
