"""Security headers on every response of a real ``baas serve`` (SQLite and PostgreSQL): the
routes' JSON, errors from the handlers, the 401/413/422 problems and idempotent replays the
middleware sends itself, Server-Sent Events (which keep streaming), the OpenAPI document and
the docs page with its assets. The docs page is self-contained: no URL to another host,
every asset it names served by the server, its one inline script allowed by hash only.
Plus, in-process, the 500 that Starlette's outermost error layer sends."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from baas.api.app import create_app
from baas.api.settings import ApiSettings
from tests.api.conftest import Api
from tests.api.support import read_events, two_orgs

FIXED = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
YAML = {"Content-Type": "application/yaml"}
Call = Callable[[Api], httpx.Response]


def assert_secured(response: httpx.Response) -> None:
    """The four fixed headers, once each, and a policy that allows only the server itself."""
    for name, value in FIXED.items():
        assert response.headers.get_list(name) == [value], (name, response.headers)
    [csp] = response.headers.get_list("content-security-policy")
    directives = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, _, sources = part.partition(" ")
        directives[name] = sources
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    for name, sources in directives.items():
        for source in sources.split():
            assert source in ("'self'", "'none'", "data:") or source.startswith("'sha256-"), (
                name,
                source,
            )
    assert "unsafe" not in csp and "*" not in csp and "http" not in csp


def _get(path: str, token: str | None = None) -> Call:
    def call(api: Api) -> httpx.Response:
        secret = getattr(api.tokens, token) if token else None
        with api.server.client(secret) as http:
            return http.get(path)

    return call


def _bad_token(api: Api) -> httpx.Response:
    with api.server.client("baas_not-a-token") as http:
        return http.get("/api/v1/networks")


def _too_large(api: Api) -> httpx.Response:
    with api.server.client(api.tokens.admin) as http:
        return http.post("/api/v1/networks", content=b"x" * (1024 * 1024 + 1), headers=YAML)


def _bad_idempotency_key(api: Api) -> httpx.Response:
    with api.server.client(api.tokens.admin, **{"Idempotency-Key": "has spaces"}) as http:
        return http.post("/api/v1/networks/validate", content=two_orgs("hdr-key"), headers=YAML)


def _forbidden(api: Api) -> httpx.Response:
    with api.server.client(api.tokens.viewer) as http:
        return http.post("/api/v1/networks", content=two_orgs("hdr-forbidden"), headers=YAML)


def _invalid(api: Api) -> httpx.Response:
    with api.server.client(api.tokens.viewer) as http:
        return http.post("/api/v1/networks/validate", content=b"kind: [", headers=YAML)


def _wrong_method(api: Api) -> httpx.Response:
    with api.server.client(api.tokens.admin) as http:
        return http.patch("/api/v1/networks")


CALLS: dict[str, tuple[Call, int]] = {
    "health": (_get("/api/v1/health"), 200),
    "version": (_get("/api/v1/version"), 200),
    "list (route JSON)": (_get("/api/v1/networks", "viewer"), 200),
    "no token (401)": (_get("/api/v1/networks"), 401),
    "bad token (401)": (_bad_token, 401),
    "not a role's call (403)": (_forbidden, 403),
    "unknown path (404)": (_get("/api/v1/nothing-here", "admin"), 404),
    "wrong method (405)": (_wrong_method, 405),
    "invalid topology (422)": (_invalid, 422),
    "body over the limit (413, middleware)": (_too_large, 413),
    "bad Idempotency-Key (422, middleware)": (_bad_idempotency_key, 422),
    "openapi": (_get("/openapi.json"), 200),
    "docs": (_get("/docs"), 200),
    "docs asset": (_get("/docs/assets/swagger-ui.css"), 200),
    "unknown docs asset (404)": (_get("/docs/assets/__init__.py"), 404),
}


@pytest.mark.parametrize("case", list(CALLS))
def test_every_kind_of_response_has_the_headers(api: Api, case: str) -> None:
    call, status = CALLS[case]
    response = call(api)
    assert response.status_code == status, response.text
    assert_secured(response)


def test_an_idempotent_replay_has_the_headers(api: Api) -> None:
    """The replay is sent by the Idempotency middleware from the stored response."""
    headers = {"Idempotency-Key": "hdr-replay-1", **YAML}
    with api.server.client(api.tokens.viewer) as http:
        first = http.post("/api/v1/networks/validate", content=two_orgs("hdr-r"), headers=headers)
        again = http.post("/api/v1/networks/validate", content=two_orgs("hdr-r"), headers=headers)
    assert first.status_code == again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert_secured(first)
    assert_secured(again)


def test_server_sent_events_keep_streaming_with_the_headers(api: Api) -> None:
    with api.server.client(api.tokens.admin) as http:
        created = http.post("/api/v1/networks", content=two_orgs("hdr-sse"), headers=YAML)
        assert created.status_code == 201, created.text
        started = http.post("/api/v1/networks/hdr-sse/deployments", json={"action": "up"})
        assert started.status_code == 202, started.text
        job = started.json()["id"]
        with http.stream("GET", f"/api/v1/deployments/{job}/events") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert_secured(stream)
        states = [e.data["data"]["state"] for e in read_events(http, job) if e.kind == "state"]
    assert states == ["queued", "running", "failed"]


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*["']([^"']+)["']""", html)


def test_docs_need_nothing_from_another_host(api: Api) -> None:
    with api.server.client() as http:
        docs = http.get("/docs")
        assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
        assert_secured(docs)
        assert re.findall(r"(?:https?:)?//[\w.-]+", docs.text) == []
        references = _references(docs.text)
        assert len(references) >= 4  # stylesheet, icon, script, the schema
        for reference in references:
            parts = urlsplit(reference)
            assert not parts.scheme and not parts.netloc and reference.startswith("/")
            asset = http.get(reference)
            assert asset.status_code == 200, reference
            assert asset.content and asset.headers["content-type"].split(";")[0] in (
                "text/css",
                "text/javascript",
                "image/png",
                "application/json",
            )
            assert_secured(asset)
        assert http.get("/docs/assets/..%2f..%2fopenapi.json").status_code == 404


def test_the_docs_inline_script_is_allowed_by_its_hash_only(api: Api) -> None:
    with api.server.client() as http:
        docs = http.get("/docs")
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert len(inline) == 1 and "SwaggerUIBundle(" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    csp = docs.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split()[1:] == ["'self'", f"'sha256-{digest}'"]
    assert "'validatorUrl': null" in inline[0].replace('"', "'")


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian: chromium)")
def test_swagger_ui_runs_under_the_policy_in_a_browser(api: Api, tmp_path: Path) -> None:
    """Debian's chromium, headless, loads /docs with the server's headers in force: the
    operations render only if the bundle loaded from the server and the inline initialiser
    ran (a script the policy blocked would leave the page empty)."""
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{api.server.url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', done.stdout))
    assert {"/api/v1/health", "/api/v1/networks", "/api/v1/networks/{name}"} <= rendered


def test_a_500_from_starlettes_error_layer_has_the_headers(tmp_path: Path) -> None:
    """Starlette sends unhandled errors from its own layer outside every user middleware; the
    app's stack is wrapped so that those have the headers too. (In-process: no route of the
    real server fails on purpose; the app, its middleware and its handlers are the real ones.)"""
    app = create_app(ApiSettings(database_url=f"sqlite:///{tmp_path / 'api.sqlite3'}"))

    @app.get("/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("boom")

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://baas") as client:
            return await client.get("/boom")

    response = asyncio.run(get())
    assert response.status_code == 500 and response.json()["code"] == "internal-error"
    assert_secured(response)
