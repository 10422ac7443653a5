"""The dashboard's page and files as HTTP: served by the gateway, with their security and
cache headers, the language chosen by setting or Accept-Language, and no key needed for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.dashboard import page_language
from tests.support.processes import Gateway, start_gateway

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def security_headers_of(headers: object) -> None:
    assert headers["content-security-policy"] == CSP  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "no-referrer"  # type: ignore[index]


def test_the_page_and_its_files(gateway: Gateway) -> None:
    with gateway.client() as client:
        page = client.get("/")
        script = client.get("/ui/app.js")
        style = client.get("/ui/style.css")
        table = client.get("/ui/i18n/ja.json")
        cached = client.get("/ui/app.js", headers={"If-None-Match": script.headers["etag"]})
        head = client.head("/ui/views/runs.js")
        missing = client.get("/ui/nothing.js")
        outside = client.get("/ui/../app.py")
        posted = client.post("/")
        docs = client.get("/docs/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    security_headers_of(page.headers)
    assert '<script type="module" src="/ui/app.js">' in page.text
    assert "<script>" not in page.text  # no inline script anywhere
    assert '<meta name="pyoco-auth" content="none">' in page.text
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=300"
    security_headers_of(script.headers)
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert table.json()["nav_runs"] == "ラン"
    assert (cached.status_code, cached.content) == (304, b"")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert missing.status_code == 404
    assert outside.status_code == 404
    assert posted.status_code == 405
    assert docs.status_code == 200  # the API's Swagger UI moved from /ui/ to /docs/
    assert "swagger" in docs.text.lower()


def test_language_by_setting_or_browser(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(
        settings,
        tmp_path,
        PYOCO_DASHBOARD_LANG="ja",
        PYOCO_HTTP_AUTH_MODE="api_key",
        PYOCO_HTTP_API_KEY_HEADER="X-Team-Key",
    )
    with gateway.client() as client:
        page = client.get("/", headers={"Accept-Language": "en-US"})
        runs = client.get("/runs")
    assert '<html lang="ja">' in page.text
    assert '<meta name="pyoco-auth" content="api_key">' in page.text
    assert '<meta name="pyoco-key-header" content="X-Team-Key">' in page.text
    assert page.status_code == 200  # the page needs no key
    assert runs.status_code == 401  # the API does
    gateway.process.stop()


@pytest.mark.parametrize(
    ("setting", "header", "expected"),
    [
        ("auto", "ja-JP,ja;q=0.9,en-US;q=0.8", "ja"),
        ("auto", "en-US,en;q=0.9,ja;q=0.8", "en"),
        ("auto", "fr-FR,ja;q=0.5,en;q=0.4", "ja"),
        ("auto", "en;q=0.2,ja;q=0.7", "ja"),
        ("auto", "de-DE", "en"),
        ("auto", None, "en"),
        ("auto", "ja;q=abc", "en"),
        ("en", "ja", "en"),
        ("ja", "en", "ja"),
    ],
)
def test_page_language(setting: str, header: str | None, expected: str) -> None:
    assert page_language(setting, header) == expected
