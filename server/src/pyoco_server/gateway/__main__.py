"""Serve the gateway with uvicorn: `python -m pyoco_server.gateway --host H --port P`.

`pyoco-server up` runs this as a child process; settings come from the environment.
"""

from __future__ import annotations

import argparse

import uvicorn

from pyoco_server.gateway.httpwrites import OneWriteProtocol


def parser() -> argparse.ArgumentParser:
    """The command line: the few uvicorn options the gateway takes."""
    parser = argparse.ArgumentParser(prog="python -m pyoco_server.gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    return parser


def main() -> None:
    """Parse the command line and serve `app_from_env()`."""
    args = parser().parse_args()
    uvicorn.run(
        "pyoco_server.gateway.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        http=OneWriteProtocol,  # a response's headers and body in one write (httpwrites.py)
    )


if __name__ == "__main__":
    main()
