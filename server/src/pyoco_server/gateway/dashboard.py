"""The dashboard: its page at `/` and its files at `/ui/...`, served in front of Connexion.

The files are plain ES modules, CSS, SVG and two string tables (`ui/`, shipped in the wheel as
package data); there is no build step. They are read once when the gateway starts and served
from memory with an ETag (a 304 for a matching If-None-Match) and a short max-age, so a new
version is picked up within minutes and a reload costs a round trip, not the bytes.

The page itself needs no API key: it holds no data, only what the browser needs before it can
ask the API: the language (`PYOCO_DASHBOARD_LANG`, or with `auto` the browser's
Accept-Language), whether API keys are on, and the name of the key header
(`PYOCO_HTTP_API_KEY_HEADER`), as `<meta>` tags, escaped, never as a script. Every response
carries a Content-Security-Policy that allows scripts, styles and connections to this origin
only (no inline script, no framing), `X-Content-Type-Options: nosniff` and
`Referrer-Policy: no-referrer`.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._headers import header

UI_DIR = Path(__file__).resolve().parent / "ui"
PREFIX = "/ui/"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
ASSET_MAX_AGE_SEC = 300

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
}
_LANGUAGES = ("en", "ja")
_LANGUAGE_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([^\s,;]*))?"
)


class Asset:
    """One file of the dashboard, in memory."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def load_assets(directory: Path = UI_DIR) -> dict[str, Asset]:
    """Every servable file under `directory`, by its path below `/ui/`."""
    assets = {}
    for path in sorted(directory.rglob("*")):
        content_type = _TYPES.get(path.suffix)
        if path.is_file() and content_type is not None and path.name != "index.html":
            name = path.relative_to(directory).as_posix()
            assets[name] = Asset(path.read_bytes(), content_type)
    return assets


def page_language(setting: str, accept_language: str | None) -> str:
    """`ja` or `en`: the setting, or with `auto` the browser's preferred one of the two."""
    if setting in _LANGUAGES:
        return setting
    best, best_q = "en", 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        match = _LANGUAGE_RANGE.match(part)
        if match is None or match.group(1).lower() not in _LANGUAGES:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        quality -= position * 1e-6  # equal weights: the first listed wins
        if quality > best_q:
            best, best_q = match.group(1).lower(), quality
    return best


class Dashboard:
    """Renders the page and looks up the files."""

    def __init__(self, settings: Settings, directory: Path = UI_DIR) -> None:
        self._settings = settings
        self._template = (directory / "index.html").read_text(encoding="utf-8")
        self.assets = load_assets(directory)

    def page(self, accept_language: str | None) -> bytes:
        """The page, with its `<meta>` settings filled in (escaped)."""
        values = {
            "lang": page_language(self._settings.dashboard_lang, accept_language),
            "auth": self._settings.http_auth_mode,
            "key_header": self._settings.http_api_key_header,
        }
        text = self._template
        for name, value in values.items():
            text = text.replace("{{" + name + "}}", html.escape(str(value), quote=True))
        return text.encode("utf-8")


class DashboardMiddleware:
    """ASGI layer answering `/` and `/ui/...`; every other request goes on to the API."""

    def __init__(self, app: ASGIApp, *, dashboard: Dashboard) -> None:
        self.app = app
        self._dashboard = dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a dashboard path, or pass the request on."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/" and not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _send(
                send, scope, 405, b"method not allowed\n", "text/plain", [(b"allow", b"GET, HEAD")]
            )
        elif path == "/":
            headers = [(b"cache-control", b"no-cache"), (b"vary", b"Accept-Language")]
            page = self._dashboard.page(_header(scope, b"accept-language"))
            await _send(send, scope, 200, page, _TYPES[".html"], headers)
        else:
            await self._asset(scope, send, path.removeprefix(PREFIX))

    async def _asset(self, scope: Scope, send: Send, name: str) -> None:
        asset = self._dashboard.assets.get(name)
        if asset is None:
            await _send(send, scope, 404, b"not found\n", "text/plain", [])
            return
        headers = [
            (b"etag", asset.etag.encode()),
            (b"cache-control", b"public, max-age=%d" % ASSET_MAX_AGE_SEC),
        ]
        if asset.etag in (_header(scope, b"if-none-match") or ""):
            await _send(send, scope, 304, b"", None, headers)
            return
        await _send(send, scope, 200, asset.body, asset.content_type, headers)


def _header(scope: Scope, name: bytes) -> str | None:
    value = header(scope, name)
    return None if value is None else value.decode("latin-1")


async def _send(
    send: Send,
    scope: Scope,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: list[tuple[bytes, bytes]],
) -> None:
    all_headers = [*SECURITY_HEADERS, *headers]
    if content_type is not None:
        all_headers.append((b"content-type", content_type.encode()))
    if status != 304:
        all_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
