"""The HTTP gateway: Connexion on openapi.yaml, served by uvicorn.

`create_app(settings, backend)` builds the application; `app_from_env` is uvicorn's factory.
`handlers/` holds one module per OpenAPI tag; `problems` maps the error tree to problem
responses in one table; `access` checks API keys; `_connexion` isolates every use of a
Connexion internal.
"""

from pyoco_server.gateway.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
