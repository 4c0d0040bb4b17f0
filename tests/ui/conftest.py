"""Fixtures of the browser tests: a real ``baas serve`` (the API tests' :class:`ApiServer`, with
a token of every role) serving the built console, and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work here, so the browser is ``/usr/bin/chromium``
(``BAAS_CHROMIUM`` overrides it), launched headless. The tests skip, saying why, when it is
missing or the console is not built (``bash scripts/build-ui.sh``; ``make test`` builds it).

Every page records its console's errors and warnings and the exceptions thrown in it; a test
ends with none, except the ones it declares expected (:meth:`ConsoleLog.expect`, e.g. the
browser's own "Failed to load resource … 401" line of a refused sign-in). Screenshots go to
``tests/ui/screenshots/`` (git-ignored), one per screen a test looks at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Page as BrowserPage

from baas.api import webconsole
from tests.api.support import ApiServer, Tokens, server_env

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
"""How long a test waits for the page to reach a state (never a bound it asserts on)."""


def chromium_path() -> str | None:
    wanted = os.environ.get("BAAS_CHROMIUM") or "/usr/bin/chromium"
    return wanted if Path(wanted).is_file() else shutil.which("chromium")


@dataclass
class ConsoleServer:
    server: ApiServer
    tokens: Tokens

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def console_built() -> None:
    if not webconsole.built():
        pytest.skip("the web console is not built: run `bash scripts/build-ui.sh` (Node.js 20)")


@pytest.fixture(scope="module")
def console(
    console_built: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """``baas serve`` on SQLite with no Fabric binaries (an ``up`` fails in its preflight)."""
    home = tmp_path_factory.mktemp("ui")
    url = f"sqlite:///{home / 'api.sqlite3'}"
    server = ApiServer(home=home, database_url=url, env=server_env(home, url, fabric=False))
    db = server.database()
    db.migrate()
    made = Tokens.create(db)
    db.dispose()
    server.start()
    yield ConsoleServer(server, made)
    server.stop()


@pytest.fixture(scope="module")
def browser(console_built: None) -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium: `bash scripts/install-system.sh` installs Debian's chromium "
            "(or set BAAS_CHROMIUM to a Chromium binary)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class ConsoleLog:
    """The page's console errors and warnings and its uncaught exceptions, as text."""

    lines: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        """Lines matching ``pattern`` (a regular expression) are expected, not failures."""
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [x for x in self.lines if not any(p.search(x) for p in self.expected)]


@dataclass
class Page:
    """A fresh browser context's page on the console (its own sessionStorage), and its log."""

    page: BrowserPage
    log: ConsoleLog
    base: str

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target


@pytest.fixture
def page(browser: Browser, console: ConsoleServer) -> Iterator[Page]:
    context = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    log = ConsoleLog()
    opened.on(
        "console",
        lambda m: (
            log.lines.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    opened.on("pageerror", lambda e: log.lines.append(f"pageerror: {e}"))
    yield Page(opened, log, console.url)
    context.close()
    assert log.unexpected() == [], "the page logged errors or warnings"
