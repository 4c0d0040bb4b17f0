"""How ``baas serve`` serves the console (:mod:`baas.api.webconsole`), without a browser: files
of the build, the history fallback, the page shown when the console is not built, and the
paths it leaves to the API (these run whether or not the console is built: each builds a
fake one in a temporary folder)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from baas.api import webconsole


@dataclass
class Client:
    """Calls to an ASGI app in this process (httpx's ASGI transport), one event loop each."""

    app: FastAPI

    def request(self, method: str, path: str) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
                return await http.request(method, path)

        # Its own thread: a test module driving Playwright's sync API keeps an event loop
        # running in the main thread.
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, call()).result()

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str) -> httpx.Response:
        return self.request("POST", path)


def app_serving(root: Path) -> Client:
    app = FastAPI()

    @app.get("/api/v1/thing")
    def thing() -> dict[str, str]:
        return {"a": "b"}

    webconsole.mount(app, root)
    return Client(app)


def fake_build(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=app></div>")
    (root / "assets" / "index-1.js").write_text("console.log(1)")
    (root / "assets" / "index-1.css").write_text("body{}")
    return root


def test_files_and_the_history_fallback(tmp_path: Path) -> None:
    http = app_serving(fake_build(tmp_path / "console"))
    script = http.get("/assets/index-1.js")
    assert script.text == "console.log(1)"
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert http.get("/assets/index-1.css").headers["content-type"].startswith("text/css")
    for screen in ("/", "/networks", "/networks/x/deployments/dep_1", "/assets/missing.js"):
        page = http.get(screen)
        assert page.status_code == 200 and "id=app" in page.text, screen
        assert page.headers["content-type"].startswith("text/html")


def test_nothing_outside_the_build_is_reached(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("no")
    http = app_serving(fake_build(tmp_path / "console"))
    for sneaky in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        assert http.get(sneaky).text != "no"
    assert webconsole.find_file(tmp_path / "console", "/assets/../../secret.txt") is None
    assert webconsole.find_file(tmp_path / "console", "/assets") is None  # a folder


def test_the_api_keeps_its_paths_and_methods(tmp_path: Path) -> None:
    http = app_serving(fake_build(tmp_path / "console"))
    assert http.get("/api/v1/thing").json() == {"a": "b"}
    assert http.get("/api/v1/nothing").status_code == 404
    assert http.get("/api").status_code == 404
    assert http.get("/openapi.json").headers["content-type"] == "application/json"
    assert http.post("/networks").status_code == 404  # not 405: the console takes GET only
    assert http.get("/docs/anything").status_code == 404


def test_a_missing_build_says_how_to_build_it(tmp_path: Path) -> None:
    http = app_serving(tmp_path / "nothing-here")
    page = http.get("/networks")
    assert page.status_code == 200
    assert "bash scripts/build-ui.sh" in page.text
    assert not webconsole.built(tmp_path / "nothing-here")


def test_the_package_ships_the_build_where_it_looks() -> None:
    """The folder the server reads is the one build-ui.sh writes (and pyproject ships)."""
    root = Path(str(webconsole.console_root()))
    assert root == Path(webconsole.__file__).parent / "console"
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"baas.api" = ["console/*.html", "console/*.svg", "console/assets/*"]' in pyproject
    script = (Path(__file__).parents[2] / "scripts" / "build-ui.sh").read_text()
    assert "out=baas/api/console" in script
