"""The HTTP gateway."""

import warnings

# Connexion 3.3 imports starlette.testclient, which warns about httpx on every start.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from pyoco_server.gateway.app import create_app  # noqa: E402

__all__ = ["create_app"]
